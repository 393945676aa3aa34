"""``python -m alongside.cli`` and the ``alongside`` console script."""

from __future__ import annotations

from alongside.cli.app import app


def main() -> None:
    app(prog_name="alongside")


if __name__ == "__main__":
    main()
