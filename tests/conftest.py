"""Fixtures shared by every test: demo content, and a real Chromium for browser tests."""

import os
import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.test import Client

# Playwright's sync API runs an event loop in this thread; the ORM calls made by
# the tests beside it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the site's default language, whatever ran before it.

    A request leaves its language active in the thread; without this, a test's
    outcome would depend on which test ran before it in the same process.
    """
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3 API on localhost (tests/s3.py), one per test process."""
    from tests import s3

    return s3.s3_server()


@pytest.fixture(autouse=True)
def _clear_sms_outbox():
    """Text messages "sent" by booking.sms.LocmemBackend, like Django's mail.outbox."""
    from booking import sms

    sms.outbox.clear()
    yield
    sms.outbox.clear()


# --- Staff logins -------------------------------------------------------------
#
# Staff who must use two factors reach the admin only with a verified session
# (clinic/two_factor.py). In tests, `client.force_login(staff)` stands for a
# complete staff login: password, second factor and the staff session's limits.
# Tests of the login itself use the real login pages, or `password_only_login`.

_django_force_login = Client.force_login
TEST_DEVICE_NAME = "test authenticator"


def authenticator_for(user):
    """The user's confirmed authenticator app, made for the test if it has none."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name=TEST_DEVICE_NAME, confirmed=True)


def current_code(device) -> str:
    """The code the authenticator app shows now (or the next one, if now's was used)."""
    from django_otp.oath import TOTP

    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if device.last_t is not None and totp.t() <= device.last_t:
        # A code is accepted once; the next step's code is within the tolerance.
        totp.time = (device.last_t + 1) * device.step + device.t0
    return format(totp.token(), f"0{device.digits}d")


def _verified_force_login(self, user, backend=None):
    from django_otp import DEVICE_ID_SESSION_KEY

    from clinic.security import LAST_SEEN_KEY

    _django_force_login(self, user, backend)
    if user.is_staff:
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = authenticator_for(user).persistent_id
        session[LAST_SEEN_KEY] = int(time.time())
        session.set_expiry(0)
        session.save()


@pytest.fixture(autouse=True)
def _force_login_is_verified(monkeypatch):
    monkeypatch.setattr(Client, "force_login", _verified_force_login)


@pytest.fixture
def password_only_login():
    """`password_only_login(client, user)`: logged in with the password, no second factor."""

    def log_in(client, user):
        from clinic.security import LAST_SEEN_KEY

        _django_force_login(client, user)
        session = client.session
        session[LAST_SEEN_KEY] = int(time.time())
        session.save()

    return log_in


def log_in_verified(page, username: str, password: str = "correct-horse-battery") -> None:
    """Log a staff member in through the real pages: password, then the app's code.

    The member gets an authenticator app first if they have none.
    """
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=username)
    device = authenticator_for(user)
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.locator("#login-form [type=submit]").click()
    assert "/admin/two-factor/code/" in page.url, f"{username} was not asked for a code"
    page.fill("#id_code", current_code(device))
    with page.expect_navigation():
        page.locator("#two-factor-form [type=submit]").click()
    assert "/admin/login/" not in page.url and "/two-factor/" not in page.url, (
        f"{username} could not log in: {page.url}"
    )


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


# Every page records what its Content-Security-Policy refused, both into the page
# (read before the context closes) and to the test at once (a page may navigate
# away before anyone reads it).
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const violation = {
    page: document.location.href,
    directive: event.effectiveDirective || event.violatedDirective,
    blocked: event.blockedURI,
    source: event.sourceFile + ":" + event.lineNumber,
    sample: event.sample,
  };
  window.__cspViolations.push(violation);
  if (window.__reportCspViolation) window.__reportCspViolation(violation).catch(() => {});
});
"""


class Visit:
    """A browser context that records every request to another host and every CSP violation."""

    def __init__(self, browser, live_server_url, **context_options):
        self.host = urlsplit(live_server_url).netloc
        self.base_url = live_server_url
        self.foreign_requests: list[str] = []
        self.csp_violations: list[dict] = []
        context_options.setdefault("viewport", {"width": 1280, "height": 900})
        self.context = browser.new_context(base_url=live_server_url, **context_options)
        self.context.route("**/*", self._route)
        self.context.expose_binding("__reportCspViolation", self._csp_violation)
        self.context.add_init_script(RECORD_CSP_VIOLATIONS)
        self.page = self.context.new_page()

    def _csp_violation(self, source, violation):
        if violation not in self.csp_violations:
            self.csp_violations.append(violation)

    def collect_csp_violations(self) -> list[dict]:
        """Violations reported so far, including those still held in open pages."""
        for page in self.context.pages:
            try:
                recorded = page.evaluate("window.__cspViolations || []")
            except Exception:
                continue  # closed, navigating, or JavaScript switched off
            for violation in recorded:
                self._csp_violation(None, violation)
        return self.csp_violations

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
    violations = []
    for context in opened:
        violations += context.collect_csp_violations()
        context.close()
    if violations:
        pytest.fail(f"The Content-Security-Policy refused something: {violations}")


def axe_violations(page) -> list[dict]:
    """Run axe-core on the page for WCAG 2.2 A/AA; returns the violations."""
    # Evaluated, not added as a <script>: the Content-Security-Policy refuses inline scripts.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text() + "\n;undefined")
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
