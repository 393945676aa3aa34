import io
import json

from alongside.kit import logging

CANARY_EMAIL = "canary.person@example.org"
CANARY_PHONE = "+1 415-555-0199"
CANARY_NAME = "Zebulon Canary"


def _lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_json_lines_carry_service_and_correlation_id() -> None:
    out = io.StringIO()
    logging.configure("matcher", "info", stream=out)
    with logging.correlation("c-123", rpc="/x"):
        logging.get_logger().info("hello", peer_id="p1")
    (line,) = _lines(out)
    assert line["service"] == "matcher"
    assert line["correlation_id"] == "c-123"
    assert line["peer_id"] == "p1"
    assert line["event"] == "hello"
    assert "[redacted]" not in str(line["timestamp"])


def test_personal_fields_and_contact_strings_are_masked() -> None:
    out = io.StringIO()
    logging.configure("notifier", "info", stream=out)
    logging.get_logger().info(
        "sent",
        email=CANARY_EMAIL,
        display_name=CANARY_NAME,
        detail=f"to {CANARY_EMAIL} or {CANARY_PHONE}",
        nested={"phone": CANARY_PHONE, "ok": "p-42"},
        count=3,
    )
    text = out.getvalue()
    for canary in (CANARY_EMAIL, CANARY_PHONE, CANARY_NAME):
        assert canary not in text
    (line,) = _lines(out)
    assert line["count"] == 3
    assert line["nested"] == {"phone": "[redacted]", "ok": "p-42"}


def test_stdlib_loggers_are_redacted_too() -> None:
    import logging as std

    out = io.StringIO()
    logging.configure("scheduler", "info", stream=out)
    std.getLogger("some.library").warning("failed for %s", CANARY_EMAIL)
    assert CANARY_EMAIL not in out.getvalue()
    assert "some.library" in out.getvalue()


def test_with_tracing_on_lines_carry_trace_and_span_ids_beside_the_correlation_id() -> None:
    from alongside.kit import tracing
    from alongside.kit.testing.spans import recording

    out = io.StringIO()
    logging.configure("matcher", "info", stream=out)
    with recording(), logging.correlation("c-9"), tracing.span("work") as span:
        logging.get_logger().info("inside")
    logging.get_logger().info("outside")
    inside, outside = _lines(out)
    context = span.get_span_context()
    assert inside["correlation_id"] == "c-9"
    assert inside["trace_id"] == format(context.trace_id, "032x")
    assert inside["span_id"] == format(context.span_id, "016x")
    assert "trace_id" not in outside and "span_id" not in outside
