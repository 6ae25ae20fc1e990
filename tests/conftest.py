"""Fixtures shared by every test: demo content, and a real Chromium for browser tests."""

import os
import shutil
import time
import uuid
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from django.core.cache import cache
from django.test import Client

# Playwright's sync API runs an event loop in this thread; the ORM calls made by
# the tests beside it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


# --- Several test processes (pytest-xdist, `make test`) ----------------------------------


def _xdist_groups(item) -> list[str]:
    return sorted(
        {
            str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            for mark in item.iter_markers("xdist_group")
        }
    )


def _heaviness(item) -> int:
    """0 for a browser test, 1 for one with real transactions (servers, threads), else 2."""
    if item.get_closest_marker("browser"):
        return 0
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        return 1
    return 2


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """The heaviest tests first, and every test of an `xdist_group` in one process.

    `--dist loadgroup` hands tests out in the order collected (groups first), so the long
    browser walks start at once instead of being left for the end, when the other
    processes would have nothing left to run beside them. (pytest-django would run the
    tests with real transactions after the others, as Django does; they flush the database,
    so no test may count on rows that a migration's data step made.)

    pytest-xdist marks a grouped test by appending "@group" to its node id; since pytest
    9.2 that assignment no longer takes (pytest-xdist issue 1386), so every test of a
    group was sent to any process (test_two_nodes.py started its servers twice). The id
    is set here the way pytest-xdist means to, until it does so itself.
    """
    items.sort(key=_heaviness)  # stable: collection order within each kind
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        groups = _xdist_groups(item)
        suffix = f"@{'_'.join(groups)}"
        if not groups or item.nodeid.endswith(suffix):
            continue
        if hasattr(item, "_id"):
            from _pytest.nodeid import NodeId

            item._id = NodeId.parse(item.nodeid + suffix)
        if not item.nodeid.endswith(suffix):
            warnings.warn(f"{item.nodeid} could not join its xdist_group {groups}", stacklevel=1)


@pytest.fixture(scope="session")
def _migrated_copy(
    request, django_db_modify_db_settings_parallel_suffix, django_db_blocker, tmp_path_factory
):
    """Under pytest-xdist, this process's test database: a copy of one migrated for all
    processes (tests/databases.py). None elsewhere, or with pytest-django's own
    --reuse-db, --create-db or --no-migrations."""
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not run_id or any(
        request.config.getvalue(option) for option in ("reuse_db", "create_db", "nomigrations")
    ):
        yield None
        return
    from django.db import connection

    from tests import databases

    shared = tmp_path_factory.getbasetemp().parent
    original_name = connection.settings_dict["NAME"]
    with django_db_blocker.unblock():
        test_name = databases.copy_migrated_database(connection, shared, run_id)
    yield test_name
    if test_name is None:
        return
    with django_db_blocker.unblock():
        try:
            databases.destroy_copy(connection, original_name)
        finally:
            databases.drop_template(connection, shared)


@pytest.fixture(scope="session")
def django_db_keepdb(request, _migrated_copy):
    """pytest-django uses the copy as it stands (`migrate` finds nothing left to apply)."""
    return bool(request.config.getvalue("reuse_db") or _migrated_copy)


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


@pytest.fixture
def real_redis(settings):
    """The cache on the real Redis, under a key prefix of this test's own."""
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    yield client
    # Only this test's keys: other processes may share the database.
    keys = list(client.scan_iter(f"*{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


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
    """The demo clinic, as `manage.py load_demo` makes it (one content change at the end,
    as the command's: a test with real transactions rebuilds the snapshots once)."""
    from clinic import page_cache
    from clinic.demo import load_demo

    with page_cache.one_renewal():
        return load_demo()


@pytest.fixture(scope="module")
def demo_for_the_module(django_db_setup, django_db_blocker):
    """Everything `manage.py load_demo` makes, loaded once for the module's tests.

    As Django's setUpTestData does: loaded in a transaction that is rolled back after the
    module's last test; each test runs in a savepoint inside it, so its own changes are
    undone after it. For tests without real transactions only (pytest_collection_modifyitems
    runs those first, so none runs inside this transaction).
    """
    from django.core.management import call_command
    from django.db import transaction

    from clinic.models import ClinicDetails

    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_demo", verbosity=0)
        yield ClinicDetails.load()
        transaction.set_rollback(True)


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
            # Nothing leaves this machine: every other host goes to a proxy that is not
            # there (Visit records such requests; a test that loads one fails).
            proxy={"server": "http://127.0.0.1:9", "bypass": "localhost,127.0.0.1,[::1]"},
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
    """A browser context that records every request to another host and every CSP violation.

    Requests are watched, not routed: routing every request through this process makes
    each page load about twice as slow, and turns the browser's cache off.
    """

    def __init__(self, browser, live_server_url, **context_options):
        self.host = urlsplit(live_server_url).netloc
        self.base_url = live_server_url
        self.foreign_requests: list[str] = []
        self.csp_violations: list[dict] = []
        context_options.setdefault("viewport", {"width": 1280, "height": 900})
        self.context = browser.new_context(base_url=live_server_url, **context_options)
        self.context.on("request", self._request)
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

    def _request(self, request):
        url = request.url
        if not url.startswith(("data:", "blob:")) and urlsplit(url).netloc != self.host:
            self.foreign_requests.append(url)

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


def screenshot(page, name: str, full_page: bool = True, always: bool = False) -> Path | None:
    """Save a screenshot under var/screenshots/ and return its path.

    Screenshots are for people to look at; with TEST_SCREENSHOTS=0 (CI) only those a test
    checks itself (`always`) are taken, and the others return None.
    """
    if os.environ.get("TEST_SCREENSHOTS") == "0" and not always:
        return None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
