"""deploy/alerts/alongside-rules.yaml holds to what the services export: every
metric an alert's expression names is in the Prometheus registry once the
modules that define metrics are imported (not a copied list), every label it
matches or groups by is one those metrics carry, every status code and
outcome it matches is one they can take, and every alert points at its own
section of docs/operations.md."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from prometheus_client import REGISTRY

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "deploy" / "alerts" / "alongside-rules.yaml"
RUNBOOK = ROOT / "docs" / "operations.md"
# Every module that defines metrics, and every service's wiring (which imports the rest).
METRIC_MODULES = (
    "alongside.kit.metrics",
    "alongside.matcher.bootstrap",
    "alongside.scheduler.bootstrap",
    "alongside.notifier.bootstrap",
)
# Labels Prometheus adds to every scraped series (the scrape target's).
TARGET_LABELS = frozenset({"job", "instance"})
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "gauge": ("",),
    "info": ("_info",),
}
KEYWORDS = frozenset(
    {
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "and",
        "or",
        "unless",
        "offset",
        "inf",
        "nan",
    }
)


# --- a small PromQL reader: names, selectors' label matchers, grouping labels -----------------

MATCHER = re.compile(r'(?P<label>[a-zA-Z_]\w*)\s*(?P<op>=~|!~|!=|=)\s*"(?P<value>(?:[^"\\]|\\.)*)"')
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\((?P<labels>[^)]*)\)")
# A name that a "(" follows is a function's; the lookahead also keeps a name from being cut short.
SELECTOR = re.compile(r"(?P<name>[a-zA-Z_:][\w:]*)(?![\w:]|\s*\()\s*(?:\{(?P<matchers>[^}]*)\})?")
NAME = re.compile(r"[a-zA-Z_:][\w:]*")


def selectors(expr: str) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Each metric selector of ``expr``: its name and its label matchers."""
    text = GROUPING.sub(" ", expr)
    text = re.sub(r"\[[^\]]*\]", " ", text)  # range and subquery durations
    found = []
    for m in SELECTOR.finditer(text):
        name = m["name"]
        start = m.start()
        if name.lower() in KEYWORDS or (start and (text[start - 1].isdigit() or text[start - 1] == ".")):
            continue
        matchers = [(x["label"], x["op"], x["value"]) for x in MATCHER.finditer(m["matchers"] or "")]
        found.append((name, matchers))
    return found


def grouping_labels(expr: str) -> set[str]:
    return {label for m in GROUPING.finditer(expr) for label in NAME.findall(m["labels"])}


def test_the_reader_finds_names_matchers_and_grouping() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (job, le) (rate(a_seconds_bucket{code=~"A|B", x!="y"}[5m]))) > 1e3'
        " / on (job) group_left b_total unless c:recorded offset 5m"
    )
    assert selectors(expr) == [
        ("a_seconds_bucket", [("code", "=~", "A|B"), ("x", "!=", "y")]),
        ("b_total", []),
        ("c:recorded", []),
    ]
    assert grouping_labels(expr) == {"job", "le"}


# --- what the services export -----------------------------------------------------------------


def exported() -> dict[str, tuple[frozenset[str], str]]:
    """Every sample name the services' registry can serve, with its labels and documentation."""
    for module in METRIC_MODULES:
        importlib.import_module(module)
    labels_of: dict[str, frozenset[str]] = {}
    # The registry keeps each collector (and so its label names) only in this private map.
    for collector, names in REGISTRY._collector_to_names.items():
        for name in names:
            labels_of[name] = frozenset(getattr(collector, "_labelnames", ()))
    out: dict[str, tuple[frozenset[str], str]] = {}
    for family in REGISTRY.collect():
        for suffix in SUFFIXES.get(family.type, ("",)):
            name = family.name + suffix
            extra = {"le"} if suffix == "_bucket" else set()
            out[name] = (labels_of.get(name, frozenset()) | extra, family.documentation)
    return out


def vocabulary(label: str, documentation: str) -> set[str] | None:
    """The values a label can take: status codes are gRPC's; an outcome's are listed in the metric's help."""
    if label == "code":
        return {code.name for code in grpc.StatusCode}
    listed = re.search(r"\(([a-z_]+(?:, [a-z_]+)+)\)", documentation) if label == "outcome" else None
    return set(listed[1].split(", ")) if listed else None


# --- the rules ----------------------------------------------------------------------------------


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    assert (document["apiVersion"], document["kind"]) == ("monitoring.coreos.com/v1", "PrometheusRule")
    return [rule for group in document["spec"]["groups"] for rule in group["rules"]]


def anchors(markdown: str) -> set[str]:
    """GitHub's anchors for the headings of a Markdown file."""
    out = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", markdown, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower().replace("`", "")).replace(" ", "-")
        out.add(slug)
    return out


ALERTS = rules()


def test_the_rules_cover_what_the_runbook_promises() -> None:
    names = [rule["alert"] for rule in ALERTS]
    assert len(names) == len(set(names))
    metrics = {name for rule in ALERTS for name, _ in selectors(rule["expr"])}
    assert {
        "alongside_outbox_relay_failures_total",
        "alongside_events_consumed_total",
        "alongside_audit_write_failures_total",
        "alongside_notification_deliveries_total",
        "alongside_rpcs_total",
    } <= metrics


@pytest.mark.parametrize("rule", ALERTS, ids=[rule["alert"] for rule in ALERTS])
def test_every_metric_label_and_value_is_one_the_services_export(rule: dict[str, Any]) -> None:
    known = exported()
    found = selectors(rule["expr"])
    assert found, "the expression names no metric"
    labels_in_expr: set[str] = set(TARGET_LABELS)
    for name, matchers in found:
        assert name in known, f"{name} is not exported by the services"
        labels, documentation = known[name]
        labels_in_expr |= labels
        for label, op, value in matchers:
            assert label in labels | TARGET_LABELS, f"{name} has no label {label!r} (it has {sorted(labels)})"
            allowed = vocabulary(label, documentation)
            if allowed is not None:
                values = value.split("|") if op in ("=~", "!~") else [value]
                assert set(values) <= allowed, f"{name}{{{label}}} never takes {sorted(set(values) - allowed)}"
    assert grouping_labels(rule["expr"]) <= labels_in_expr, "grouping by a label no metric here has"


@pytest.mark.parametrize("rule", ALERTS, ids=[rule["alert"] for rule in ALERTS])
def test_every_alert_explains_itself_and_points_at_its_runbook_section(rule: dict[str, Any]) -> None:
    annotations = rule["annotations"]
    assert annotations["summary"].strip() and annotations["description"].strip()
    assert rule["labels"]["severity"] in ("warning", "critical")
    path, _, anchor = annotations["runbook_url"].partition("#")
    assert path == "docs/operations.md"
    assert anchor == rule["alert"].lower(), "each alert has a section of its own name"
    assert anchor in anchors(RUNBOOK.read_text()), f"docs/operations.md has no section #{anchor}"


def test_the_runbooks_own_links_resolve() -> None:
    text = RUNBOOK.read_text()
    links = set(re.findall(r"\]\(#([\w-]+)\)", text))
    assert links and links <= anchors(text)
