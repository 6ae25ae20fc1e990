"""The clinic's identity: icons, /favicon.ico, the doctor's portrait, figures and trust badges."""

import re
import xml.etree.ElementTree as ET
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from clinic.models import Practitioner, TrustMark
from tests.conftest import screenshot

ROOT = Path(settings.BASE_DIR)
SVG = "{http://www.w3.org/2000/svg}"
PORTRAIT = ROOT / "clinic/demo/images/portrait.png"
FIGURES = ROOT / "conditions/demo/images"
REGISTER_URL = "https://stps.dk/"


def static_file(url: str) -> Path:
    """The source file behind a /static/ address the page links to."""
    path = urlsplit(url).path
    assert path.startswith(settings.STATIC_URL), url
    found = finders.find(path.removeprefix(settings.STATIC_URL))
    assert found, f"{url} names no static file"
    return Path(found)


def opaque(image: Image.Image) -> bool:
    """No transparent pixel (JPEG renditions and iOS icons would turn them black)."""
    if image.mode in ("RGBA", "LA") or "transparency" in image.info:
        return image.convert("RGBA").getchannel("A").getextrema() == (255, 255)
    return True


# --- /favicon.ico and the icon links ---------------------------------------------------------


@pytest.mark.django_db
def test_favicon_ico_answers_at_the_root_with_the_icon_and_a_long_cache(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/vnd.microsoft.icon"
    assert response.content == (ROOT / "static/favicon.ico").read_bytes()
    icon = Image.open(BytesIO(response.content))
    assert icon.format == "ICO"
    assert icon.info["sizes"] == {(16, 16), (32, 32), (48, 48)}
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert cache_control == {"public", "max-age=2592000"}
    # Asked again with its ETag, nothing is sent.
    again = client.get("/favicon.ico", headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304 and again.content == b""
    assert client.get("/favicon.ico", headers={"If-None-Match": '"other"'}).status_code == 200
    # Crawlers may ask with HEAD; nothing may be sent to it.
    assert client.head("/favicon.ico").status_code == 200
    assert client.post("/favicon.ico").status_code == 405
    # Only the root answers: no language prefix, no other icon name.
    assert client.get("/da/favicon.ico").status_code == 404
    assert client.get("/favicon.png").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/da/", "/en/kontakt-findes-ikke/"])
def test_every_page_links_the_icons_and_the_theme_colour(client, demo, path):
    html = client.get(path).content.decode()
    head = html.split("</head>", 1)[0]
    svg = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', head)
    png = re.search(r'<link rel="icon" href="([^"]+)" type="image/png" sizes="32x32">', head)
    ico = re.search(r'<link rel="icon" href="([^"]+\.ico)" sizes="48x48">', head)
    touch = re.search(r'<link rel="apple-touch-icon" href="([^"]+)">', head)
    assert svg and png and ico and touch, head
    assert '<meta name="theme-color" content="#0b5563">' in head
    assert static_file(svg[1]).name == "favicon.svg"
    assert Image.open(static_file(png[1])).size == (32, 32)
    assert Image.open(static_file(ico[1])).format == "ICO"
    apple = Image.open(static_file(touch[1]))
    assert apple.size == (180, 180) and opaque(apple)


def test_the_logo_is_a_small_square_decorative_mark():
    logo = ET.parse(ROOT / "static/img/logo.svg").getroot()
    assert logo.get("viewBox") == "0 0 40 40"
    # Placed next to the clinic's name in text: nothing of its own to read aloud.
    assert logo.find(f".//{SVG}title") is None and logo.find(f".//{SVG}text") is None
    favicon = ET.parse(ROOT / "static/img/favicon.svg").getroot()
    assert favicon.get("viewBox") == "0 0 40 40"


# --- The doctor's portrait and the figures ----------------------------------------------------


def test_the_portrait_and_the_figures_are_opaque_images_of_the_promised_sizes():
    portrait = Image.open(PORTRAIT)
    assert portrait.size == (600, 600) and opaque(portrait)
    for name in ("neck-vertebrae", "neck-pain-areas"):
        figure = Image.open(FIGURES / f"{name}.png")
        assert figure.width == 1200 and opaque(figure), name
        assert (FIGURES / f"{name}.svg").exists(), name


def test_the_figures_carry_no_words():
    """Used in five languages: only the vertebrae's names may be written in them."""
    vertebrae = ET.parse(FIGURES / "neck-vertebrae.svg").getroot()
    labels = ["".join(text.itertext()) for text in vertebrae.iter(f"{SVG}text")]
    assert labels == ["C1", "C2", "C3", "C4", "C5", "C6", "C7", "T1"]
    for name in ("neck-pain-areas.svg",):
        root = ET.parse(FIGURES / name).getroot()
        assert list(root.iter(f"{SVG}text")) == [], name
    portrait = ET.parse(ROOT / "clinic/demo/images/portrait.svg").getroot()
    assert list(portrait.iter(f"{SVG}text")) == []


# --- The practitioner's card ------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def give_photo(practitioner: Practitioner, alt_da: str, alt_en: str) -> None:
    practitioner.photo.save("portrait.png", ContentFile(PORTRAIT.read_bytes()), save=False)
    practitioner.photo_alt_da = alt_da
    practitioner.photo_alt_en = alt_en
    practitioner.save()


@pytest.mark.django_db
def test_the_card_shows_the_photo_as_a_round_128_pixel_portrait_with_its_description(
    client, media, demo
):
    doctor = Practitioner.objects.active().first()
    give_photo(doctor, "Tegning af lægen", "Drawing of the doctor")
    html = client.get("/en/").content.decode()
    images = re.findall(r"<img [^>]*class=\"practitioner-photo\"[^>]*>", html)
    assert len(images) == 1, images
    img = images[0]
    assert f'src="{doctor.photo.url}"' in img
    assert 'alt="Drawing of the doctor"' in img
    # Room is kept before the image arrives, whatever the file's own size.
    assert 'width="128" height="128"' in img
    assert 'loading="lazy"' in img
    # The Danish page describes it in Danish.
    assert 'alt="Tegning af lægen"' in client.get("/da/").content.decode()


@pytest.mark.django_db
def test_a_practitioner_without_a_photo_gets_no_image(client, demo):
    Practitioner.objects.update(photo="")
    html = client.get("/en/").content.decode()
    assert 'class="practitioner-card"' in html
    assert "practitioner-photo" not in html


# --- Trust marks as badges ----------------------------------------------------------------------


@pytest.mark.django_db
def test_each_trust_mark_is_a_badge_with_its_link_when_it_has_one(client, demo):
    demo.trust_marks.all().delete()
    TrustMark.objects.create(
        clinic=demo,
        order=1,
        title_en="Registered with the authority",
        description_en="Under its supervision.",
        url=REGISTER_URL,
    )
    TrustMark.objects.create(clinic=demo, order=2, title_en="Experience since 1996")
    html = client.get("/en/").content.decode()
    section = html.split('id="trust-heading"', 1)[1].split("</section>", 1)[0]
    badges = section.split('<div class="trust-badge">')[1:]
    assert len(badges) == 2
    linked, plain = badges
    assert '<svg class="trust-icon"' in linked and 'aria-hidden="true"' in linked
    assert '<p class="trust-title">Registered with the authority</p>' in linked
    assert '<p class="trust-description">Under its supervision.</p>' in linked
    link = re.search(r'<a href="([^"]+)">(.*?)</a>', linked, re.DOTALL)
    assert link and link[1] == REGISTER_URL
    # The link names what it checks, also when read out of context.
    text = re.sub(r"<[^>]+>", "", link[2])
    assert text == "See the registration: Registered with the authority"
    assert '<svg class="trust-icon"' in plain
    assert '<p class="trust-title">Experience since 1996</p>' in plain
    assert "<a " not in plain and "trust-description" not in plain


# --- In Chromium ---------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_home_page_loads_every_asset_without_a_console_error(media, visit, demo):
    doctor = Practitioner.objects.active().first()
    if not doctor.photo:
        give_photo(doctor, "Tegning af lægen", "Drawing of the doctor")
    problems = []
    context = visit(viewport={"width": 390, "height": 844})
    page = context.page

    # Public media comes from the web server or the bucket in production; the live
    # server does not serve it, so it is answered here from the storage.
    def serve_media(route):
        name = urlsplit(route.request.url).path.removeprefix(settings.MEDIA_URL)
        if default_storage.exists(name):
            route.fulfill(body=default_storage.open(name).read(), content_type="image/png")
        else:
            route.fulfill(status=404)

    page.route(f"**{settings.MEDIA_URL}**", serve_media)
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    page.goto("/da/")
    page.wait_for_load_state("networkidle")
    assert problems == []

    # Every icon the page names loads, as an image.
    hrefs = page.eval_on_selector_all(
        "link[rel~=icon], link[rel=apple-touch-icon]", "links => links.map(l => l.href)"
    )
    assert len(hrefs) == 4
    for href in [*hrefs, context.base_url + "/favicon.ico"]:
        response = page.request.get(href)
        assert response.status == 200, href
        assert response.headers["content-type"].startswith("image/"), href

    # The portrait is drawn round at 128 px; the badges show their shield.
    photo = page.locator(".practitioner-photo")
    photo.scroll_into_view_if_needed()
    # decode() fails for a broken image (a string predicate would need eval, which CSP refuses).
    assert photo.evaluate("img => img.decode().then(() => img.naturalWidth)") == 600
    box = photo.bounding_box()
    assert round(box["width"]) == 128 and round(box["height"]) == 128
    assert photo.evaluate("el => getComputedStyle(el).borderRadius") == "50%"
    icons = page.locator(".trust-badge .trust-icon")
    assert icons.count() == demo.trust_marks.count() > 0
    assert icons.first.bounding_box()["width"] >= 40
    page.locator("#trust-heading").scroll_into_view_if_needed()
    screenshot(page, "identity-home-390", full_page=True)
