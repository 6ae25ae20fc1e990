"""In a real Chromium: every public page is accessible, self-contained and fits a phone."""

import re

import pytest

from tests.conftest import axe_violations, screenshot
from tests.factories import UserFactory
from tests.site_walk import public_paths

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def paths(client, demo):
    return public_paths(client)


def test_every_public_page_passes_axe_and_loads_nothing_from_other_hosts(visit, paths):
    context = visit()
    page = context.page
    for path in paths:
        response = page.goto(path)
        assert response.status == 200, path
        violations = axe_violations(page)
        assert violations == [], f"{path}: {violations}"
    assert context.foreign_requests == []


def test_every_public_page_works_without_javascript_at_320_px(visit, paths):
    page = visit(java_script_enabled=False, viewport={"width": 320, "height": 640}).page
    for path in paths:
        page.goto(path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 320px"
        assert page.locator("h1").count() == 1


def test_the_language_switcher_reaches_the_same_page_in_every_language(visit, demo):
    page = visit(java_script_enabled=False, viewport={"width": 390, "height": 844}).page
    page.goto("/da/kontakt/")
    expected = {
        "English": "/en/contact/",
        "Deutsch": "/de/kontakt/",
        "Svenska": "/sv/kontakt/",
        "Norsk (bokmål)": "/nb/kontakt/",
        "Dansk": "/da/kontakt/",
    }
    for name, path in expected.items():
        page.locator(".site-menu-button").click()  # on a phone the switcher is in the menu
        page.locator(".language-switcher summary").click()
        page.get_by_role("link", name=name, exact=True).click()
        page.wait_for_url(f"**{path}")
        assert page.locator("html").get_attribute("lang") == path.split("/")[1]


def test_an_editor_changes_the_phone_number_in_the_danish_and_english_admin(visit, demo):
    UserFactory(username="eva", groups=["Editors"])
    for language, label, phone in [
        ("da", "Log ind", "+45 21 22 33 44"),
        ("en", "Log in", "+45 55 66 77 88"),
    ]:
        context = visit(locale=language, extra_http_headers={"Accept-Language": language})
        page = context.page
        page.goto("/admin/login/")
        page.fill("#id_username", "eva")
        page.fill("#id_password", "correct-horse-battery")
        page.get_by_role("button", name=label).click()
        page.goto("/admin/clinic/clinicdetails/")
        page.fill("#id_phone", phone)
        with page.expect_navigation():
            page.locator("input[name=_save]").click()
        screenshot(page, f"admin-clinic-saved-{language}")
        errors = page.locator(".errorlist, .errornote").all_inner_texts()
        assert errors == [], errors
        assert page.locator(".messagelist .success").count() == 1
        page.goto(f"/{language}/")
        assert page.locator(".header-phone-number").inner_text() == phone
        href = page.locator(".header-phone").get_attribute("href")
        assert href == "tel:" + re.sub(r"[^\d+]", "", phone)


def test_screenshots_of_the_home_page_at_phone_and_desktop_width(visit, demo):
    for width, height in [(390, 844), (1280, 900)]:
        page = visit(viewport={"width": width, "height": height}).page
        for language in ("da", "en"):
            page.goto(f"/{language}/")
            path = screenshot(page, f"home-{language}-{width}", always=True)
            assert path.stat().st_size > 10_000
