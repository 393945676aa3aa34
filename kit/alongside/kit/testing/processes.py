"""Run services as real child processes, for multi-replica and crash tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager


def spawn(module: str, env: Mapping[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``python -m module`` on a free port; return it once it listens."""
    full = {**os.environ, "LISTEN_ADDR": "127.0.0.1:0", "GRACE_SECONDS": "2", **env}
    proc = subprocess.Popen([sys.executable, "-m", module], env=full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = raw.decode(errors="replace")
        if "listening on" in line:
            return proc, int(line.rsplit(":", 1)[1])
    raise RuntimeError(f"{module} exited before listening (code {proc.wait()})")


def stop(proc: subprocess.Popen[bytes], *, kill: bool = False) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
    try:
        proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
    return proc.returncode


@contextmanager
def replicas(module: str, env: Mapping[str, str], count: int) -> Iterator[list[int]]:
    started = [spawn(module, env) for _ in range(count)]
    try:
        yield [port for _, port in started]
    finally:
        for proc, _ in started:
            stop(proc)
