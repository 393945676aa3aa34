"""gRPC servicer for the matcher: maps protobuf to use cases and back."""

from __future__ import annotations

from alongside.api.matcher.v1 import matcher_pb2_grpc


class MatcherServicer(matcher_pb2_grpc.MatcherServiceServicer):
    """RPCs not yet implemented answer UNIMPLEMENTED (the generated default)."""
