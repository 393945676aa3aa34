"""The vendored JavaScript is exactly what the manifest says: package, version, sha256."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import alongside.console

VENDOR = Path(alongside.console.__file__).parent / "static" / "vendor"


def test_every_vendored_file_matches_its_recorded_checksum() -> None:
    manifest = json.loads((VENDOR / "MANIFEST.json").read_text())
    listed = {entry["file"] for entry in manifest["files"]}
    on_disk = {p.name for p in VENDOR.iterdir() if p.name != "MANIFEST.json"}
    assert listed == on_disk, "every vendored file is in the manifest, and only those"
    for entry in manifest["files"]:
        assert entry["version"].count(".") == 2, entry  # an exact version, never a range
        digest = hashlib.sha256((VENDOR / entry["file"]).read_bytes()).hexdigest()
        assert digest == entry["sha256"], f"{entry['file']} is not {entry['package']}@{entry['version']}"


def test_pages_load_only_vendored_scripts() -> None:
    base = (Path(alongside.console.__file__).parent / "templates" / "base.html").read_text()
    assert "http://" not in base and "https://" not in base, "no CDN"
    for src in ("/static/vendor/htmx.min.js", "/static/vendor/sse.js", "/static/console.js"):
        assert f'src="{src}"' in base
