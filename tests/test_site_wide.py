"""Site-wide promises, checked on every public page in every language."""

import pytest
from django.conf import settings

from tests.site_walk import is_foreign, page_facts, public_paths

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


@pytest.fixture
def paths(client, demo):
    return public_paths(client)


def test_the_sitemap_lists_every_page_in_every_language(paths):
    for code in LANGUAGE_CODES:
        assert f"/{code}/" in paths
    assert "/da/kontakt/" in paths and "/en/contact/" in paths and "/de/datenschutz/" in paths


def test_every_public_page_meets_the_basic_promises(client, paths):
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        facts = page_facts(response.content.decode())
        assert facts.h1_count == 1, f"{path} has {facts.h1_count} <h1>"
        assert facts.title.strip(), f"{path} has no <title>"
        assert facts.meta_description, f"{path} has no meta description"
        assert facts.html_lang == path.split("/")[1], f"{path} has lang={facts.html_lang}"
        foreign = [url for url in facts.resource_urls if is_foreign(url)]
        assert not foreign, f"{path} loads from another host: {foreign}"


def test_every_page_links_to_itself_in_every_language(client, paths):
    for path in paths:
        facts = page_facts(client.get(path).content.decode())
        assert set(facts.alternates) == {*LANGUAGE_CODES, "x-default"}, path
        for code in LANGUAGE_CODES:
            alternate = facts.alternates[code].split("://", 1)[1].split("/", 1)[1]
            response = client.get("/" + alternate)
            assert response.status_code == 200, (path, code)
            assert page_facts(response.content.decode()).html_lang == code
