"""The public content pages: conditions, treatments and questions."""

import io
import json
import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from clinic import snapshots
from conditions.models import ConditionSection, Publishable, TreatmentRecommendation
from tests.conditions.factories import (
    ConditionFactory,
    FAQFactory,
    FAQTopicFactory,
    KeyFigureFactory,
    RecommendationFactory,
    SectionFactory,
    SourceFactory,
    TreatmentFactory,
)
from tests.factories import PractitionerFactory, UserFactory

pytestmark = pytest.mark.django_db


def jsonld_nodes(html: str) -> list[dict]:
    scripts = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    nodes = []
    for script in scripts:
        data = json.loads(script)
        assert data["@context"] == "https://schema.org"
        nodes += data["@graph"]
    return nodes


def main_part(response) -> str:
    html = response.content.decode()
    return html[html.index("<main") :]


def of_type(nodes, type_name):
    return [node for node in nodes if node["@type"] == type_name]


@pytest.fixture
def neck(demo):
    doctor = PractitionerFactory(name="Dr. Lise Test")
    condition = ConditionFactory(
        name_da="Nakkesmerter",
        name_en="Neck pain",
        slug_da="nakkesmerter",
        slug_en="neck-pain",
        reviewed_on_da=date(2026, 10, 1),
        reviewed_by_da=doctor,
        reviewed_on_en=date(2026, 10, 1),
        reviewed_by_en=doctor,
        conclusion_da="<p>Opsummeret.</p>",
        conclusion_en="<p>In short.</p>",
    )
    SectionFactory(condition=condition, kind="prognosis", heading_da="Forløb", heading_en="Course")
    SectionFactory(
        condition=condition, kind="about", heading_da="Hvad er det?", heading_en="What is it?"
    )
    gold = TreatmentFactory(name_da="Guldimplantation", name_en="Gold implantation")
    RecommendationFactory(condition=condition, treatment=gold, phase="chronic")
    massage = TreatmentFactory(name_da="Massage", name_en="Massage")
    RecommendationFactory(
        condition=condition, treatment=massage, phase="new", note_da="kortvarig effekt"
    )
    report = SourceFactory(title_da="Sygdomsbyrden i Danmark")
    KeyFigureFactory(condition=condition, value_da="13 %", source=None)
    KeyFigureFactory(
        condition=condition, value_da="1,7 mio.", label_da="har rygsmerter", source=report, order=2
    )
    FAQFactory(question_da="Hjælper varme?", conditions=[condition], sources=[report])
    condition.symptoms.create(text_da="Stivhed", text_en="Stiffness")
    condition.risk_factors.create(text_da="Stress", text_en="Stress")
    return condition


def test_a_condition_page_follows_the_reference_structure(client, neck):
    response = client.get("/en/conditions/neck-pain/")
    assert response.status_code == 200
    html = response.content.decode()
    order = [
        ">Go to section</h2>",
        ">What is it?</h2>",
        ">Treatment</h2>",
        ">How common is it?</h2>",
        ">Symptoms</h2>",
        ">Course</h2>",
        ">Summary</h2>",
        "<summary>Question ",
        'id="sources-heading"',
    ]
    positions = [html.index(text) for text in order]
    assert positions == sorted(positions)
    assert "Medically reviewed on 1 October 2026 by Dr. Lise Test" in html


def test_the_review_date_is_shown_in_the_pages_language(client, neck):
    with translation.override("da"):
        expected = translation.gettext("Medically reviewed on %(date)s by %(doctor)s") % {
            "date": "1. oktober 2026",
            "doctor": "Dr. Lise Test",
        }
    assert expected in client.get("/da/lidelser/nakkesmerter/").content.decode()


def test_treatments_are_shown_by_phase_with_their_notes(client, neck):
    html = main_part(client.get("/en/conditions/neck-pain/"))
    chronic = html.index(str(TreatmentRecommendation.Phase.CHRONIC.label))
    new = html.index(str(TreatmentRecommendation.Phase.NEW.label))
    assert new < html.index("Massage") < chronic < html.index("Gold implantation")
    assert "(kortvarig effekt)" in html and 'lang="da"' in html


def test_figures_carry_numbered_source_references_and_figures_without_a_source_none(client, neck):
    html = client.get("/da/lidelser/nakkesmerter/").content.decode()
    assert html.count('class="source-ref"') == 1
    assert re.search(r"1,7 mio\..*?\[1\]", html, re.S)
    assert re.search(r'<li id="source-\d+"><cite>Sygdomsbyrden i Danmark</cite>', html)


def test_faqs_are_an_accordion_that_works_without_javascript(client, neck):
    html = client.get("/da/lidelser/nakkesmerter/").content.decode()
    assert re.search(r'<details class="faq">\s*<summary>Hjælper varme\?</summary>', html)


def test_the_language_switcher_moves_between_the_two_slugs(client, neck):
    html = client.get("/da/lidelser/nakkesmerter/").content.decode()
    assert 'href="/en/conditions/neck-pain/"' in html
    html = client.get("/en/conditions/neck-pain/").content.decode()
    assert 'href="/da/lidelser/nakkesmerter/"' in html
    assert 'hreflang="x-default"' in html


def test_unknown_and_draft_conditions_get_the_friendly_404(client, neck):
    assert client.get("/da/lidelser/findes-ikke/").status_code == 404
    neck.status = Publishable.Status.DRAFT
    neck.save()
    assert client.get("/da/lidelser/nakkesmerter/").status_code == 404
    assert "nakkesmerter" not in client.get("/da/lidelser/").content.decode()
    assert "nakkesmerter" not in client.get("/sitemap.xml").content.decode()


def test_a_future_publish_date_keeps_the_page_hidden(client, neck):
    neck.published_at = timezone.now() + timedelta(days=1)
    neck.save()
    assert client.get("/da/lidelser/nakkesmerter/").status_code == 404


def test_editors_preview_a_draft_on_the_real_page(client, neck):
    neck.status = Publishable.Status.DRAFT
    neck.save()
    client.force_login(UserFactory(groups=["Editors"]))
    response = client.get("/da/lidelser/nakkesmerter/?preview=1")
    assert response.status_code == 200
    assert 'class="preview-banner"' in response.content.decode()
    client.force_login(UserFactory(groups=["Reception"]))
    assert client.get("/da/lidelser/nakkesmerter/?preview=1").status_code == 404


def test_condition_page_json_ld_has_the_medical_types(client, neck):
    nodes = jsonld_nodes(client.get("/en/conditions/neck-pain/").content.decode())
    (page,) = of_type(nodes, "MedicalWebPage")
    assert page["lastReviewed"] == "2026-10-01"
    assert page["reviewedBy"]["@type"] == "IndividualPhysician"
    condition = page["about"]
    assert condition["@type"] == "MedicalCondition" and condition["name"] == "Neck pain"
    assert condition["signOrSymptom"] == [{"@type": "MedicalSignOrSymptom", "name": "Stiffness"}]
    assert condition["riskFactor"][0]["@type"] == "MedicalRiskFactor"
    assert {t["@type"] for t in condition["possibleTreatment"]} == {"MedicalTherapy"}
    (faq,) = of_type(nodes, "FAQPage")
    assert faq["mainEntity"][0]["acceptedAnswer"]["@type"] == "Answer"
    (clinic,) = of_type(nodes, "MedicalClinic")
    assert clinic["telephone"] == "+4598765432"
    assert not any("aggregateRating" in json.dumps(node) for node in nodes)


def test_treatment_page_and_faq_page(client, neck):
    html = client.get("/en/treatments/").content.decode()
    assert "Gold implantation" in html
    gold = neck.treatments.get(name_en="Gold implantation")
    response = client.get(gold.get_absolute_url().replace("/da/", "/en/"))
    nodes = jsonld_nodes(response.content.decode())
    assert of_type(nodes, "MedicalWebPage")[0]["about"]["@type"] == "MedicalTherapy"
    topic = FAQTopicFactory(name_da="Behandling")
    FAQFactory(question_da="Gør det ondt?", topic=topic, conditions=[neck])
    with translation.override("da"):
        faq_url = reverse("conditions:faq")
    html = client.get(faq_url).content.decode()
    assert html.index(">Behandling</h2>") < html.index("<summary>Gør det ondt?</summary>")
    assert of_type(jsonld_nodes(html), "FAQPage")


def test_home_page_json_ld_names_the_clinic_and_its_doctor(client, demo):
    nodes = jsonld_nodes(client.get("/da/").content.decode())
    assert of_type(nodes, "MedicalClinic")[0]["name"] == "Egebæk Smerteklinik"
    assert of_type(nodes, "IndividualPhysician")[0]["name"] == "Mette Egelund Brask"


def test_a_section_image_gets_responsive_webp_and_jpeg_renditions(client, neck, settings):
    buffer = io.BytesIO()
    Image.new("RGB", (1600, 900), "teal").save(buffer, "JPEG")
    section = neck.sections.get(kind="about")
    section.image = SimpleUploadedFile("neck.jpg", buffer.getvalue())
    section.image_alt_da = "Nakkens hvirvler"
    section.save()
    html = client.get("/da/lidelser/nakkesmerter/").content.decode()
    picture = re.search(r"<picture>.*?</picture>", html, re.S).group(0)
    assert '<source type="image/webp" srcset="' in picture
    assert re.search(r'srcset="[^"]+ 480w, [^"]+ 960w, [^"]+ 1440w"', picture)
    assert 'width="1440" height="810"' in picture
    assert 'alt="Nakkens hvirvler"' in picture and 'loading="lazy"' in picture


def jpeg(width, height) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(buffer, "JPEG")
    return SimpleUploadedFile("figure.jpg", buffer.getvalue())


def test_an_images_copies_are_made_when_it_is_saved_not_when_the_page_shows(
    client, neck, monkeypatch
):
    from clinic import images

    section = neck.sections.get(kind="about")
    section.image = jpeg(1600, 900)
    section.image_alt_da = "Nakkens hvirvler"
    section.save()
    stored = section.image_renditions
    assert stored["source"] == section.image.name
    assert [width for _name, width, _height in stored["webp"]] == [480, 960, 1440]
    assert [height for _name, _width, height in stored["jpeg"]] == [270, 540, 810]
    section.refresh_from_db()
    assert section.image_renditions == stored

    def no_lookup(*args, **kwargs):
        raise AssertionError("a copy was looked up while the page rendered")

    monkeypatch.setattr(images, "get_thumbnail", no_lookup)
    html = client.get("/da/lidelser/nakkesmerter/").content.decode()
    picture = re.search(r"<picture>.*?</picture>", html, re.S).group(0)
    for name, width, _height in stored["webp"] + stored["jpeg"]:
        assert f"/media/{name} {width}w" in picture
    assert 'width="1440" height="810"' in picture
    # Saving the section again (a new heading) keeps the copies without looking them up.
    section.heading_da = "Ny overskrift"
    section.save()
    assert section.image_renditions == stored


def test_a_new_image_gets_new_copies_and_no_image_none(client, neck):
    section = neck.sections.get(kind="about")
    section.image = jpeg(1600, 900)
    section.image_alt_da = "Nakkens hvirvler"
    section.save()
    first = section.image_renditions
    section.image = jpeg(800, 800)  # narrower than the widest copy: no upscaled copies
    section.save()
    assert section.image_renditions["source"] == section.image.name != first["source"]
    assert [w for _name, w, _h in section.image_renditions["jpeg"]] == [480, 800]
    section.image = ""
    section.save()
    section.refresh_from_db()
    assert section.image_renditions == {}


def test_copies_made_from_another_image_are_not_shown(client, neck):
    """Stored copies that do not match the image (e.g. changed by an update) are made afresh."""
    section = neck.sections.get(kind="about")
    section.image = jpeg(1600, 900)
    section.image_alt_da = "Nakkens hvirvler"
    section.save()
    stale = {**section.image_renditions, "source": "conditions/old.jpg"}
    stale["jpeg"] = [["conditions/old-480.jpg", 480, 999]]
    type(section).objects.filter(pk=section.pk).update(image_renditions=stale)
    html = client.get("/da/lidelser/nakkesmerter/").content.decode()
    assert "old-480" not in html
    assert 'width="1440" height="810"' in html


def page_queries(client, url, *, snapshots_made: bool = False) -> int:
    """The queries of an uncached page: without snapshots (as after a restart with an
    empty cache), or with the snapshots a content change makes right after its commit."""
    cache.clear()
    if snapshots_made:
        snapshots.rebuild()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert response["X-Page-Cache"] == "miss"
    return len(queries)


def test_the_condition_page_makes_a_constant_number_of_queries(client, demo):
    """At most 12 queries, however big the page (a page without FAQs skips their sources),
    when its snapshots must be made; none when the last change made them (in Danish)."""
    ConditionFactory(slug_da="lille")
    condition = ConditionFactory(slug_da="stor")
    for n in range(30):
        SectionFactory(condition=condition, kind=ConditionSection.Kind.values[n % 9])
    sources = SourceFactory.create_batch(20)
    for n in range(40):
        FAQFactory(conditions=[condition], sources=sources[n % 20 : n % 20 + 2])
    for n in range(10):
        RecommendationFactory(condition=condition, phase=["new", "chronic"][n % 2])
        KeyFigureFactory(condition=condition, source=sources[n])
        condition.symptoms.create(text_da=f"Symptom {n}")
        condition.risk_factors.create(text_da=f"Risiko {n}")
        condition.diagnosis_steps.create(text_da=f"Trin {n}")
    big = page_queries(client, "/da/lidelser/stor/")
    assert big <= 12
    assert page_queries(client, "/da/lidelser/lille/") in (big - 1, big)
    assert page_queries(client, "/da/lidelser/stor/", snapshots_made=True) == 0
    with translation.override("en"):
        english = condition.get_absolute_url()
    # Other languages' snapshots are made by their first visitor (see test_snapshots.py).
    assert 0 < page_queries(client, english, snapshots_made=True) <= 12
    html = client.get("/da/lidelser/stor/").content.decode()
    assert html.count('<details class="faq">') == 40
    assert html.count("<li>Risiko ") == 10 and html.count("<li>Trin ") == 10


def test_the_three_short_lists_come_in_their_own_order_from_one_query(
    client, demo, django_assert_num_queries
):
    from conditions.page import condition_lists

    condition = ConditionFactory(slug_da="lister")
    other = ConditionFactory(slug_da="anden")
    condition.symptoms.create(text_da="Symptom B", order=2)
    condition.symptoms.create(text_da="Symptom A", order=1)
    condition.risk_factors.create(text_da="Risiko", order=1)
    condition.diagnosis_steps.create(text_da="Trin 2", order=5)
    condition.diagnosis_steps.create(text_da="Trin 1", order=0)
    other.symptoms.create(text_da="Ikke denne")
    with django_assert_num_queries(1):
        lists = condition_lists(condition)
    assert [(type(s).__name__, s.text) for s in lists["symptoms"]] == [
        ("Symptom", "Symptom A"),
        ("Symptom", "Symptom B"),
    ]
    assert [(type(r).__name__, r.text) for r in lists["risk_factors"]] == [("RiskFactor", "Risiko")]
    assert [s.text for s in lists["diagnosis_steps"]] == ["Trin 1", "Trin 2"]
    assert all(
        item.pk and item.condition_id == condition.pk for items in lists.values() for item in items
    )
    translation.activate("en")  # English falls back to the Danish text, as the page shows it
    assert lists["symptoms"][0].text == "Symptom A"
    html = client.get("/da/lidelser/lister/").content.decode()
    assert html.index("Trin 1") < html.index("Trin 2")
    assert "Ikke denne" not in html


def test_anonymous_visitors_get_a_cached_page_that_a_save_invalidates(client, neck):
    assert client.get("/da/lidelser/nakkesmerter/")["X-Page-Cache"] == "miss"
    assert client.get("/da/lidelser/nakkesmerter/")["X-Page-Cache"] == "hit"
    neck.name_da = "Ondt i nakken"
    neck.save()
    response = client.get("/da/lidelser/nakkesmerter/")
    assert response["X-Page-Cache"] == "miss"
    assert "Ondt i nakken" in response.content.decode()


def test_changing_a_linked_faq_or_a_section_also_invalidates(client, neck):
    client.get("/da/lidelser/nakkesmerter/")
    FAQFactory(question_da="Nyt spørgsmål?", conditions=[neck])
    assert "Nyt spørgsmål?" in client.get("/da/lidelser/nakkesmerter/").content.decode()
    neck.sections.filter(kind="about").update(heading_da="Ændret")  # no signal: no save()
    section = neck.sections.get(kind="about")
    section.save()
    assert "Ændret" in client.get("/da/lidelser/nakkesmerter/").content.decode()


def test_a_machine_of_another_release_does_not_get_pages_naming_files_it_lacks(
    client, neck, monkeypatch
):
    from clinic import page_cache

    monkeypatch.setattr(page_cache, "static_version", lambda: "release-1")
    client.get("/da/lidelser/nakkesmerter/")
    assert client.get("/da/lidelser/nakkesmerter/")["X-Page-Cache"] == "hit"
    monkeypatch.setattr(page_cache, "static_version", lambda: "release-2")
    assert client.get("/da/lidelser/nakkesmerter/")["X-Page-Cache"] == "miss"
    monkeypatch.setattr(page_cache, "static_version", lambda: "release-1")
    assert client.get("/da/lidelser/nakkesmerter/")["X-Page-Cache"] == "hit"


def test_the_static_version_follows_the_manifest(monkeypatch):
    from clinic import page_cache

    def version_with(hashed_files):
        manifest_storage = SimpleNamespace(hashed_files=hashed_files)
        monkeypatch.setattr(page_cache, "staticfiles_storage", manifest_storage)
        page_cache.static_version.cache_clear()
        return page_cache.static_version()

    try:
        first = version_with({"css/site.css": "css/site.1a2b3c.css"})
        assert first == version_with({"css/site.css": "css/site.1a2b3c.css"})
        assert first != version_with({"css/site.css": "css/site.4d5e6f.css"})
    finally:
        page_cache.static_version.cache_clear()


def test_staff_never_get_a_cached_page(client, neck):
    client.get("/da/lidelser/nakkesmerter/")
    client.force_login(UserFactory(groups=["Editors"]))
    assert "X-Page-Cache" not in client.get("/da/lidelser/nakkesmerter/")


def test_saves_inside_one_renewal_renew_the_page_cache_once_at_the_end(client, neck):
    from clinic import page_cache

    client.get("/da/lidelser/nakkesmerter/")
    with page_cache.one_renewal():
        neck.name_da = "Ondt i nakken"
        neck.save()
        with page_cache.one_renewal():  # nested: still one renewal, at the outer end
            neck.save()
        # Not yet renewed: the page is still the cached one.
        assert client.get("/da/lidelser/nakkesmerter/")["X-Page-Cache"] == "hit"
    response = client.get("/da/lidelser/nakkesmerter/")
    assert response["X-Page-Cache"] == "miss"
    assert "Ondt i nakken" in response.content.decode()
    # Saves after the block renew as before.
    neck.name_da = "Nakkesmerter"
    neck.save()
    assert client.get("/da/lidelser/nakkesmerter/")["X-Page-Cache"] == "miss"


@pytest.mark.parametrize("where", ["questions page", "treatment page", "condition page"])
def test_a_question_names_its_sources_on_every_page_that_lists_it(client, demo, where):
    source = SourceFactory(title_da="Nakkebogen", publisher="Forlaget", year=2021)
    treatment = TreatmentFactory(slug_da="varme")
    condition = ConditionFactory(slug_da="skulder")
    faq = FAQFactory(conditions=[condition], sources=[source])
    faq.treatments.add(treatment)
    url = {
        "questions page": "/da/spoergsmaal/",
        "treatment page": "/da/behandlinger/varme/",
        "condition page": "/da/lidelser/skulder/",
    }[where]
    html = main_part(client.get(url))
    assert '<p class="faq-sources">' in html
    assert "<cite>Nakkebogen</cite>, Forlaget (2021)" in html


def test_a_source_title_in_another_language_carries_its_lang_and_its_number(client, demo):
    source = SourceFactory(title_da="Nakkebogen", title_en="", publisher="", year=None)
    condition = ConditionFactory(slug_da="skulder", slug_en="shoulder")
    FAQFactory(conditions=[condition], sources=[source])
    with translation.override("en"):
        questions, page = reverse("conditions:faq"), condition.get_absolute_url()
    assert '<cite lang="da">Nakkebogen</cite>' in main_part(client.get(questions))
    html = main_part(client.get(page))
    number = f'<a href="#source-{source.pk}">[1]</a> <cite lang="da">Nakkebogen</cite>'
    assert number in html and f'<li id="source-{source.pk}">' in html
