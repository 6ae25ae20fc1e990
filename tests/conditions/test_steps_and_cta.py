"""Condition and treatment pages: a booking call to action after the introduction and at the
end, and the steps before treatment generated from the appointment type's checklist settings."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from booking.models import AppointmentType
from conditions.models import Condition, Treatment
from tests.conditions.factories import SourceFactory

pytestmark = pytest.mark.django_db

NECK = "/en/conditions/neck-pain/"
GOLD = "/en/treatments/gold-implantation/"
ALL_STEPS = ["book", "scan", "radiology", "send_images", "blood_thinners", "companion"]


@pytest.fixture
def site(demo_for_the_module, db):
    """Everything `manage.py load_demo` makes: the clinic, its content and appointment types
    (loaded once for the module; each test's changes are undone after it)."""
    return demo_for_the_module


def html_of(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.content.decode()


def steps_section(html: str) -> str:
    match = re.search(r'<section id="before-treatment".*?</section>', html, re.S)
    return match.group(0) if match else ""


def step_codes(html: str) -> list[str]:
    return re.findall(r'data-step="([a-z_]+)"', steps_section(html))


def step(html: str, code: str) -> str:
    match = re.search(rf'<li class="treatment-step" data-step="{code}">(.*?)</li>', html, re.S)
    return match.group(1) if match else ""


def gold_type() -> AppointmentType:
    return AppointmentType.objects.get(name_en="Gold implantation")


def position(html: str, marker: str) -> int:
    assert html.count(marker) == 1, f"{marker!r} occurs {html.count(marker)} times"
    return html.index(marker)


def test_the_neck_pain_page_shows_the_six_steps_of_gold_implantation_in_order(client, site):
    html = html_of(client, NECK)
    assert step_codes(html) == ALL_STEPS
    section = steps_section(html)
    assert '<h2 id="before-treatment-heading">Before your treatment: 6 steps</h2>' in section
    assert '<ol class="treatment-steps">' in section
    assert "The doctor must see an X-ray or a scan of the painful area." in step(html, "scan")
    assert "A scan up to 2 years old can usually be used." in step(html, "scan")
    assert "Do not stop any medicine until we have agreed a plan" in step(html, "blood_thinners")
    assert "drive you home" in step(html, "companion")
    # The table of contents leads to the steps, where they are: after the questions.
    toc = re.findall(r'<li><a href="#([a-z0-9-]+)">', html[position(html, '<nav class="toc"') :])
    assert toc[-2:] == ["questions", "before-treatment"]


def test_the_image_step_offers_the_online_upload_through_the_booking_start(client, site):
    html = html_of(client, NECK)
    images = step(html, "send_images")
    start = reverse("booking:what")
    assert f'<a href="{start}?condition=neck-pain">Book and upload your images</a>' in images
    assert "upload them online when you book" in images
    assert "ask us how" not in html.lower()
    # The booking step also links to the start, and to the phone.
    book = step(html, "book")
    assert f'href="{start}?condition=neck-pain"' in book and 'href="tel:+' in book


@pytest.mark.parametrize(
    ("change", "gone"),
    [
        ({"imaging": AppointmentType.Imaging.NOT_NEEDED}, ["scan", "radiology", "send_images"]),
        ({"asks_about_blood_thinners": False}, ["blood_thinners"]),
        ({"companion_required": False}, ["companion"]),
    ],
)
def test_a_step_disappears_when_the_appointment_type_no_longer_asks_for_it(
    client, site, change, gone
):
    assert step_codes(html_of(client, NECK)) == ALL_STEPS  # now in the page cache
    kind = gold_type()
    for field, value in change.items():
        setattr(kind, field, value)
    kind.save()  # a save renews the page cache, as an edit in the admin does
    response = client.get(NECK)
    assert response["X-Page-Cache"] == "miss"
    html = response.content.decode()
    expected = [code for code in ALL_STEPS if code not in gone]
    assert step_codes(html) == expected
    assert f"Before your treatment: {len(expected)} steps" in html
    # The treatment page follows the same settings.
    assert step_codes(html_of(client, GOLD)) == expected


@pytest.mark.parametrize(("years", "words"), [(1, "up to 1 year old"), (3, "up to 3 years old")])
def test_the_scan_age_in_the_step_is_the_one_the_checklist_judges_by(
    client, site, monkeypatch, years, words
):
    monkeypatch.setattr("booking.checklist.SCAN_MAX_AGE_YEARS", years)
    scan = step(html_of(client, NECK), "scan")
    assert f"A scan {words} can usually be used." in scan
    assert "2 years" not in scan


def test_the_steps_describe_the_type_that_asks_the_most_and_vanish_when_none_asks(client, site):
    gold = gold_type()
    gold.asks_about_blood_thinners = gold.companion_required = False
    gold.imaging = AppointmentType.Imaging.NOT_NEEDED
    gold.save()
    # The consultation (optional images) is now the type that asks the most.
    html = html_of(client, NECK)
    assert step_codes(html) == ["book", "scan", "radiology", "send_images"]
    assert "If you have an X-ray or a scan of the painful area" in step(html, "scan")
    assert "The doctor must see" not in html
    # A type that cannot be requested online is not described.
    AppointmentType.objects.filter(imaging=AppointmentType.Imaging.OPTIONAL).update(
        requestable_online=False
    )
    gold.save()  # renews the page cache (update() sends no signal)
    html = html_of(client, NECK)
    assert step_codes(html) == [] and 'id="before-treatment"' not in html
    assert 'href="#before-treatment"' not in html  # neither in the contents nor the CTA


def test_the_condition_page_has_a_booking_call_right_after_the_introduction_and_at_the_end(
    client, site
):
    html = html_of(client, NECK)
    start = f"{reverse('booking:what')}?condition=neck-pain"
    intro = position(html, 'class="rich-text lead-text"')
    call = position(html, '<div class="cta-intro">')
    toc = position(html, '<nav class="toc"')
    assert intro < call < toc
    # Nothing but the end of the introduction between the two.
    assert "<h2" not in html[intro:call] and "<section" not in html[intro:call]
    cta = html[call : html.index("</div>", call)]
    assert f'<a class="btn btn-primary" href="{start}">Book an appointment</a>' in cta
    assert 'href="tel:+4598765432"' in cta
    assert '<a href="#before-treatment">What to do before your treatment</a>' in cta
    # At the end: after the doctor and the steps; only the list of sources may follow.
    end = position(html, '<aside class="cta-box cta-panel"')
    assert position(html, 'id="doctor-heading"') < position(html, 'id="before-treatment"') < end
    rest = html[end : html.rindex("</article>")]
    assert "<h2" not in rest.split("</aside>", 1)[1]
    assert f'href="{start}"' in rest and 'href="tel:+4598765432"' in rest


def test_the_steps_and_the_last_call_come_before_the_sources(client, site):
    faq = Condition.objects.get(slug_en="neck-pain").faqs.first()
    faq.sources.add(SourceFactory(title_en="A study"))
    html = html_of(client, NECK)
    toc = re.findall(r'<li><a href="#([a-z0-9-]+)">', html[position(html, '<nav class="toc"') :])
    assert toc[-2:] == ["before-treatment", "sources"]
    steps = position(html, 'id="before-treatment"')
    assert steps < position(html, '<aside class="cta-box') < position(html, '<section id="sources"')


def test_the_offered_treatment_has_the_call_and_the_steps_before_how_it_is_done(client, site):
    html = html_of(client, GOLD)
    start = reverse("booking:what")
    lead = position(html, '<p class="lead"')
    call = position(html, '<div class="cta-intro">')
    steps = position(html, 'id="before-treatment"')
    assert lead < call < steps < position(html, 'id="how-heading"')
    assert "<h2" not in html[lead:call]
    assert f'<a class="btn btn-primary" href="{start}">' in html[call:steps]
    assert 'href="#before-treatment"' not in html  # the steps follow at once
    assert step_codes(html) == ALL_STEPS
    assert f'<a href="{start}">Book and upload your images</a>' in step(html, "send_images")
    # The end: after the questions, the last thing in the article.
    end = position(html, '<aside class="cta-box cta-panel"')
    assert position(html, 'id="questions-heading"') < end
    assert "<section" not in html[end : html.rindex("</article>")]


def test_a_treatment_the_clinic_does_not_give_has_the_calls_but_not_the_steps(client, site):
    with translation.override("en"):
        other = Treatment.objects.published().filter(offered_by_clinic=False).first()
        path = other.get_absolute_url()
    html = html_of(client, path)
    assert position(html, '<div class="cta-intro">') < position(html, '<aside class="cta-box')
    assert 'id="before-treatment"' not in html and step_codes(html) == []
