"""The public testimonials: their page, and their cards on the home and condition pages."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from conditions.models import Publishable
from testimonials import models
from tests.conditions.factories import ConditionFactory, TreatmentFactory
from tests.site_walk import page_facts
from tests.testimonials.factories import TestimonialFactory


def url_in(language: str, name: str) -> str:
    """The URL in `language`: paths are translated ("patientudtalelser/" in Danish)."""
    with translation.override(language):
        return reverse(name)


pytestmark = pytest.mark.django_db

INDEX = "/en/testimonials/"


def main_part(response) -> str:
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


def card_titles(response) -> list[str]:
    return re.findall(r'<h3 class="testimonial-title"[^>]*>([^<]+)</h3>', main_part(response))


def days_ago(days: int):
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def neck(demo):
    return ConditionFactory(name_en="Neck pain", slug_da="nakke", slug_en="neck-pain")


@pytest.fixture
def knee(demo):
    return ConditionFactory(name_en="Knee pain", slug_da="knae", slug_en="knee-pain")


def test_the_page_shows_only_approved_testimonials(client, demo):
    TestimonialFactory(approved=True, title_da="Godkendt")
    for status in ("submitted", "rejected", "withdrawn"):
        TestimonialFactory(status=status, title_da=f"Ikke vist {status}")
    response = client.get(url_in("da", "testimonials:index"))
    assert response.status_code == 200
    assert card_titles(response) == ["Godkendt"]
    assert "Ikke vist" not in response.content.decode()


def test_the_page_has_one_h1_a_description_and_explains_the_checks(client, demo):
    html = client.get(INDEX).content.decode()
    facts = page_facts(html)
    assert facts.h1_count == 1 and facts.meta_description
    assert "published only with the patient's consent" in html
    assert "A low rating is never a reason to reject a testimonial." in html
    assert "reveals private details, is abusive or is not about the clinic" in html
    assert "remove your testimonial at any time" in html
    assert 'href="/en/testimonials/share/"' in html
    assert "There are no testimonials yet." in html


def test_newest_first_with_the_order_field_first(client, demo):
    TestimonialFactory(approved=True, title_da="Gammel", created_at=days_ago(30))
    TestimonialFactory(approved=True, title_da="Ny", created_at=days_ago(1))
    TestimonialFactory(approved=True, title_da="Fastgjort", created_at=days_ago(90), order=0)
    models.Testimonial.objects.exclude(title_da="Fastgjort").update(order=1)
    assert card_titles(client.get(url_in("da", "testimonials:index"))) == [
        "Fastgjort",
        "Ny",
        "Gammel",
    ]


def test_the_average_rating_and_count_are_of_the_approved_ones(client, demo):
    for rating in (5, 4, 4):
        TestimonialFactory(approved=True, rating=rating)
    TestimonialFactory(status="rejected", rating=1)
    TestimonialFactory(rating=1)
    html = main_part(client.get(INDEX))
    assert "Average rating 4.3 of 5, from 3 testimonials." in html


def test_the_filter_by_condition_works_without_javascript(client, neck, knee):
    draft = ConditionFactory(name_en="Draft pain", status=Publishable.Status.DRAFT)
    TestimonialFactory(approved=True, title_da="Om nakken", rating=2, conditions=[neck])
    TestimonialFactory(approved=True, title_da="Om knæet", rating=5, conditions=[knee])
    TestimonialFactory(approved=True, title_da="Om begge", rating=4, conditions=[neck, knee])
    html = main_part(client.get(INDEX))
    form = re.search(r'<form method="get" action="/en/testimonials/".*?</form>', html, re.S)
    assert form and '<select id="filter-condition" name="condition"' in form.group(0)
    assert '<button type="submit"' in form.group(0)
    assert '<label for="filter-condition"' in form.group(0)
    assert "Neck pain" in form.group(0) and "Draft pain" not in form.group(0)
    assert "Average rating 3.7 of 5, from 3 testimonials." in html

    response = client.get(INDEX, {"condition": neck.pk})
    assert sorted(card_titles(response)) == ["Om begge", "Om nakken"]
    html = main_part(response)
    assert f'<option value="{neck.pk}" selected>' in html
    assert "Testimonials about Neck pain" in html
    assert "Average rating 3.0 of 5, from 2 testimonials." in html

    # A draft or unknown condition is no filter.
    assert len(card_titles(client.get(INDEX, {"condition": draft.pk}))) == 3
    assert len(card_titles(client.get(INDEX, {"condition": "nonsense"}))) == 3


def test_the_page_is_paginated_by_ten_with_an_accessible_navigation(client, demo):
    for n in range(12):
        TestimonialFactory(approved=True, title_da=f"Nr. {n:02}", created_at=days_ago(n))
    first = client.get(INDEX)
    assert card_titles(first) == [f"Nr. {n:02}" for n in range(10)]
    html = main_part(first)
    nav = re.search(
        r'<nav class="pagination-nav" aria-label="Pages of testimonials">.*?</nav>', html, re.S
    )
    assert nav
    assert 'aria-current="page"' in nav.group(0)
    assert 'href="/en/testimonials/?page=2"' in nav.group(0) and "Next page" in nav.group(0)
    assert "Average rating 5.0 of 5, from 12 testimonials." in html
    second = client.get(INDEX, {"page": 2})
    assert card_titles(second) == ["Nr. 10", "Nr. 11"]
    assert "Previous page" in main_part(second)


def test_pagination_keeps_the_condition_filter(client, neck):
    for _n in range(11):
        TestimonialFactory(approved=True, conditions=[neck])
    html = main_part(client.get(INDEX, {"condition": neck.pk}))
    assert f'href="/en/testimonials/?condition={neck.pk}&amp;page=2"' in html


def test_a_translation_is_labelled_with_the_original_language(client, demo):
    TestimonialFactory(
        approved=True,
        language="nb",
        title_da="",
        text_da="",
        title_nb="Veldig bra",
        text_nb="Jeg ble mye bedre.",
        title_en="Very good",
        text_en="I got much better.",
    )
    html = main_part(client.get(INDEX))
    assert "I got much better." in html and "Jeg ble mye bedre." not in html
    assert "Translated from Norwegian Bokmål" in html
    assert 'lang="nb"' not in html


def test_an_original_in_another_language_carries_its_lang(client, demo):
    TestimonialFactory(
        approved=True,
        language="nb",
        title_da="",
        text_da="",
        title_nb="Veldig bra",
        text_nb="Jeg ble mye bedre.",
    )
    html = main_part(client.get(INDEX))
    assert re.search(r'<blockquote class="testimonial-text" lang="nb"><p>Jeg ble mye bedre.', html)
    assert '<h3 class="testimonial-title" lang="nb">Veldig bra</h3>' in html
    assert "Written in Norwegian Bokmål" in html
    # On a page in the patient's own language there is nothing to say.
    html = main_part(client.get(url_in("nb", "testimonials:index")))
    assert "Jeg ble mye bedre." in html and 'lang="nb"' not in html
    assert "testimonial-language" not in html


def test_a_card_shows_the_name_age_condition_treatment_and_year(client, neck):
    gold = TreatmentFactory(name_en="Gold implantation")
    TestimonialFactory(
        approved=True,
        display_name="Anders",
        age=67,
        treatment=gold,
        treatment_year=2023,
        conditions=[neck],
    )
    html = main_part(client.get(INDEX))
    assert "Anders, 67 years old" in html
    assert 'href="/en/conditions/neck-pain/">Neck pain</a>' in html
    assert "Gold implantation</a>" in html
    assert "Treated in 2023" in html


def test_stars_have_a_text_alternative(client, demo):
    TestimonialFactory(approved=True, rating=4)
    html = main_part(client.get(INDEX))
    assert re.search(
        r'<span class="stars" aria-hidden="true">★★★★<span class="star-empty">☆</span></span>'
        r'<span class="visually-hidden">Rated 4 of 5</span>',
        html,
    )
    assert "<img" not in html


def test_there_is_no_review_markup_anywhere(client, neck):
    TestimonialFactory(approved=True, featured=True, conditions=[neck])
    for path in (INDEX, "/en/", "/en/conditions/neck-pain/"):
        html = client.get(path).content.decode()
        assert "testimonial-card" in html, path
        for word in ("aggregateRating", '"Review"', "ratingValue", "itemtype", "itemprop"):
            assert word not in html, (path, word)


def test_text_is_escaped(client, demo):
    testimonial = TestimonialFactory(approved=True)
    models.Testimonial.objects.filter(pk=testimonial.pk).update(text_da="<b>fed</b> & glad")
    html = main_part(client.get(url_in("da", "testimonials:index")))
    assert "&lt;b&gt;fed&lt;/b&gt; &amp; glad" in html


def test_the_page_is_in_the_sitemap_and_the_menu(client, demo):
    assert "/en/testimonials/" in client.get("/sitemap.xml").content.decode()
    html = client.get(INDEX).content.decode()
    assert 'href="/en/testimonials/" aria-current="page">Patients\' experiences</a>' in html


def test_the_home_page_shows_the_three_newest_featured(client, neck, django_assert_max_num_queries):
    for n in range(4):
        TestimonialFactory(
            approved=True, featured=True, title_da=f"Fremhævet {n}", created_at=days_ago(n)
        )
    TestimonialFactory(approved=True, title_da="Ikke fremhævet")
    TestimonialFactory(featured=True, title_da="Ikke godkendt")
    models.Testimonial.objects.get(title_da="Fremhævet 0").conditions.set([neck])
    with django_assert_max_num_queries(6):
        response = client.get("/da/")
    assert card_titles(response) == ["Fremhævet 0", "Fremhævet 1", "Fremhævet 2"]
    html = main_part(response)
    assert 'href="/da/lidelser/nakke/">' in html
    assert f'href="{url_in("da", "testimonials:index")}"' in html


def test_the_condition_page_shows_its_newest_approved_testimonials(client, neck, knee):
    for n in range(4):
        TestimonialFactory(
            approved=True, title_da=f"Nakke {n}", conditions=[neck], created_at=days_ago(n)
        )
    TestimonialFactory(approved=True, title_da="Knæ", conditions=[knee])
    TestimonialFactory(title_da="Venter", conditions=[neck])
    response = client.get("/en/conditions/neck-pain/")
    assert card_titles(response) == ["Nakke 0", "Nakke 1", "Nakke 2"]
    assert f'href="/en/testimonials/?condition={neck.pk}"' in main_part(response)
    assert card_titles(client.get("/en/conditions/knee-pain/")) == ["Knæ"]
    # No approved testimonials: no section.
    models.Testimonial.objects.filter(title_da="Knæ").get().delete()
    assert "experiences-heading" not in client.get("/en/conditions/knee-pain/").content.decode()


def test_the_condition_page_still_makes_at_most_thirteen_queries(
    client, neck, django_assert_max_num_queries
):
    for _n in range(5):
        TestimonialFactory(approved=True, conditions=[neck], treatment=TreatmentFactory())
    # 13: the appointment type behind the steps before treatment is one of them.
    with django_assert_max_num_queries(13):
        response = client.get("/da/lidelser/nakke/")
    assert response.content.decode().count('class="testimonial-card"') == 3


def test_the_testimonials_page_makes_few_queries(client, neck, django_assert_max_num_queries):
    for _n in range(15):
        TestimonialFactory(approved=True, conditions=[neck], treatment=TreatmentFactory())
    with django_assert_max_num_queries(8):
        response = client.get(INDEX)
    assert response.content.decode().count('class="testimonial-card"') == 10
