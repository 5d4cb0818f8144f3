"""What the browser journeys share: signing in and out, and proving an htmx action did not reload the page."""

import re

from playwright.sync_api import Page, expect

MARKER = 42
TIMEOUT_MS = 10_000  # an action's or an expectation's wait, unless a test says otherwise


class Navigations:
    """Counts the main frame's navigations (full loads and history pushes alike)."""

    def __init__(self, page: Page):
        self.count = 0
        page.on("framenavigated", lambda frame: self._seen(page, frame))

    def _seen(self, page: Page, frame) -> None:
        if frame == page.main_frame:
            self.count += 1


def sign_in(page: Page, base_url: str, username: str, *, lands_on: str = "/w/acme/") -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}{lands_on}")
    page.wait_for_load_state()  # the URL changes before the page's deferred scripts have run


def sign_out(page: Page, base_url: str) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


HTMX_BUSY = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"


def htmx_settled(page: Page) -> None:
    """Wait until htmx has no request in flight and has settled its last swap. New content is in the
    DOM before htmx processes its hx- attributes (in the settle step, 20 ms later): a test that
    changes a swapped-in control at once can beat htmx to it, which no person can."""
    page.wait_for_function(f"() => !document.querySelector({HTMX_BUSY!r})")


def mark_page(page: Page) -> None:
    """A value that survives htmx swaps but not a page load."""
    page.evaluate(f"window.__journeyMarker = {MARKER}")


def assert_not_reloaded(page: Page, navigations: Navigations) -> None:
    assert page.evaluate("window.__journeyMarker") == MARKER, "the page was reloaded"
    assert navigations.count == 0, f"the main frame navigated {navigations.count} time(s)"
