"""Whose scan it is, on the doctor's side: the rules around a study that differs from the
booking, the patient ID that is shown but never stored, notes translated when shown, and
the viewer's anatomical order."""

from datetime import date
from html import unescape

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation

from booking.checklist import counted_scan_date
from booking.imaging import processing, services
from booking.imaging.notes import Note, as_note, note
from booking.models import ImagingAccess, ImagingReview, Upload
from booking.storage import private_storage
from tests.booking.factories import BookingFactory
from tests.booking.test_review_access import make_imaging
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
CPR_LIKE = "0312491234"


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    settings.IMAGING_SERVE_WITH_X_ACCEL = False
    return settings.PRIVATE_STORAGE_ROOT


@pytest.fixture
def booking():
    return BookingFactory(language="en", name="Åse Jørgensen", birth_date=date(1949, 3, 12))


@pytest.fixture
def doctor(client):
    user = UserFactory(username="doc", groups=["Doctors"])
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return user


def with_identity(study, name="Joergensen^Aase", birth=date(1949, 3, 12)):
    study.patient_name = name
    study.patient_birth_date = birth
    study.save()
    return study


def two_studies(booking):
    """The booking's own knee CT (2024) and a newer study of somebody else (2025)."""
    own = with_identity(make_imaging(booking)["study"])
    other = make_imaging(BookingFactory())["study"]
    other.booking = booking
    other.study_uid = "9.9.9"
    other.study_date = date(2025, 6, 1)
    other.save()
    with_identity(other, "Hansen^Jens", date(1950, 1, 1))
    return own, other


# --- The comparison as the pages use it ------------------------------------------------------


def test_transliterated_name_and_same_birth_date_match(booking):
    study = with_identity(make_imaging(booking)["study"])
    assert study.compare_with(booking).state == "matches"
    assert not study.differs_from(booking)


def test_a_birth_date_one_day_off_differs(booking):
    study = with_identity(make_imaging(booking)["study"], birth=date(1949, 3, 13))
    assert study.differs_from(booking)


def test_a_study_without_identity_cannot_tell(booking):
    study = make_imaging(booking)["study"]
    assert study.compare_with(booking).state == "unknown"
    assert not study.differs_from(booking)


# --- A study that differs never dates the scan, and a verdict needs a confirmation -------


def test_a_differing_study_never_counts_as_the_scan_date(booking):
    own, other = two_studies(booking)
    assert counted_scan_date(booking) == own.study_date  # not the newer, other patient's
    other.patient_birth_date = booking.birth_date
    other.patient_name = "Jørgensen^Åse"
    other.save()
    assert counted_scan_date(booking) == other.study_date  # once it matches, the newest counts


def test_fill_scan_details_skips_the_differing_study(booking):
    own, _other = two_studies(booking)
    booking.scan_date = None
    booking.save()
    processing.fill_scan_details(booking.pk)
    booking.refresh_from_db()
    assert booking.scan_date == own.study_date


def test_record_review_refuses_without_confirmation_and_never_dates_by_a_differing_study(
    booking,
):
    _own, other = two_studies(booking)
    doctor = UserFactory(username="doc2", groups=["Doctors"])
    with pytest.raises(ValueError, match="confirm"):
        services.record_review(booking=booking, doctor=doctor, verdict="approved")
    with pytest.raises(ValueError, match="another patient"):
        services.record_review(
            booking=booking,
            doctor=doctor,
            verdict="approved",
            scan_study=other,
            identity_checked=True,
        )
    assert not ImagingReview.objects.exists()
    services.record_review(
        booking=booking, doctor=doctor, verdict="approved", identity_checked=True
    )
    assert ImagingReview.objects.count() == 1


def test_the_verdict_form_asks_for_the_confirmation_only_when_a_study_differs(
    client, doctor, booking
):
    own, other = two_studies(booking)
    url = reverse("review:booking", args=[booking.pk])
    page = client.get(url)
    html = page.content.decode()
    assert "Differs from the booking: check before use" in html
    assert "Matches the booking" in html
    choices = [study.pk for study in page.context["form"].fields["scan_study"].queryset]
    assert choices == [own.pk]  # the other patient's study cannot be chosen

    refused = client.post(url, {"verdict": "approved"})
    assert refused.status_code == 200
    assert "in 1 study differs from the booking. Check it, then tick this box" in unescape(
        refused.content.decode()
    )
    assert not ImagingReview.objects.exists()
    chosen_other = client.post(
        url, {"verdict": "approved", "identity_checked": "on", "scan_study": other.pk}
    )
    assert chosen_other.status_code == 200 and not ImagingReview.objects.exists()

    saved = client.post(url, {"verdict": "approved", "identity_checked": "on"})
    assert saved.status_code == 302
    assert ImagingReview.objects.count() == 1

    # Without a differing study there is no box to tick.
    other.delete()
    assert "identity_checked" not in client.get(url).context["form"].fields


# --- The patient ID: shown to doctors, audited, never stored in the database ---------------


def database_holds(text: str) -> list[str]:
    """Every (table, column) of the booking tables whose text contains `text`."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            if not table.startswith("booking_"):
                continue
            for column in connection.introspection.get_table_description(cursor, table):
                quoted_table = connection.ops.quote_name(table)
                quoted = connection.ops.quote_name(column.name)
                cursor.execute(
                    f"SELECT COUNT(*) FROM {quoted_table} WHERE CAST({quoted} AS TEXT) LIKE %s",
                    [f"%{text}%"],
                )
                if cursor.fetchone()[0]:
                    found.append(f"{table}.{column.name}")
    return found


def test_the_patient_id_is_shown_audited_and_purged_but_never_in_the_database(
    client, doctor, booking
):
    study = with_identity(make_imaging(booking)["study"])
    services.store_patient_id(study, CPR_LIKE)
    html = client.get(reverse("review:booking", args=[booking.pk])).content.decode()
    assert CPR_LIKE in html
    row = ImagingAccess.objects.get(action=ImagingAccess.Action.IDENTITY)
    assert row.user == doctor and row.booking == booking
    assert CPR_LIKE not in row.file_label
    assert database_holds(CPR_LIKE) == []
    # The purge deletes it with the rest of the booking's files.
    assert services.patient_id_path(study) in services.booking_file_names(booking)
    booking.status = booking.Status.COMPLETED
    booking.save()
    services.purge_booking(booking)
    assert not private_storage().exists(services.patient_id_path(study))


def test_other_staff_never_see_the_patient_id(client, booking):
    study = with_identity(make_imaging(booking)["study"])
    services.store_patient_id(study, CPR_LIKE)
    client.force_login(UserFactory(username="desk", groups=["Reception"]))
    response = client.get(reverse("review:booking", args=[booking.pk]))
    assert response.status_code == 403
    assert CPR_LIKE not in response.content.decode()
    assert not ImagingAccess.objects.exists()


# --- Notes: stored as messages, translated when shown --------------------------------------


def test_a_note_keeps_its_message_and_parameters_and_is_translated_when_shown():
    _ = note
    stored = (_("%(name)s: %(count)d frames without a preview.") % {"name": "X", "count": 2}).data()
    assert stored == {
        "msg": "%(name)s: %(count)d frames without a preview.",
        "args": {"name": "X", "count": 2},
    }
    nested = Note("No preview of the PDF: %(reason)s Download it to read it.").about("CD/R.PDF")
    nested = nested % {"reason": note("the PDF has no pages.")}
    again = Note.from_data(nested.data())
    assert again == nested
    with translation.override("en"):
        assert str(again) == (
            "CD/R.PDF: No preview of the PDF: the PDF has no pages. Download it to read it."
        )
    with translation.override("da"):
        danish = str(again)
    assert danish.startswith("CD/R.PDF: ") and "No preview" not in danish


def test_as_note_keeps_the_msgid_of_lazy_texts_and_the_name():
    from django.utils.translation import gettext_lazy

    found = as_note(ValueError(gettext_lazy("the file is empty.")), "DICOM/IM1")
    assert found.data() == {"msg": "the file is empty.", "name": "DICOM/IM1"}


def test_upload_notes_show_in_the_readers_language_and_old_rows_as_written(booking):
    upload = Upload.objects.create(
        booking=booking,
        file="x",
        original_name="cd.zip",
        size=1,
        kind=Upload.Kind.ZIP,
        notes=[{"msg": "the file is empty.", "name": "DICOM/IM1"}],
        processing_note="DICOM/IM1: the file is empty.",
    )
    with translation.override("en"):
        assert upload.note_lines() == ["DICOM/IM1: the file is empty."]
    with translation.override("da"):
        assert upload.note_lines() != ["DICOM/IM1: the file is empty."]
        assert upload.note_lines()[0].startswith("DICOM/IM1: ")
    upload.notes = []
    upload.processing_note = "An older note\nwritten as text."
    assert upload.note_lines() == ["An older note", "written as text."]


# --- Titles and order --------------------------------------------------------------------


def test_a_series_without_description_is_never_titled_by_its_uid(booking):
    series = make_imaging(booking)["series"]
    series.description = ""
    with translation.override("en"):
        assert str(series) == "Series 1 (CT)"
        series.number = None
        assert str(series) == "Series (CT)"
    assert series.series_uid not in str(series)


def test_the_viewer_steps_in_position_order_then_instance_number(client, doctor, booking):
    imaging = make_imaging(booking, images=4)
    first, second, third, fourth = imaging["instances"]
    # Positions along the normal disagree with the instance numbers; one has no position.
    for instance, position in ((first, 30.0), (second, -10.0), (third, None), (fourth, 5.0)):
        instance.slice_position = position
        instance.save()
    response = client.get(reverse("review:viewer", args=[imaging["series"].pk]))
    assert response.context["viewer_data"]["ids"] == [second.pk, fourth.pk, first.pk, third.pk]


# --- Uploads processed before windows were kept ----------------------------------------------


def test_reprocess_imaging_queues_only_open_bookings_images_without_windows(booking, monkeypatch):
    from io import StringIO

    from django.core.management import call_command

    from booking.models import Instance

    old = make_imaging(booking)  # processed "before": no windows listed
    Instance.objects.filter(series=old["series"]).update(presets=[])
    current = BookingFactory()
    make_imaging(current)  # has windows
    closed = BookingFactory(status="completed")
    closed_imaging = make_imaging(closed)
    Instance.objects.filter(series=closed_imaging["series"]).update(presets=[])
    queued = []
    from types import SimpleNamespace

    from booking.management.commands import reprocess_imaging

    monkeypatch.setattr(reprocess_imaging, "process_upload", SimpleNamespace(enqueue=queued.append))

    out = StringIO()
    call_command("reprocess_imaging", stdout=out)
    assert "3 uploads would be processed again" in out.getvalue() and queued == []
    call_command("reprocess_imaging", "--apply", stdout=out)
    assert sorted(queued) == sorted(upload.pk for upload in old["dicoms"])
