"""Several worker processes behind one port (``WORKERS=N``).

A grpc.aio server runs its Python on one core, so one process is one core.
With ``WORKERS`` above 1 the process the orchestrator started becomes a
small supervisor. It fixes the port, starts N copies of the service that
each listen on it with ``SO_REUSEPORT`` (the kernel spreads new connections
over them), passes SIGTERM and SIGINT on, and exits once they have. If a
worker dies on its own, the supervisor stops the others and exits non-zero,
so the orchestrator restarts the whole replica rather than leaving it half
alive. A worker dies with its supervisor, even on SIGKILL.

Each worker is a full replica: its own connections, outbox relay and
consumers, which already work side by side across replicas. With
``METRICS_ADDR`` set, the supervisor serves the sum of the workers' metrics
(``alongside.kit.metrics``).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable
from types import FrameType

from alongside.kit import metrics
from alongside.kit.logging import get_logger
from alongside.kit.settings import Settings

log = get_logger(__name__)
_PR_SET_PDEATHSIG = 1


def serve(module: str, settings: Settings, run_one: Callable[[], int]) -> int:
    """Run ``run_one`` here, or supervise ``settings.workers`` copies of ``python -m module``."""
    if settings.workers <= 1:
        return run_one()
    host, _, port = settings.listen_addr.rpartition(":")
    # Holding a bound (never listening) socket keeps the port ours while the
    # workers start, and tells us which one port 0 picked.
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind((host.strip("[]"), int(port)))
        chosen = holder.getsockname()[1]
        env = {**os.environ, "WORKERS": "1", "REUSE_PORT": "true", "LISTEN_ADDR": f"{host}:{chosen}"}
        if not settings.metrics_addr:
            return _supervise([sys.executable, "-m", module], env, settings.workers)
        # The workers write their metrics to files here; this process serves their sum.
        with tempfile.TemporaryDirectory(prefix="alongside-metrics-") as folder:
            exposer = metrics.expose_workers(settings.metrics_addr, folder)
            exposer.announce(settings.service_name)
            env[metrics.MULTIPROCESS_ENV] = folder
            try:
                return _supervise([sys.executable, "-m", module], env, settings.workers)
            finally:
                exposer.close()


def _supervise(command: list[str], env: dict[str, str], count: int) -> int:
    pids: list[int] = []
    stopping = False

    def stop_all(signum: int = signal.SIGTERM, _frame: FrameType | None = None) -> None:
        nonlocal stopping
        stopping = True
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    for _ in range(count):
        pids.append(subprocess.Popen(command, env=env, preexec_fn=_die_with_parent).pid)
    log.info("workers.started", workers=count)
    failed = False
    for _ in range(count):
        pid, status = os.wait()
        code = os.waitstatus_to_exitcode(status)
        pids.remove(pid)
        if not stopping:  # nobody asked it to stop: the replica is broken
            log.error("workers.worker_exited", code=code)
            failed = True
            stop_all()
        # A worker stopped by our signal before it could handle it had nothing in flight.
        failed = failed or code not in (0, -signal.SIGTERM, -signal.SIGINT)
    return 1 if failed else 0


def _die_with_parent() -> None:
    """In the child, before exec: SIGKILL when the supervisor dies (Linux)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
