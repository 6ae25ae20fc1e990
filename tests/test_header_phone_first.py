"""The phone-first header: the clinic's name, a call button, a booking button and one Menu
button for the main menu and the language switcher; short enough to leave a 390 x 844 phone
most of its first screen. The booking button is left out inside the booking flow."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from booking.access import private_path
from booking.views import SENT_SESSION_KEY
from clinic.models import Page
from conditions.models import Condition, Treatment
from tests.booking.factories import BookingFactory
from tests.conftest import axe_violations, screenshot

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def site(demo):
    """Everything `manage.py load_demo` makes: the clinic, its content and appointment types."""
    call_command("load_demo", verbosity=0)
    return demo


def public_pages(language: str = "da") -> dict[str, str]:
    """One page of every kind that has the booking button, by kind."""
    with translation.override(language):
        pages = {
            "home": reverse("home"),
            "condition index": reverse("conditions:condition_index"),
            "condition": Condition.objects.get(slug_da="nakkesmerter").get_absolute_url(),
            "treatment index": reverse("conditions:treatment_index"),
            "treatment": Treatment.objects.get(slug_da="guldimplantation").get_absolute_url(),
            "questions": reverse("conditions:faq"),
            "testimonials": reverse("testimonials:index"),
        }
        for kind in (Page.Kind.ABOUT, Page.Kind.CONTACT, Page.Kind.PRIVACY):
            pages[str(kind.label)] = Page.objects.get(kind=kind).get_absolute_url()
    pages["page not found"] = f"/{language}/findes-ikke/"
    return pages


def booking_start(language: str = "da") -> str:
    with translation.override(language):
        return reverse("booking:what")


def header_of(html: str) -> str:
    return html[html.index('<header class="site-header"') : html.index("</header>")]


BOOK_BUTTON = re.compile(r'<a class="header-book" href="([^"]+)">([^<]+)</a>')


# --- Test client: what the header holds, page by page -----------------------------------


@pytest.mark.django_db
def test_every_public_page_has_the_booking_button_and_one_menu_button(client, site):
    for kind, path in public_pages().items():
        response = client.get(path)
        assert response.status_code == (404 if kind == "page not found" else 200), path
        header = header_of(response.content.decode())
        assert BOOK_BUTTON.findall(header) == [(booking_start(), "Bestil tid")], kind
        assert '<a class="header-phone" href="tel:+4598765432">' in header
        assert '<img class="site-logo" src="/static/img/logo.svg' in header
        # The menu and the language switcher sit behind one labelled button.
        menu = header[header.index('<details class="site-menu">') :]
        assert re.search(r'<summary class="site-menu-button">.*Menu</summary>', menu), kind
        assert '<nav class="main-nav" aria-label="Hovedmenu">' in menu
        assert '<details class="language-switcher">' in menu
        assert header.count("<summary") == 2  # the Menu button and the language switcher
    # The current page is marked in the menu.
    header = header_of(client.get(public_pages()["questions"]).content.decode())
    assert re.search(r'<a href="/da/[^"]+/" aria-current="page">Spørgsmål og svar</a>', header)


@pytest.mark.django_db
def test_the_booking_flow_has_no_booking_button_but_keeps_the_call_and_the_menu(client, site):
    booking = BookingFactory(language="da")
    session = client.session
    session[SENT_SESSION_KEY] = booking.pk
    session.save()
    with translation.override("da"):
        flow = {
            "step 1": reverse("booking:what"),
            "new link": reverse("booking:new_link"),
            "thanks": reverse("booking:thanks"),
            "private page": private_path(booking, "da"),
            "invalid link": reverse("booking:private", kwargs={"token": "not-a-token"}),
        }
    for kind, path in flow.items():
        response = client.get(path)
        assert response.status_code in (200, 404), (kind, response.status_code)
        assert "booking/" in response.templates[0].name, kind
        header = header_of(response.content.decode())
        assert "header-book" not in header, kind
        assert '<a class="header-phone" href="tel:+4598765432">' in header, kind
        assert '<summary class="site-menu-button">' in header, kind
    # Outside the flow the same session sees the button again.
    assert "header-book" in header_of(client.get("/da/").content.decode())


# --- Chromium: sizes and behaviour on a 390 x 844 phone and at 1280 px ---------------------

MEASURE = """() => {
  const box = el => {
    const r = el.getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height};
  };
  const book = document.querySelector('.header-book');
  const number = document.querySelector('.header-phone-number');
  const range = document.createRange();
  range.selectNodeContents(number);
  return {
    header: box(document.querySelector('.site-header')),
    book: book ? box(book) : null,
    phone: box(document.querySelector('.header-phone')),
    phoneLines: range.getClientRects().length,
    menuButton: box(document.querySelector('.site-menu-button')),
    viewport: {width: window.innerWidth, height: window.innerHeight},
    scrollWidth: document.documentElement.scrollWidth,
  };
}"""


def menu_button_state(page) -> tuple[str, bool]:
    """Chromium's accessibility node for the Menu button: its role and whether it is expanded."""
    nodes = page.context.new_cdp_session(page).send("Accessibility.getFullAXTree")["nodes"]
    (node,) = [
        n
        for n in nodes
        if n.get("name", {}).get("value") == "Menu"
        and n["role"]["value"] != "StaticText"
        and n["role"]["value"] != "InlineTextBox"
    ]
    expanded = {p["name"]: p["value"]["value"] for p in node.get("properties", [])}["expanded"]
    return node["role"]["value"], expanded


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_on_a_phone_the_header_is_short_and_booking_is_on_the_first_screen(visit, site):
    page = visit(viewport=PHONE).page
    figures = {}
    # Every kind in Danish, and the condition page in English, whose booking label is longest.
    kinds = public_pages() | {"condition, English": public_pages("en")["condition"]}
    for kind, path in kinds.items():
        page.goto(path)
        m = page.evaluate(MEASURE)
        figures[kind] = m
        assert m["header"]["height"] <= 0.25 * PHONE["height"], (kind, m["header"])
        book = page.locator(".header-book")
        assert book.is_visible(), kind
        assert m["book"]["top"] >= 0 and m["book"]["bottom"] <= PHONE["height"], (kind, m["book"])
        assert m["book"]["left"] >= 0 and m["book"]["right"] <= PHONE["width"], (kind, m["book"])
        assert m["phoneLines"] == 1, f"{kind}: the phone number wraps"
        assert m["scrollWidth"] <= PHONE["width"], f"{kind} scrolls sideways"
        # The menu is behind its button, and the button opens it.
        menu_link = page.locator(".main-nav a").first
        assert not menu_link.is_visible(), kind
        assert not page.locator(".language-switcher summary").is_visible(), kind
        assert axe_violations(page) == [], kind
        page.locator(".site-menu-button").click()
        assert menu_link.is_visible() and page.locator(".language-switcher summary").is_visible()
        assert page.locator(".site-menu").evaluate("d => d.open")
        if kind == "questions":
            current = page.locator('.main-nav a[aria-current="page"]')
            assert current.inner_text() == "Spørgsmål og svar"
            assert axe_violations(page) == [], f"{kind} with the menu open"
            screenshot(page, "header-390-menu-open", full_page=False)
        page.locator(".site-menu-button").click()
        assert not menu_link.is_visible()
        if kind == "condition, English":
            screenshot(page, "phone-first-neck-pain-en-390", full_page=False)

    # Keyboard: Tab reaches the Menu button after the call and booking buttons; Enter opens it.
    page.goto("/da/")
    # The call button's name says what it does, though only the icon and number show.
    call = page.get_by_role("link", name="Ring til os +45 98 76 54 32", exact=True)
    assert call.get_attribute("href") == "tel:+4598765432"
    # Screen readers hear a button "Menu" that says whether it is expanded.
    assert menu_button_state(page) == ("DisclosureTriangle", False)
    page.keyboard.press("Tab")  # the skip link
    names = []
    for _ in range(4):
        page.keyboard.press("Tab")
        names.append(page.evaluate("document.activeElement.className"))
    assert names == ["site-name", "header-phone", "header-book", "site-menu-button"], names
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid", "the focused Menu button shows no focus ring"
    page.keyboard.press("Enter")
    assert page.locator(".main-nav a").first.is_visible()
    assert menu_button_state(page) == ("DisclosureTriangle", True)

    # Inside the booking flow: no booking button, and the first field on the first screen.
    page.goto(booking_start())
    m = page.evaluate(MEASURE)
    assert m["book"] is None and page.locator(".header-book").count() == 0
    assert m["header"]["height"] <= 0.25 * PHONE["height"]
    first_field = page.locator("#booking-step-form input:not([type=hidden])").first
    field_box = first_field.bounding_box()
    assert field_box["y"] + field_box["height"] <= PHONE["height"], field_box
    assert axe_violations(page) == []
    figures["booking step 1 (first field)"] = {
        "header": m["header"],
        "book": {"top": field_box["y"], "bottom": field_box["y"] + field_box["height"]},
    }

    # The screenshots to look at: home, the neck-pain page (first screen, the steps), the gold
    # treatment and the booking's first step.
    pages = public_pages()
    for name, path in [
        ("home", pages["home"]),
        ("neck-pain", pages["condition"]),
        ("gold", pages["treatment"]),
        ("booking-step-1", booking_start()),
    ]:
        page.goto(path)
        screenshot(page, f"phone-first-{name}-390", full_page=False)
        if name in ("neck-pain", "gold"):
            page.locator(".cta-intro").evaluate("box => box.scrollIntoView({behavior: 'instant'})")
            screenshot(page, f"phone-first-{name}-call-390", full_page=False)
            page.locator("#before-treatment").evaluate(
                "section => section.scrollIntoView({behavior: 'instant'})"
            )
            screenshot(page, f"phone-first-{name}-steps-390", full_page=False)
    print(
        "\nHeader on a 390 x 844 phone (px): page kind, header height (% of screen), booking"
        " button top-bottom"
    )
    for kind, m in figures.items():
        height = m["header"]["height"]
        print(
            f"  {kind:<28} {height:6.1f} ({100 * height / PHONE['height']:4.1f} %)  "
            f"{m['book']['top']:6.1f}-{m['book']['bottom']:6.1f}"
        )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_at_desktop_width_the_whole_menu_shows_without_a_menu_button(visit, site):
    page = visit(viewport=DESKTOP).page
    pages = public_pages()
    for kind in ("home", "condition", "treatment", "questions"):
        page.goto(pages[kind])
        assert not page.locator(".site-menu-button").is_visible(), kind
        links = page.locator(".main-nav a")
        assert links.count() >= 6 and all(
            links.nth(n).is_visible() for n in range(links.count())
        ), kind
        assert page.locator(".language-switcher summary").is_visible()
        assert page.locator(".header-book").is_visible()
        assert axe_violations(page) == [], kind
        m = page.evaluate(MEASURE)
        print(f"\n  1280 px {kind:<10} header {m['header']['height']:.1f} px")
        screenshot(page, f"phone-first-{kind}-1280", full_page=False)
    # The visible menu is reachable by keyboard, and its links are not hidden from it.
    page.goto(pages["home"])
    for _ in range(5):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('.main-nav') !== null")
    page.goto(booking_start())
    assert page.locator(".header-book").count() == 0
    screenshot(page, "phone-first-booking-step-1-1280", full_page=False)

    # Without JavaScript the Menu button opens the menu on a phone too.
    phone = visit(viewport=PHONE, java_script_enabled=False).page
    phone.goto(pages["condition"])
    assert not phone.locator(".main-nav a").first.is_visible()
    phone.locator(".site-menu-button").click()
    assert phone.locator(".main-nav a").first.is_visible()
