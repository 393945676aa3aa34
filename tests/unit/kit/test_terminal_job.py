"""``as_terminal_job``: a child started through it takes Ctrl-C even when the
test run itself ignores SIGINT (a background job of a non-interactive shell,
as `make test &` in a script is); a child started plainly would not."""

from __future__ import annotations

import json
import subprocess
import sys

from alongside.kit.testing.processes import as_terminal_job

# Prints whether Python turned SIGINT into KeyboardInterrupt in this process.
PROBE = [sys.executable, "-c", "import signal; print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)"]
# Runs the command given as JSON with SIGINT ignored, as such a background job starts.
IGNORING = (
    "import json, signal, subprocess, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "sys.exit(subprocess.run(json.loads(sys.argv[1])).returncode)"
)


def from_a_runner_that_ignores_sigint(command: list[str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", IGNORING, json.dumps(command)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_terminal_job_takes_ctrl_c_even_when_the_test_run_ignores_it() -> None:
    assert from_a_runner_that_ignores_sigint(as_terminal_job(PROBE)) == "True"


def test_a_plain_child_of_such_a_run_would_ignore_ctrl_c() -> None:
    # What made the CLI's Ctrl-C tests wait in vain when the suite ran in the background.
    assert from_a_runner_that_ignores_sigint(PROBE) == "False"
