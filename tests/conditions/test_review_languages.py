"""The medical review is recorded per language, and each page shows the review of the text shown.

A language version no doctor has checked says so (it never borrows the Danish stamp); a page
whose text falls back to another language shows that language's review, marked with `lang`.
"""

import re
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone, translation

from clinic.demo import PRACTITIONER
from conditions.models import Condition, Treatment
from tests.conditions.factories import ConditionFactory, SectionFactory, TreatmentFactory
from tests.conditions.test_admin import editor, form_errors, submit  # noqa: F401  (fixture)
from tests.conditions.test_pages import jsonld_nodes, of_type
from tests.factories import PractitionerFactory

pytestmark = pytest.mark.django_db

OCTOBER = date(2026, 10, 1)
MARCH = date(2026, 3, 2)
NOT_CHECKED = "This version has not yet been checked by a doctor."


def reviewed(language: str, day: date, doctor) -> str:
    """The stamp's words, in `language`, as the page shows them."""
    with translation.override(language):
        return translation.gettext("Medically reviewed on %(date)s by %(doctor)s") % {
            "date": formats.date_format(day, "DATE_FORMAT"),
            "doctor": doctor.name,
        }


def not_checked(language: str) -> str:
    with translation.override(language):
        return translation.gettext(NOT_CHECKED)


def stamp(html: str) -> tuple[str | None, str]:
    """The `lang` attribute and the words of the page's review line."""
    (match,) = re.findall(r'<p class="reviewed"(?: lang="([a-z]+)")?>(.*?)</p>', html, re.S)
    return match[0] or None, match[1].strip()


def web_page(html: str) -> dict:
    (node,) = of_type(jsonld_nodes(html), "MedicalWebPage")
    return node


def doctor_card(html: str) -> str | None:
    """The name in the "Your doctor" card, or None when the page has none."""
    match = re.search(r'id="doctor-heading".*?<h3>(.*?)</h3>', html, re.S)
    return match.group(1) if match else None


@pytest.fixture
def doctors():
    return PractitionerFactory(name="Dr. Dansk Læge"), PractitionerFactory(name="Dr. English")


@pytest.fixture
def neck(demo, doctors):
    """Reviewed in Danish (October) and in English (March, by another doctor); the
    Norwegian text is written but unchecked; Swedish and German have no text of their own."""
    danish, english = doctors
    condition = ConditionFactory(
        name_da="Nakkesmerter",
        name_en="Neck pain",
        name_nb="Nakkesmerter",
        slug_da="nakkesmerter",
        slug_en="neck-pain",
        slug_nb="nakkesmerter",
        introduction_nb="<p>Innledning.</p>",
        reviewed_on_da=OCTOBER,
        reviewed_by_da=danish,
        reviewed_on_en=MARCH,
        reviewed_by_en=english,
    )
    SectionFactory(condition=condition, kind="about")
    return condition


def page(client, condition: Condition, language: str) -> str:
    with translation.override(language):
        url = condition.get_absolute_url()
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_each_language_shows_its_own_review(client, neck, doctors):
    danish, english = doctors
    html = page(client, neck, "da")
    assert stamp(html) == (None, reviewed("da", OCTOBER, danish))
    assert web_page(html)["lastReviewed"] == "2026-10-01"
    assert web_page(html)["reviewedBy"]["name"] == danish.name
    assert doctor_card(html) == danish.name

    html = page(client, neck, "en")
    assert stamp(html) == (None, reviewed("en", MARCH, english))
    assert web_page(html)["lastReviewed"] == "2026-03-02"
    assert web_page(html)["reviewedBy"]["name"] == english.name
    assert doctor_card(html) == english.name


def test_an_unchecked_version_says_so_instead_of_borrowing_the_danish_stamp(client, neck, doctors):
    html = page(client, neck, "nb")
    assert stamp(html) == (None, not_checked("nb"))
    assert doctors[0].name not in html.split("<main", 1)[1]
    node = web_page(html)
    assert "lastReviewed" not in node and "reviewedBy" not in node
    assert doctor_card(html) is None


def test_text_in_a_fallback_language_shows_that_languages_review_marked_with_lang(
    client, neck, doctors
):
    danish, english = doctors
    # Swedish falls back to Danish, German to English first.
    html = page(client, neck, "sv")
    assert 'lang="da"' in re.search(r'<div class="rich-text lead-text"[^>]*>', html).group(0)
    assert stamp(html) == ("da", reviewed("da", OCTOBER, danish))
    assert web_page(html)["lastReviewed"] == "2026-10-01"
    assert doctor_card(html) == danish.name

    html = page(client, neck, "de")
    assert stamp(html) == ("en", reviewed("en", MARCH, english))
    assert web_page(html)["reviewedBy"]["name"] == english.name
    assert doctor_card(html) == english.name


def test_a_fallback_version_nobody_checked_says_so_in_its_own_language(client, neck):
    Condition.objects.filter(pk=neck.pk).update(reviewed_on_da=None, reviewed_by_da=None)
    html = page(client, neck, "sv")
    assert stamp(html) == ("da", not_checked("da"))
    assert "lastReviewed" not in web_page(html)
    assert doctor_card(html) is None


def test_a_treatment_page_follows_the_same_rule(client, demo, doctors):
    danish, _english = doctors
    treatment = TreatmentFactory(
        body_da="<p>Om behandlingen.</p>",
        body_en="<p>About it.</p>",
        reviewed_on_da=OCTOBER,
        reviewed_by_da=danish,
    )
    for language, expected in [
        ("da", (None, reviewed("da", OCTOBER, danish))),
        ("en", (None, not_checked("en"))),
        ("nb", ("da", reviewed("da", OCTOBER, danish))),
    ]:
        with translation.override(language):
            html = client.get(treatment.get_absolute_url()).content.decode()
        assert stamp(html) == expected, language
        assert ("lastReviewed" in web_page(html)) == (expected[1] != not_checked("en"))


def test_a_fallback_page_makes_no_more_queries_than_a_page_in_its_own_language(client, neck):
    """Counted without snapshots (as when they must be made)."""
    counts = {}
    for language in ("da", "sv", "de"):
        with translation.override(language):
            url = neck.get_absolute_url()
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts[language] = len(queries)
    assert counts["sv"] == counts["da"] and counts["de"] == counts["da"], counts


# --- The admin ----------------------------------------------------------------------

CONDITION_ADD = reverse("admin:conditions_condition_add")


def test_the_admin_has_a_review_per_language_with_its_explanation(editor):  # noqa: F811
    html = editor.get(CONDITION_ADD).content.decode()
    for code in ("da", "en", "nb", "sv", "de"):
        assert f'name="reviewed_on_{code}"' in html and f'name="reviewed_by_{code}"' in html
    assert "A doctor checks each language version of the text." in html
    assert "The day a doctor last checked the text in this language." in html


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"reviewed_on_nb": "tomorrow", "reviewed_by_nb": "doctor"}, "reviewed_on_nb",
         "The review date cannot be in the future."),
        ({"reviewed_by_sv": "doctor"}, "reviewed_on_sv", "Enter the day the text was reviewed."),
        ({"reviewed_on_de": "today"}, "reviewed_by_de", "Choose the doctor who reviewed the text."),
    ],
)  # fmt: skip
def test_each_languages_review_is_checked_on_its_own(editor, changes, field, message):  # noqa: F811
    doctor = PractitionerFactory()
    today = timezone.localdate()
    values = {"today": today, "tomorrow": today + timedelta(days=1), "doctor": doctor.pk}
    response = submit(
        editor,
        CONDITION_ADD,
        {"name_da": "Nakkesmerter", "slug_da": "nakkesmerter"}
        | {name: values[value] for name, value in changes.items()},
    )
    assert form_errors(response)[field] == [message]
    assert not Condition.objects.exists()


def test_a_review_saved_in_one_language_leaves_the_others_unreviewed(editor):  # noqa: F811
    doctor = PractitionerFactory()
    today = timezone.localdate()
    response = submit(
        editor,
        CONDITION_ADD,
        {
            "name_da": "Nakkesmerter",
            "slug_da": "nakkesmerter",
            "reviewed_on_en": today,
            "reviewed_by_en": doctor.pk,
        },
    )
    assert response.status_code == 302
    condition = Condition.objects.get()
    assert condition.reviewed_languages() == ["en"]
    assert (condition.reviewed_on_en, condition.reviewed_by_en) == (today, doctor)
    listing = editor.get(reverse("admin:conditions_condition_changelist")).content.decode()
    assert '<td class="field-reviewed_languages">EN</td>' in listing


def test_a_doctor_named_on_a_review_in_any_language_cannot_be_deleted(doctors):
    danish, english = doctors
    condition = ConditionFactory(reviewed_on_nb=OCTOBER, reviewed_by_nb=danish)
    TreatmentFactory(reviewed_on_en=MARCH, reviewed_by_en=english)
    for doctor in doctors:
        with pytest.raises(ProtectedError):
            doctor.delete()
    condition.reviewed_by_nb = english
    condition.save()
    danish.delete()
    with pytest.raises(ProtectedError):
        english.delete()
    condition.refresh_from_db()
    assert condition.review_in("nb").reviewed_by == english


# --- The demo and the data migration --------------------------------------------------


def test_the_demo_records_each_language_files_review():
    call_command("load_demo")
    for obj in [*Condition.objects.all(), *Treatment.objects.all()]:
        assert obj.reviewed_languages() == ["da", "en"], obj
        assert obj.reviewed_by_da.name == PRACTITIONER["name"]
        assert obj.reviewed_on_da == obj.reviewed_on_en == OCTOBER


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_the_existing_review_to_the_danish_version():
    executor = MigrationExecutor(connection)
    before = [("conditions", "0002_review_per_language")]
    after = [("conditions", "0003_review_copied_to_danish")]
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    doctor = apps.get_model("clinic", "Practitioner").objects.create(name="Dr. Før")
    fields = {"status": "published", "published_at": timezone.now()}
    apps.get_model("conditions", "Condition").objects.create(
        name_da="Før", slug_da="foer", reviewed_on=OCTOBER, reviewed_by=doctor, **fields
    )
    apps.get_model("conditions", "Condition").objects.create(
        name_da="Aldrig", slug_da="aldrig", **fields
    )
    apps.get_model("conditions", "Treatment").objects.create(
        name_da="Før", slug_da="foer", reviewed_on=MARCH, reviewed_by=doctor, **fields
    )
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor.loader.build_graph()
    apps = executor.loader.project_state(after).apps
    rows = apps.get_model("conditions", "Condition").objects.order_by("slug_da")
    values = rows.values_list("slug_da", "reviewed_on_da", "reviewed_by_da", "reviewed_on_nb")
    assert list(values) == [("aldrig", None, None, None), ("foer", OCTOBER, doctor.pk, None)]
    treatment = apps.get_model("conditions", "Treatment").objects.get()
    assert (treatment.reviewed_on_da, treatment.reviewed_by_da_id) == (MARCH, doctor.pk)
    assert treatment.reviewed_on_en is None
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
