from alongside.api.matcher.v1 import events_pb2
from alongside.kit.events.envelope import Event


def test_binary_mode_headers_round_trip() -> None:
    body = events_pb2.MatchDeclined(request_id="r1", peer_id="p1")
    event = Event.of("match.declined", "/alongside/matcher", body, subject="r1", correlation_id="c9")
    headers = event.headers()
    assert headers["Nats-Msg-Id"] == headers["ce-id"] == event.id
    assert headers["ce-specversion"] == "1.0"
    assert headers["ce-type"] == "match.declined"
    assert headers["content-type"] == "application/protobuf"
    assert headers["ce-dataschema"] == "alongside.matcher.v1.MatchDeclined"
    assert event.nats_subject("alongside") == "alongside.match.declined"
    back = Event.from_headers(headers, event.body)
    assert back == event
    assert back.parse(events_pb2.MatchDeclined) == body


def test_missing_attributes_are_rejected() -> None:
    import pytest

    with pytest.raises(ValueError, match="ce-id"):
        Event.from_headers({"ce-type": "x", "ce-source": "y", "ce-time": "2026-01-01T00:00:00+00:00"}, b"")


def test_the_trace_context_travels_as_the_distributed_tracing_extension() -> None:
    from dataclasses import replace

    body = events_pb2.MatchDeclined(request_id="r1", peer_id="p1")
    plain = Event.of("match.declined", "/alongside/matcher", body)
    assert "traceparent" not in plain.headers()  # tracing off: nothing to carry
    traced = replace(plain, traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tracestate="v=1")
    headers = traced.headers()
    assert (headers["traceparent"], headers["tracestate"]) == (traced.traceparent, "v=1")
    assert Event.from_headers(headers, traced.body) == traced
    # Another producer's ce- prefixed attributes are read too.
    prefixed = {k if not k.startswith("trace") else f"ce-{k}": v for k, v in headers.items()}
    assert Event.from_headers(prefixed, traced.body) == traced
