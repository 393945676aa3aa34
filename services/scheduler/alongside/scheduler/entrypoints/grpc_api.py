"""gRPC servicer for the scheduler: maps protobuf to use cases and back."""

from __future__ import annotations

from alongside.api.scheduler.v1 import scheduler_pb2_grpc


class SchedulerServicer(scheduler_pb2_grpc.SchedulerServiceServicer):
    """RPCs not yet implemented answer UNIMPLEMENTED (the generated default)."""
