"""Browser tests: a real Chromium (Debian's, not Playwright's download) driving the live server."""

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.e2e.journey import TIMEOUT_MS

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse ORM calls
# made by the test (factories, assertions) as "async unsafe".
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def browser_unavailable(what: str) -> None:
    """Skip a browser test whose browser is missing — or fail it where CI demands one (REQUIRE_BROWSER=1)."""
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"{what} is required here (REQUIRE_BROWSER=1) but is not available")
    pytest.skip(f"{what} not available")


@pytest.fixture(scope="session")
def browser() -> Iterator:
    executable = shutil.which("chromium")
    if executable is None:
        browser_unavailable("Chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        browser_unavailable("Playwright for Python (pip install playwright)")
    # expect() waits 5 s by default, apart from the context's 10 s: on a loaded 2-core machine a
    # journey's upload or recompute can take longer than that. One budget for both.
    expect.set_options(timeout=TIMEOUT_MS)
    playwright = sync_playwright().start()
    try:
        try:
            chromium = playwright.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS
            )
        except Exception as error:  # e.g. a Chromium too broken to start
            browser_unavailable(f"Chromium at {executable} ({error})")
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser) -> Iterator:
    """A page in a fresh context (own cookies, own session) for each test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()
