"""Language prefixes, the root redirect, fallbacks and their lang attributes."""

import pytest
from django.utils import translation

from clinic.models import Practitioner

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [("en-GB,en;q=0.9", "/en/"), ("sv", "/sv/"), ("nb-NO", "/nb/"), ("fr", "/da/"), ("", "/da/")],
)
def test_root_redirects_to_the_visitors_language_or_danish(client, demo, accept_language, expected):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=accept_language)
    assert response.status_code == 302
    assert response["Location"] == expected


def test_admin_sitemap_and_robots_have_no_language_prefix(client, demo):
    assert client.get("/robots.txt").status_code == 200
    assert client.get("/sitemap.xml").status_code == 200
    assert client.get("/admin/login/").status_code == 200
    assert client.get("/da/admin/").status_code == 404


def test_the_language_switcher_leads_to_the_same_page_with_its_own_slug(client, demo):
    html = client.get("/da/kontakt/").content.decode()
    for href in ['href="/en/contact/"', 'href="/de/kontakt/"', 'href="/sv/kontakt/"']:
        assert href in html
    html = client.get("/en/privacy-policy/").content.decode()
    assert 'href="/da/privatlivspolitik/"' in html and 'href="/nb/personvern/"' in html


def test_text_shown_in_a_fallback_language_carries_its_own_lang_attribute(client, demo):
    # A biography written in Danish and English only.
    Practitioner.objects.update(bio_nb="", bio_de="")
    bio_da = Practitioner.objects.get().bio_da
    html = client.get("/nb/").content.decode()
    assert f'<p lang="da">{bio_da}</p>' in html
    # German falls back to English first.
    html = client.get("/de/").content.decode()
    assert '<p lang="en">Mette has worked' in html
    # In its own language the text needs no attribute.
    assert f"<p>{bio_da}</p>" in client.get("/da/").content.decode()


@pytest.mark.parametrize("language", ["da", "nb", "sv", "de"])
def test_interface_text_is_shown_in_the_pages_language(client, demo, language):
    with translation.override(language):
        back_to_top = translation.gettext("Back to top")
    assert back_to_top != "Back to top"
    assert back_to_top in client.get(f"/{language}/").content.decode()


def test_a_page_without_a_norwegian_slug_is_found_at_its_danish_slug(client, demo):
    from clinic.models import Page

    Page.objects.filter(kind="about").update(slug_nb="")
    response = client.get("/nb/om-klinikken/")
    assert response.status_code == 200


def test_the_404_page_offers_the_same_address_in_other_languages(client, demo):
    html = client.get("/da/findes-ikke/").content.decode()
    assert 'href="/en/findes-ikke/"' in html


# --- Addresses with a slug, built from a memo --------------------------------------------


@pytest.mark.parametrize("language", ["da", "en", "nb", "sv", "de"])
@pytest.mark.parametrize("url_name", ["conditions:condition", "conditions:treatment", "page"])
def test_a_slug_address_is_what_reverse_gives(language, url_name):
    from django.urls import reverse

    from clinic.i18n import slug_address

    with translation.override(language):
        for slug in ("nakkesmerter", "guld-implantation", "a_b-1"):
            assert slug_address(url_name, slug) == reverse(url_name, kwargs={"slug": slug})


def test_a_slug_address_follows_the_language_and_the_script_prefix():
    from django.urls import set_script_prefix

    from clinic.i18n import slug_address

    with translation.override("da"):
        danish = slug_address("conditions:condition", "x")
    with translation.override("de"):
        german = slug_address("conditions:condition", "x")
    assert danish.startswith("/da/") and german.startswith("/de/") and danish != german
    try:
        set_script_prefix("/klinik/")
        with translation.override("da"):
            assert slug_address("conditions:condition", "x") == "/klinik" + danish
    finally:
        set_script_prefix("/")
