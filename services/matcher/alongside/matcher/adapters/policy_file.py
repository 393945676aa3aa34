"""Read the programme's policy document (``POLICY_FILE``) once, at start-up.

Every replica reads the same document (a ConfigMap, a file in the image), so
they agree; the policy's digest is shown by GetPolicy, in each shortlist and
batch result and as a metric, so a replica that does not is visible. A
document that cannot be read, is not YAML (or JSON) or breaks a rule stops
the start with a message naming the file and the field.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from alongside.kit.errors import InvalidArgument
from alongside.kit.settings import ConfigError
from alongside.matcher.domain.policy_document import policy_document
from alongside.matcher.domain.programme_policy import ProgrammePolicy


class PolicyFileError(ConfigError):
    """The policy document is missing, unreadable or breaks a rule; ``field`` names where."""

    def __init__(self, path: str, field: str, message: str) -> None:
        super().__init__(f"POLICY_FILE {path}: {field}: {message}")
        self.field = field


def load_policy(path: str, base: ProgrammePolicy) -> ProgrammePolicy:
    """``base`` with what the document at ``path`` says; ``PolicyFileError`` names the bad field."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyFileError(path, "(file)", f"cannot be read ({type(exc).__name__})") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise PolicyFileError(path, "(document)", f"is not valid YAML{where}") from None
    try:
        return policy_document(doc, base, source=path)
    except InvalidArgument as exc:
        raise PolicyFileError(path, exc.field, str(exc).removeprefix(f"{exc.field}: ")) from None
