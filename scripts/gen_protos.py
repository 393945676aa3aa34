"""Generate the Python API package from protos/ into kit/alongside/api/.

protoc names modules after the proto packages (alongside.matcher.v1), which
would land inside the hand-written service packages. So we generate into a
temporary folder, move the tree under alongside.api and rewrite the imports.
The output holds generated code only and is never edited by hand.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
OUT = ROOT / "kit" / "alongside" / "api"
IMPORT = re.compile(r"\b(from|import) alongside\.(?!api\b)")


def main() -> int:
    sources = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    well_known = str(resources.files("grpc_tools") / "_proto")
    with tempfile.TemporaryDirectory() as tmp:
        args = [
            "protoc",
            f"-I{PROTOS}",
            f"-I{well_known}",
            f"--python_out={tmp}",
            f"--pyi_out={tmp}",
            f"--grpc_python_out={tmp}",
            *sources,
        ]
        if protoc.main(args) != 0:
            print("protoc failed", file=sys.stderr)
            return 1
        if OUT.exists():
            shutil.rmtree(OUT)
        shutil.copytree(Path(tmp) / "alongside", OUT)
    for path in OUT.rglob("*.py*"):
        path.write_text(IMPORT.sub(r"\1 alongside.api.", path.read_text()))
    for folder in [OUT, *(p for p in OUT.rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()
    (OUT / "py.typed").touch()
    print(f"generated {len(sources)} protos into {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
