"""gRPC servicer for the notifier: maps protobuf to use cases and back."""

from __future__ import annotations

from alongside.api.notifier.v1 import notifier_pb2_grpc


class NotifierServicer(notifier_pb2_grpc.NotifierServiceServicer):
    """RPCs not yet implemented answer UNIMPLEMENTED (the generated default)."""
