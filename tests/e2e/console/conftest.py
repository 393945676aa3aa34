"""The console in a real browser: headless Debian chromium driven by Playwright,
against the console process and the e2e stack (tests/e2e/conftest.py).

Every page a test visits goes through ``Browse.visit`` / ``Browse.settled``,
which runs axe-core on it and fails on any serious or critical violation,
and every console message about the Content-Security-Policy fails the test.
``make test`` installs chromium from the Debian packages when it is missing;
without it these tests fail (never skip).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from alongside.kit.testing.auth import TEST_SECRET
from alongside.kit.testing.processes import Child

from ..conftest import Stack
from ..observe import leaks

HERE = Path(__file__).parent
AXE = HERE / "axe.min.js"
# axe-core 4.14.1: `npm pack axe-core@4.14.1`, then package/axe.min.js.
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Screenshots go to docs/console only when asked (`make screenshots`), so a
# test run leaves the tree as it found it; otherwise to a temporary folder.
SHOTS = Path(os.environ.get("ALONGSIDE_SCREENSHOTS") or Path(tempfile.gettempdir()) / "alongside-console-shots")
SERIOUS = ("serious", "critical")
AXE_RUN = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}))"""


def console_env(stack: Stack, **extra: str) -> dict[str, str]:
    return {
        "CONSOLE_ADDR": "127.0.0.1:0",
        "MATCHER_ADDR": stack.address("matcher"),
        "SCHEDULER_ADDR": stack.address("scheduler"),
        "NOTIFIER_ADDR": stack.address("notifier"),
        "DEV_SIGN_IN": "true",
        "AUTH_HS256_SECRET": TEST_SECRET,
        "LOG_LEVEL": "debug",
        **stack.collector.env(),  # traced like the services: its spans are checked for canaries too
        **extra,
    }


@dataclass
class Console:
    child: Child

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.child.port}"


@pytest.fixture(scope="session")
def console(stack: Stack) -> Iterator[Console]:
    child = Child("alongside.console", console_env(stack))
    try:
        yield Console(child)
    finally:
        try:
            stack.retired_output.append(child.output())  # the privacy checks read its log too
        finally:
            child.close()  # even when its log cannot be read: never leave the process running


@pytest.fixture(autouse=True)
def planted(console: Console, stack: Stack) -> Iterator[set[str]]:
    """After every test: the console's log and every span exported (the
    console's calls and what they caused) hold no planted name, address or
    participant reference (tests add their references to the yielded set)."""
    planted: set[str] = set()
    yield planted
    assert leaks(console.child.output(), stack.canaries | planted) == [], "personal data in the console's log"
    for span in stack.collector.everything():
        assert leaks(span.text, stack.canaries | planted) == [], f"personal data in the span {span.name}"


@pytest.fixture(scope="session")
def axe_source() -> str:
    data = AXE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == AXE_SHA256, "tests/e2e/console/axe.min.js is not the pinned axe-core"
    return data.decode()


@pytest.fixture(scope="session")
def chromium() -> str:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: `make test` installs Debian's chromium"
    return CHROMIUM


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        yield launched
        await launched.close()


@dataclass
class Browse:
    """One person's browser window on the console, with the checks every page gets."""

    base: str
    context: BrowserContext
    page: Page
    axe_source: str
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    async def visit(self, path: str) -> Any:
        response = await self.page.goto(self.base + path)
        await self.settled()
        return response

    async def settled(self) -> None:
        """Wait for the page, then run axe-core on it: no serious or critical violation."""
        await self.page.wait_for_load_state("domcontentloaded")
        await self.page.evaluate(self.axe_source)  # not a <script> tag: the CSP would (rightly) refuse it
        result = await self.page.evaluate(AXE_RUN)
        serious = [v for v in result if v["impact"] in SERIOUS]
        assert serious == [], f"axe-core on {self.page.url}:\n" + json.dumps(serious, indent=1)
        self.checked.append(self.page.url)

    async def sign_in(self, role: str, subject: str) -> None:
        await self.visit("/sign-in")
        await self.page.locator(f"#role-{role}").check()
        await self.page.locator("#field-subject").fill(subject)
        async with self.page.expect_navigation():
            await self.page.locator("form[action='/sign-in/dev'] button[type=submit]").click()
        await self.settled()

    async def shot(self, name: str, *, full_page: bool = True) -> None:
        """<name>.png in SHOTS (docs/console with `make screenshots`, for docs/console.md)."""
        os.makedirs(SHOTS, exist_ok=True)
        await self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


OpenWindow = Callable[..., Awaitable["Browse"]]


@pytest.fixture
async def open_window(browser: Browser, console: Console, axe_source: str) -> AsyncIterator[OpenWindow]:
    """``await open_window()`` -> a fresh window (its own cookies) on the console."""
    windows: list[Browse] = []

    async def open_one(base: str | None = None) -> Browse:
        context = await browser.new_context(viewport={"width": 1100, "height": 900}, locale="en-GB")
        page = await context.new_page()
        window = Browse(base or console.url, context, page, axe_source)
        page.on("console", lambda m: window.problems.append(m.text) if "Content Security Policy" in m.text else None)
        page.on("pageerror", lambda e: window.problems.append(f"script error: {e}"))
        windows.append(window)
        return window

    yield open_one
    for window in windows:
        await window.context.close()
    for window in windows:
        assert window.problems == [], window.problems


def tag() -> str:
    return uuid.uuid4().hex[:10]
