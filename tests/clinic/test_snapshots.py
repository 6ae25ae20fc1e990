"""Published snapshots (clinic/snapshots.py): made right after a change's commit, never
used once out of date, the same page as the database gives, per language."""

import logging
import pickle
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from clinic import page_cache, snapshots
from conditions.models import Condition
from tests.conditions.factories import ConditionFactory, RecommendationFactory, TreatmentFactory
from tests.testimonials.factories import TestimonialFactory

pytestmark = pytest.mark.django_db

NECK = "/da/lidelser/nakkesmerter/"


def main_part(response) -> str:
    assert response.status_code == 200
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


def queries_of(client, url) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return len(queries), response


@pytest.fixture
def demo(demo_for_the_module, db):
    """The whole demo (conditions, testimonials, booking), loaded once for the module."""
    return demo_for_the_module


@pytest.fixture(autouse=True)
def no_page_cache(settings):
    """Pages uncached (the snapshots are not a page cache), and no snapshot left over."""
    settings.PAGE_CACHE_SECONDS = 0
    page_cache.reset_failure_state()  # a cache failure of an earlier test is forgotten
    cache.clear()
    yield
    cache.clear()


def database_html(client, url, monkeypatch) -> str:
    """The page as made from the database, every snapshot read built afresh."""
    with monkeypatch.context() as patch:
        patch.setattr(snapshots, "read", snapshots._build)
        return main_part(client.get(url))


# --- Made after the commit, used by the first visitor ---------------------------------


def test_the_first_visitor_after_a_committed_change_reads_the_new_snapshot(
    client, demo, django_capture_on_commit_callbacks
):
    neck = Condition.objects.get(slug_da="nakkesmerter")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        neck.name_da = "Ondt i nakken"
        neck.save()
    assert callbacks  # the rebuild waited for the commit
    count, response = queries_of(client, NECK)
    assert "Ondt i nakken" in main_part(response)
    assert count == 0


def test_a_change_makes_the_site_language_s_snapshots_the_others_at_their_first_visit(
    client, demo, django_capture_on_commit_callbacks
):
    neck = Condition.objects.get(slug_da="nakkesmerter")
    with translation.override("en"):
        english = neck.get_absolute_url()
    with django_capture_on_commit_callbacks(execute=True):
        neck.name_en = "A sore neck"
        neck.save()
    assert queries_of(client, NECK)[0] == 0
    count, response = queries_of(client, english)
    assert "A sore neck" in main_part(response) and count > 0
    count, response = queries_of(client, english)
    assert "A sore neck" in main_part(response) and count == 0


def test_without_the_commit_the_page_reads_the_database_and_never_the_old_snapshot(
    client, demo, django_capture_on_commit_callbacks
):
    snapshots.rebuild()
    neck = Condition.objects.get(slug_da="nakkesmerter")
    with django_capture_on_commit_callbacks(execute=False):
        neck.name_da = "Ondt i nakken"
        neck.save()  # the version is new at once; the snapshots are of the old one
    count, response = queries_of(client, NECK)
    assert "Ondt i nakken" in main_part(response)
    assert count > 0
    # ... and what that visitor read is kept for the next one.
    count, response = queries_of(client, NECK)
    assert ("Ondt i nakken" in main_part(response), count) == (True, 0)


def test_many_saves_in_one_transaction_rebuild_once_also_after_a_rolled_back_savepoint(
    demo, django_capture_on_commit_callbacks, monkeypatch
):
    rebuilt = []
    monkeypatch.setattr(snapshots, "rebuild", lambda: rebuilt.append(1))
    neck = Condition.objects.get(slug_da="nakkesmerter")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        neck.save()
        neck.faqs.first().save()
        try:
            with transaction.atomic():
                neck.sections.first().save()  # its callback is dropped with the savepoint
                raise RuntimeError
        except RuntimeError:
            pass
    assert rebuilt == [1]
    with django_capture_on_commit_callbacks(execute=True):
        neck.save()
    assert rebuilt == [1, 1]


def test_a_failing_rebuild_never_fails_the_save_and_the_page_reads_the_database(
    client, demo, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    def broken():
        raise RuntimeError("database gone away")

    monkeypatch.setattr(snapshots, "_rebuilders", [broken, *snapshots._rebuilders])
    neck = Condition.objects.get(slug_da="nakkesmerter")
    with (
        caplog.at_level(logging.ERROR, logger="clinic.snapshots"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        neck.name_da = "Ondt i nakken"
        neck.save()
    assert "snapshots not made" in caplog.records[0].getMessage()
    assert "Ondt i nakken" in main_part(client.get(NECK))


# --- The same page as the database gives ----------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        NECK,
        "/nb/lidelser/nakkesmerter/",
        "/en/",
        "/da/",
        "/en/testimonials/",
        "/sv/",
        "/da/spoergsmaal/",
    ],
)
def test_a_page_from_the_snapshots_is_the_page_from_the_database(client, demo, monkeypatch, url):
    from_database = database_html(client, url, monkeypatch)
    snapshots.rebuild()
    client.get(url)  # the other languages' snapshots are made by their first visitor
    count, response = queries_of(client, url)
    assert main_part(response) == from_database
    assert count == 0


def test_the_order_of_a_language_is_that_language_s(client, demo):
    """The database orders conditions by their name in the page's language."""
    Condition.objects.update(status=Condition.Status.DRAFT)
    ConditionFactory(name_da="Albue", name_en="Zygomatic pain", slug_da="albue", summary_da="A")
    ConditionFactory(name_da="Ryg", name_en="Back pain", slug_da="ryg", summary_da="R")
    with translation.override("da"):
        snapshots.rebuild()  # made in one language, for every language
    _count, danish = queries_of(client, "/da/")
    _count, english = queries_of(client, "/en/")
    danish, english = main_part(danish), main_part(english)
    assert danish.index("Albue") < danish.index("Ryg")
    assert english.index("Back pain") < english.index("Zygomatic pain")


# --- What is public is decided when the page is asked for ------------------------------


def test_a_condition_published_from_later_appears_then_without_a_new_save(client, demo):
    later = timezone.now() + timedelta(minutes=5)  # before the snapshots expire
    condition = ConditionFactory(name_da="Skulder", slug_da="skulder", published_at=later)
    snapshots.rebuild()
    url = "/da/lidelser/skulder/"
    assert client.get(url).status_code == 404
    assert "Skulder" not in main_part(client.get("/da/"))
    with time_machine.travel(later + timedelta(seconds=1)):
        count, response = queries_of(client, url)
        assert condition.name_da in main_part(response)
        assert count == 0
    with time_machine.travel(later - timedelta(seconds=1)):
        assert client.get(url).status_code == 404


def test_a_treatment_published_from_later_is_linked_from_then(client, demo):
    neck = Condition.objects.get(slug_da="nakkesmerter")
    later = timezone.now() + timedelta(minutes=5)
    treatment = TreatmentFactory(name_da="Varmebehandling", slug_da="varme", published_at=later)
    RecommendationFactory(condition=neck, treatment=treatment, phase="new")
    snapshots.rebuild()
    assert "Varmebehandling" not in main_part(client.get(NECK))
    with time_machine.travel(later + timedelta(seconds=1)):
        count, response = queries_of(client, NECK)
        assert 'href="/da/behandlinger/varme/"' in main_part(response)
        assert count == 0


def test_a_draft_is_never_in_a_snapshot(client, demo):
    ConditionFactory(name_da="Kladde", slug_da="kladde", status=Condition.Status.DRAFT)
    snapshots.rebuild()
    assert client.get("/da/lidelser/kladde/").status_code == 404
    assert all(c.slug_da != "kladde" for c in snapshots.read("conditions:da"))


# --- What a snapshot holds -------------------------------------------------------------


def test_a_snapshot_holds_no_patient_s_e_mail_address(demo):
    TestimonialFactory(approved=True, email="patient.private@example.org", featured=True)
    snapshots.rebuild()
    entries = cache.get_many([snapshots._key(name) for name in ("testimonials",)])
    assert entries and all(
        b"patient.private" not in pickle.dumps(entry) for entry in entries.values()
    )
    testimonial = snapshots.read("testimonials")[0]
    assert "email" not in testimonial.__dict__


def test_an_unknown_language_is_refused(demo):
    with pytest.raises(KeyError):
        snapshots.read("conditions:xx")


# --- What a web process keeps ----------------------------------------------------------


def test_a_thread_keeps_what_it_read_until_the_version_changes_or_it_expires(demo):
    snapshots.rebuild()
    first = snapshots.read("conditions:da")
    assert snapshots.read("conditions:da") is first  # not unpickled again
    other = []
    thread = threading.Thread(target=lambda: other.append(snapshots.read("conditions:da")))
    thread.start()
    thread.join()
    assert other[0] is not first and other[0] == first  # each thread its own objects
    with time_machine.travel(timezone.now() + timedelta(seconds=snapshots.TIMEOUT_SECONDS + 1)):
        assert snapshots.read("conditions:da") is not first
    again = snapshots.read("conditions:da")
    Condition.objects.first().save()  # a new content version
    assert snapshots.read("conditions:da") is not again


def test_what_a_thread_keeps_is_bounded(demo, monkeypatch):
    monkeypatch.setattr(snapshots, "KEPT_PER_THREAD", 2)
    snapshots.forget_kept()
    for language in ("da", "en", "nb"):
        snapshots.read(f"conditions:{language}")
    assert len(snapshots._kept.entries) == 2
    assert [key.rsplit(":", 1)[1] for key in snapshots._kept.entries] == ["en", "nb"]
