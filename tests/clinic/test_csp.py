"""Content-Security-Policy and Permissions-Policy: what the pages may load and use."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import log_in_verified
from tests.factories import UserFactory

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_public_pages_allow_no_inline_script_or_style_and_no_other_hosts(client, demo):
    response = client.get("/da/")
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no nonce
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    # Cached copies carry it too.
    assert client.get("/da/")["Content-Security-Policy"] == response["Content-Security-Policy"]


def test_the_admin_allows_inline_styles_but_never_inline_scripts(client, demo):
    client.force_login(UserFactory(username="eva", groups=["Editors"]))
    policy = directives(client.get("/admin/"))
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    login_policy = directives(client.get("/admin/login/"))
    assert "'unsafe-inline'" not in login_policy["script-src"]


def test_the_rich_text_editors_import_map_carries_the_pages_nonce(client, demo):
    from clinic.models import Page

    client.force_login(UserFactory(username="eva", groups=["Editors"]))
    page = Page.objects.first()
    response = client.get(f"/admin/clinic/page/{page.pk}/change/")
    assert response.status_code == 200
    nonces = [value for value in directives(response)["script-src"] if value.startswith("'nonce-")]
    assert len(nonces) == 1
    nonce = nonces[0][len("'nonce-") : -1]
    html = response.content.decode()
    importmap = re.search(r'<script type="importmap"[^>]*>', html)[0]
    assert f'nonce="{nonce}"' in importmap
    # A second request gets a new nonce.
    again = directives(client.get(f"/admin/clinic/page/{page.pk}/change/"))["script-src"]
    assert f"'nonce-{nonce}'" not in again


def test_permissions_policy_switches_off_what_the_site_never_uses(client, demo):
    for path in ("/da/", "/admin/login/"):
        header = client.get(path)["Permissions-Policy"]
        for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
            assert f"{feature}=()" in header, (path, feature)


def test_templates_hold_no_inline_scripts_or_event_handler_attributes():
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        for match in re.finditer(r"<script\b([^>]*)>", text):
            attributes = match.group(1)
            if "src=" not in attributes and "application/ld+json" not in attributes:
                offenders.append(f"{template.relative_to(TEMPLATES)}: {match.group(0)}")
        for match in re.finditer(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", text):
            offenders.append(f"{template.relative_to(TEMPLATES)}: {match.group(0)}")
    assert offenders == []


@pytest.mark.browser
def test_the_browser_tests_notice_what_the_policy_refuses(visit, demo, live_server):
    context = visit()
    page = context.page
    page.goto("/da/")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.ran = true'; document.body.append(s); }"
    )
    assert page.evaluate("window.ran === undefined")
    violations = context.collect_csp_violations()
    assert [v["directive"] for v in violations] == ["script-src-elem"]
    context.csp_violations.clear()  # expected here; any other test would fail
    page.evaluate("window.__cspViolations = []")


@pytest.mark.browser
def test_the_admins_rich_text_editor_works_under_the_policy(visit, demo):
    from clinic.models import Page

    UserFactory(username="rikke", groups=["Reception"], is_superuser=True)
    page_record = Page.objects.first()
    browser_page = visit(extra_http_headers={"Accept-Language": "en"}).page
    errors = []
    browser_page.on("pageerror", lambda error: errors.append(str(error)))
    log_in_verified(browser_page, "rikke")
    browser_page.goto(f"/admin/clinic/page/{page_record.pk}/change/")
    browser_page.wait_for_load_state("load")
    # The editor replaced the textarea: its modules loaded through the import map.
    editor = browser_page.locator(".prose-editor:has(#id_body_da) [contenteditable=true]")
    editor.wait_for(state="attached")
    assert editor.count() == 1
    assert errors == []
