"""Run services as real child processes, for multi-replica and crash tests;
start a command as a terminal starts its foreground job (for Ctrl-C tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

# Reset SIGINT and SIGQUIT to their defaults, then become the command (same pid).
_AT_DEFAULTS = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "signal.signal(signal.SIGQUIT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])"
)


def as_terminal_job(command: Sequence[str]) -> list[str]:
    """``command`` started as a terminal starts its foreground job: SIGINT
    (Ctrl-C) and SIGQUIT at their defaults, whatever this process has.

    A non-interactive shell starts a background job (``make test &`` in a
    script or CI) with SIGINT and SIGQUIT ignored; exec keeps an ignored
    signal ignored, and a Python that starts with SIGINT ignored never turns
    it into KeyboardInterrupt. A test that presses Ctrl-C on a child it
    started plainly then waits for nothing, but only when the suite itself
    was started that way."""
    return [sys.executable, "-S", "-c", _AT_DEFAULTS, *command]


class Child:
    """A service process whose output goes to a log file (never a pipe that
    could fill up and stall it)."""

    def __init__(self, module: str, env: Mapping[str, str], timeout: float = 60.0) -> None:
        full = {**os.environ, "LISTEN_ADDR": "127.0.0.1:0", "GRACE_SECONDS": "2", **env}
        fd, name = tempfile.mkstemp(prefix=f"{module}-", suffix=".log")
        self.log = Path(name)
        self.proc = subprocess.Popen([sys.executable, "-m", module], env=full, stdout=fd, stderr=subprocess.STDOUT)
        os.close(fd)
        self.port = self._wait_listening(module, timeout)

    def _wait_listening(self, module: str, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # Whole lines only: a read may catch the line half written ("...:4" of ":42221").
            for line in self.log.read_text(errors="replace").split("\n")[:-1]:
                if "listening on" in line:
                    return int(line.rsplit(":", 1)[1])
            if self.proc.poll() is not None:
                raise RuntimeError(f"{module} exited with {self.proc.returncode}: {self.output()[-2000:]}")
            time.sleep(0.02)
        raise TimeoutError(f"{module} did not start within {timeout}s")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, *, kill: bool = False) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode

    def close(self) -> None:
        self.stop()
        self.log.unlink(missing_ok=True)


@contextmanager
def replicas(module: str, env: Mapping[str, str], count: int) -> Iterator[list[int]]:
    started = [Child(module, env) for _ in range(count)]
    try:
        yield [child.port for child in started]
    finally:
        for child in started:
            child.close()


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc), e.g. a supervisor's workers."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            found.append(int(entry.name))
    return found


def is_relay(pid: int) -> bool:
    """Whether ``pid`` is an outbox relay child (``OUTBOX_RELAY=process``)."""
    try:
        return b"alongside.kit.events.relay_process" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU of ``pids`` so far (Linux /proc)."""
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total
