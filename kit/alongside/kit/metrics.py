"""Prometheus metrics: how a service is doing, never whom it is about.

Every label value comes from a fixed vocabulary: RPC method names, status
codes, consumer names, channels and outcomes. No id, name or other value
from a request becomes a label, so nothing personal can reach a metric (the
tests plant canaries and scrape for them). Which service a series belongs
to is the scrape target's own ``job`` and ``instance``.

``METRICS_ADDR`` (host:port, off when empty) serves them over HTTP. A
replica with ``WORKERS`` above 1 serves the sum over its workers from the
supervisor: each worker writes its values to files in a folder the
supervisor made (prometheus_client's multiprocess mode), and only the
supervisor listens.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from threading import Thread
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector

from alongside.kit import tracing

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

RPCS = Counter("alongside_rpcs", "RPCs answered, by method and status code", ("method", "code"))
RPC_SECONDS = Histogram(
    "alongside_rpc_seconds",
    "Time from a call's arrival in the handler to its answer, by method",
    ("method",),
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
EVENTS_PUBLISHED = Counter("alongside_events_published", "Outbox events published to JetStream and acknowledged")
RELAY_FAILURES = Counter("alongside_outbox_relay_failures", "Outbox relay passes that failed and will be retried")
EVENTS_CONSUMED = Counter(
    "alongside_events_consumed",
    "Events a consumer finished with, by outcome (handled, duplicate, retried, dead_lettered)",
    ("consumer", "outcome"),
)
DELIVERIES = Counter(
    "alongside_notification_deliveries",
    "Notification delivery attempts by channel and outcome (sent, retry, failed, withdrawn, held)",
    ("channel", "outcome"),
)
AUDIT_RECORDS = Counter("alongside_audit_records", "Audit records stored on the AUDIT stream")
AUDIT_FAILURES = Counter("alongside_audit_write_failures", "Audit batches that could not be stored (calls refused)")
# Found while reading the trail (outcome): unreadable, missing, unsigned, bad_signature.
AUDIT_PROBLEMS = Counter("alongside_audit_problems", "Audit records the reader could not trust", ("outcome",))


class RpcMetrics:
    """Counts and times RPCs; each label set is looked up once, then kept.

    With tracing on, a call's time carries its trace as an exemplar (in the
    OpenMetrics exposition), so a slow bucket links to a trace. A worker's
    values are summed from files, which keep no exemplars."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], Counter] = {}
        self._seconds: dict[str, Histogram] = {}
        self._exemplars = not in_worker()

    def observe(self, method: str, code: str, seconds: float) -> None:
        count = self._counts.get((method, code))
        if count is None:
            count = self._counts[(method, code)] = RPCS.labels(method, code)
        count.inc()
        timer = self._seconds.get(method)
        if timer is None:
            timer = self._seconds[method] = RPC_SECONDS.labels(method)
        ids = tracing.sampled_ids()
        if ids is None or not self._exemplars:
            timer.observe(seconds)
        else:
            timer.observe(seconds, exemplar={"trace_id": ids[0], "span_id": ids[1]})


@dataclass
class Exposer:
    """The HTTP endpoint serving ``/metrics``."""

    server: WSGIServer
    thread: Thread
    host: str

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def announce(self, service: str) -> None:
        """The start-up line that says where (port 0 picks one)."""
        print(f"{service} metrics on {self.host}:{self.port}", flush=True)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def _split_addr(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    return host.strip("[]"), int(port)


def expose(addr: str) -> Exposer:
    """Serve this process's metrics on ``addr``."""
    host, port = _split_addr(addr)
    server, thread = start_http_server(port, host)
    return Exposer(server, thread, host)


def expose_workers(addr: str, folder: str) -> Exposer:
    """Serve the sum of the metrics the workers write to ``folder``."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]  # untyped upstream
    host, port = _split_addr(addr)
    server, thread = start_http_server(port, host, registry=registry)
    return Exposer(server, thread, host)


def in_worker() -> bool:
    """True in a worker whose supervisor serves the metrics."""
    return bool(os.environ.get(MULTIPROCESS_ENV))
