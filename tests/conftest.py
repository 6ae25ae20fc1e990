"""Fixtures shared by every test: demo content, and a real Chromium for browser tests."""

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache

# Playwright's sync API runs an event loop in this thread; the ORM calls made by
# the tests beside it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _clear_sms_outbox():
    """Text messages "sent" by booking.sms.LocmemBackend, like Django's mail.outbox."""
    from booking import sms

    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def demo(db):
    """The demo clinic, as `manage.py load_demo` makes it."""
    from clinic.demo import load_demo

    return load_demo()


# --- Browser -----------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but Chromium is missing at {CHROMIUM}")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


class Visit:
    """A browser context that records every request to another host."""

    def __init__(self, browser, live_server_url, **context_options):
        self.host = urlsplit(live_server_url).netloc
        self.base_url = live_server_url
        self.foreign_requests: list[str] = []
        context_options.setdefault("viewport", {"width": 1280, "height": 900})
        self.context = browser.new_context(base_url=live_server_url, **context_options)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()

    def _route(self, route):
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).netloc == self.host:
            route.continue_()
        else:
            self.foreign_requests.append(url)
            route.abort()

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, live_server):
    """`visit(**context_options)` opens a fresh browser context on the live server."""
    opened = []

    def open_context(**options):
        context = Visit(browser, live_server.url, **options)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()


def axe_violations(page) -> list[dict]:
    """Run axe-core on the page for WCAG 2.2 A/AA; returns the violations."""
    page.add_script_tag(content=AXE_JS.read_text())
    return page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(r => r.violations.map(v => ({id: v.id, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})))",
        WCAG_TAGS,
    )


def screenshot(page, name: str, full_page: bool = True) -> Path:
    """Save a screenshot under var/screenshots/ and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
