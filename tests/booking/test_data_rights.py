"""A patient's data rights: the export zip, the erasure of what is not the medical record,
and `manage.py purge_records` with its retention settings."""

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from io import StringIO
from unittest import mock

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from playwright.sync_api import expect

from booking.imaging.services import record_review
from booking.models import (
    Booking,
    BookingView,
    ImagingAccess,
    ImagingReview,
    PlannedMessage,
    Upload,
)
from booking.models.audit import DataRightsRecord
from booking.storage import private_storage
from tests.booking.factories import BookingFactory
from tests.conftest import WCAG_TAGS, axe_violations, log_in_verified, screenshot
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
Status = Booking.Status
Action = DataRightsRecord.Action


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    return settings.PRIVATE_STORAGE_ROOT


@pytest.fixture(autouse=True)
def no_sending():
    with mock.patch("booking.tasks.send_booking_message"):
        yield


def logged_in(client, user):
    client.force_login(user)  # with the second factor passed (tests/conftest.py)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def url(booking, step=""):
    return f"/admin/booking/booking/{booking.pk}/{step}"


def add_upload(booking, original_name="IM0001.dcm", content=b"DICM patient bytes"):
    name = private_storage().save(f"bookings/{booking.pk}/upload.bin", ContentFile(content))
    return Upload.objects.create(
        booking=booking,
        file=name,
        original_name=original_name,
        size=len(content),
        kind=Upload.Kind.DICOM,
    )


def add_message(booking, kind="received", status=PlannedMessage.Status.SENT, key="1"):
    now = timezone.now()
    return PlannedMessage.objects.create(
        booking=booking,
        kind=kind,
        channel="email",
        key=key,
        due_at=now,
        send_after=now,
        status=status,
        sent_at=now if status == PlannedMessage.Status.SENT else None,
    )


def unzip(response) -> zipfile.ZipFile:
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def read_json(archive, name):
    return json.loads(archive.read(name))


@pytest.fixture
def doctor_user():
    return UserFactory(groups=["Doctors"])


@pytest.fixture
def doctor(client, doctor_user):
    return logged_in(client, doctor_user)


@pytest.fixture
def superuser():
    return UserFactory(is_superuser=True)


# --- Export ---------------------------------------------------------------------------


@pytest.fixture
def patient(doctor_user):
    """Two bookings of one patient (the address in other letter case) and a stranger's."""
    first = BookingFactory(email="Anna@Example.com", name="Anna", status=Status.COMPLETED)
    second = BookingFactory(email="anna@example.COM", name="Anna")
    stranger = BookingFactory(email="other@example.com")
    add_upload(first, "IM0001.dcm", b"first image")
    add_upload(first, "../../etc/passwd", b"hostile name")
    add_upload(second, "report.pdf", b"%PDF second")
    add_message(first, kind="confirmed")
    record_review(booking=first, doctor=doctor_user, verdict="approved")
    return {"first": first, "second": second, "stranger": stranger}


def test_reception_may_not_export_because_the_zip_holds_images(client, patient):
    reception = logged_in(client, UserFactory(groups=["Reception"]))
    booking = patient["first"]
    page = reception.get(url(booking, "change/"))
    assert page.status_code == 200
    assert "Export the patient" not in page.content.decode()
    assert reception.get(url(booking, "export/")).status_code == 403
    assert reception.post(url(booking, "export/"), {"scope": "patient"}).status_code == 403
    assert not DataRightsRecord.objects.exists()


def test_doctor_sees_the_button_and_the_patients_bookings(doctor, patient):
    page = doctor.get(url(patient["first"], "change/")).content.decode()
    assert url(patient["first"], "export/") in page
    text = doctor.get(url(patient["first"], "export/")).content.decode()
    assert patient["first"].reference in text
    assert patient["second"].reference in text  # same address, other letter case
    assert patient["stranger"].reference not in text
    assert not DataRightsRecord.objects.exists()  # looking is not exporting


def test_export_of_the_patient_holds_every_booking_section_and_file(doctor, doctor_user, patient):
    first, second = patient["first"], patient["second"]
    doctor.get(url(first, "change/"))  # a staff view, to be found in the audit section
    response = doctor.post(url(first, "export/"), {"scope": "patient"})
    archive = unzip(response)
    names = archive.namelist()
    assert not any(n.startswith(patient["stranger"].reference) for n in names)

    data = read_json(archive, f"{first.reference}/booking.json")
    assert data["fields"]["name"] == {"label": "name", "value": "Anna"}
    assert data["fields"]["status"]["shown_as"] == "Completed"
    assert data["fields"]["email"]["value"] == "Anna@Example.com"
    assert "access_key" not in data["fields"]  # the private link's secret stays out
    assert str(first.access_key) not in b"".join(archive.read(n) for n in names).decode(
        errors="replace"
    )

    history = read_json(archive, f"{first.reference}/history.json")
    assert history[0]["what"] == "created"
    assert history[0]["values"]["name"]["value"] == "Anna"
    assert history[0]["values"]["appointment_type_id"]["label"] == "appointment type"

    messages = read_json(archive, f"{first.reference}/messages.json")
    assert [m["kind"]["value"] for m in messages] == ["confirmed"]
    assert messages[0]["status"]["shown_as"] == "Sent"
    assert messages[0]["sent_at"]["value"]

    views = read_json(archive, f"{first.reference}/staff-views.json")
    assert [v["user"]["value"] for v in views["opened_by_staff"]] == [str(doctor_user)]
    reviews = read_json(archive, f"{first.reference}/imaging-reviews.json")
    assert reviews[0]["verdict"]["value"] == "approved"

    files = read_json(archive, f"{first.reference}/files.json")
    assert [f["original_name"] for f in files] == ["IM0001.dcm", "../../etc/passwd"]
    assert archive.read(files[0]["in_this_zip"]) == b"first image"
    hostile = files[1]["in_this_zip"]
    assert hostile.startswith(f"{first.reference}/files/") and ".." not in hostile
    assert "/" not in hostile.removeprefix(f"{first.reference}/files/")  # no folders
    assert archive.read(hostile) == b"hostile name"
    second_files = read_json(archive, f"{second.reference}/files.json")
    assert archive.read(second_files[0]["in_this_zip"]) == b"%PDF second"

    record = DataRightsRecord.objects.get()
    assert (record.user, record.action, record.booking) == (doctor_user, Action.EXPORT, first)
    assert first.reference in record.references and second.reference in record.references


def test_history_says_what_changed_from_the_version_before(doctor):
    booking = confirmed_then(Status.COMPLETED, email="")
    archive = unzip(doctor.post(url(booking, "export/"), {"scope": "booking"}))
    history = read_json(archive, f"{booking.reference}/history.json")
    assert [entry["what"] for entry in history] == ["created", "changed"]
    changes = {change["field"]: change for change in history[1]["changes"]}
    assert changes["status"]["from"] == "confirmed" and changes["status"]["to"] == "completed"
    assert changes["status"]["label"] == "Status"


def test_export_of_this_booking_only(doctor, patient):
    archive = unzip(doctor.post(url(patient["second"], "export/"), {"scope": "booking"}))
    folders = {name.split("/")[0] for name in archive.namelist()}
    assert folders == {patient["second"].reference}
    assert DataRightsRecord.objects.get().references == patient["second"].reference


def test_a_file_no_longer_stored_is_listed_not_fatal(doctor, patient):
    upload = Upload.objects.get(original_name="report.pdf")
    private_storage().delete(upload.file.name)
    archive = unzip(doctor.post(url(patient["second"], "export/"), {"scope": "booking"}))
    files = read_json(archive, f"{patient['second'].reference}/files.json")
    assert files[0]["in_this_zip"] is None and files[0]["note"]
    assert not any("/files/" in name for name in archive.namelist())


def test_a_booking_without_an_address_is_exported_alone(doctor):
    alone = BookingFactory(email="")
    BookingFactory(email="")
    archive = unzip(doctor.post(url(alone, "export/"), {"scope": "patient"}))
    assert {name.split("/")[0] for name in archive.namelist()} == {alone.reference}


# --- Erasure --------------------------------------------------------------------------


def confirmed_then(status, **fields):
    """A booking that was confirmed (so its history says so), then moved to `status`."""
    booking = BookingFactory(status=Status.CONFIRMED, **fields)
    booking.status = status
    booking.save()
    return booking


@pytest.fixture
def mixed():
    email = "bo@example.com"
    made = {
        "draft": BookingFactory(email=email, status=Status.DRAFT, submitted_at=None),
        "request": BookingFactory(email="BO@example.com", status=Status.REQUESTED),
        "cancelled_request": BookingFactory(email=email, status=Status.CANCELLED),
        "completed": confirmed_then(Status.COMPLETED, email=email),
        "cancelled_after_confirming": confirmed_then(Status.CANCELLED, email=email),
        "open": BookingFactory(
            email=email,
            status=Status.CONFIRMED,
            wants_earlier=True,
            wants_earlier_since=timezone.now(),
        ),
        "reviewed_request": BookingFactory(email=email, status=Status.REQUESTED),
    }
    doctor = UserFactory(groups=["Doctors"])
    record_review(booking=made["reviewed_request"], doctor=doctor, verdict="new_imaging")
    add_upload(made["draft"], "draft.dcm")
    add_upload(made["request"], "request.dcm")
    add_message(made["request"])
    add_message(made["completed"], kind="confirmed")
    add_message(made["completed"], kind="day_before", key="2")
    add_message(made["open"], kind="confirmed")
    # The completed booking was on the waitlist once: only its history still says so.
    Booking.history.filter(id=made["completed"].pk).update(
        wants_earlier=True, wants_earlier_since=timezone.now()
    )
    return made


def test_erase_needs_the_permission(client, mixed):
    doctor = logged_in(client, UserFactory(groups=["Doctors"]))
    booking = mixed["completed"]
    assert "erase/" not in doctor.get(url(booking, "change/")).content.decode()
    assert doctor.get(url(booking, "erase/")).status_code == 403
    assert doctor.post(url(booking, "erase/"), {"booking": [booking.pk]}).status_code == 403
    assert Booking.objects.filter(pk=mixed["draft"].pk).exists()


def test_the_page_lists_what_goes_and_what_stays_and_why(client, superuser, mixed):
    admin = logged_in(client, superuser)
    assert (
        url(mixed["completed"], "erase/")
        in admin.get(url(mixed["completed"], "change/")).content.decode()
    )
    page = admin.get(url(mixed["completed"], "erase/")).content.decode()
    erased = page.split('id="erased"')[1].split("</ul>")[0]
    kept = page.split('id="kept"')[1].split("</ul>")[0]
    for name in ("draft", "request", "cancelled_request"):
        assert mixed[name].reference in erased, name
    for name in ("cancelled_after_confirming", "open", "reviewed_request"):
        assert f"Booking {mixed[name].reference} (" not in erased, name
        assert f"Booking {mixed[name].reference} (" in kept, name
    # The open booking is kept, but its waitlist goes.
    assert f"waitlist (wanting an earlier time) of booking {mixed['open'].reference}" in erased
    assert "2 message rows of booking " + mixed["completed"].reference in erased
    assert "It led to an appointment." in kept
    assert "A doctor reviewed its images." in kept
    assert "still open" in kept  # the open booking's message row
    assert "10 years" in page and "journalføringspligt" in page
    assert Booking.objects.count() == 7  # looking erases nothing


def test_erase_removes_only_what_is_not_the_record(client, superuser, mixed, storage):
    admin = logged_in(client, superuser)
    start = mixed["completed"]
    page = admin.get(url(start, "erase/"))
    form = {
        "booking": [b.pk for b in page.context["bookings"]],
        "delete": [b.pk for b, _reason in page.context["plan"].delete],
    }
    response = admin.post(url(start, "erase/"), form)
    assert response.status_code == 302 and response["Location"].endswith(url(start, "change/"))

    gone = [mixed[n].pk for n in ("draft", "request", "cancelled_request")]
    assert not Booking.objects.filter(pk__in=gone).exists()
    assert not Booking.history.filter(id__in=gone).exists()
    assert not Upload.objects.filter(booking_id__in=gone).exists()
    assert not (storage / "bookings" / str(mixed["draft"].pk) / "upload.bin").exists()
    assert not (storage / "bookings" / str(mixed["request"].pk) / "upload.bin").exists()
    kept = ("completed", "cancelled_after_confirming", "open", "reviewed_request")
    assert Booking.objects.filter(pk__in=[mixed[n].pk for n in kept]).count() == 4
    assert ImagingReview.objects.filter(booking=mixed["reviewed_request"]).exists()

    assert not PlannedMessage.objects.filter(booking=mixed["completed"]).exists()
    assert PlannedMessage.objects.filter(booking=mixed["open"]).count() == 1
    open_booking = Booking.objects.get(pk=mixed["open"].pk)
    assert (open_booking.wants_earlier, open_booking.wants_earlier_since) == (False, None)
    assert not Booking.history.filter(wants_earlier=True).exists()
    assert not Booking.history.filter(wants_earlier_since__isnull=False).exists()

    record = DataRightsRecord.objects.get()
    assert (record.user, record.action, record.booking) == (superuser, Action.ERASE, start)
    assert mixed["draft"].reference in record.summary
    assert "bo@example.com" not in (record.summary + record.references).lower()


def test_the_erasure_record_counts_the_stored_files_not_the_emptied_folders(
    client, superuser, mixed, storage
):
    admin = logged_in(client, superuser)
    start = mixed["completed"]
    page = admin.get(url(start, "erase/"))
    doomed = [b for b, _reason in page.context["plan"].delete]
    admin.post(
        url(start, "erase/"),
        {"booking": [b.pk for b in page.context["bookings"]], "delete": [b.pk for b in doomed]},
    )
    # Two uploads among the three bookings erased (the draft's and the request's).
    assert len(doomed) == 3
    assert DataRightsRecord.objects.get().summary.endswith(" 2 stored file(s) removed.")


def test_erase_deletes_only_what_the_page_showed(client, superuser, mixed):
    admin = logged_in(client, superuser)
    start = mixed["completed"]
    page = admin.get(url(start, "erase/"))
    form = {
        "booking": [b.pk for b in page.context["bookings"]],
        "delete": [b.pk for b, _reason in page.context["plan"].delete],
    }
    late = BookingFactory(email="bo@example.com", status=Status.DRAFT)  # after the page
    admin.post(url(start, "erase/"), form)
    assert Booking.objects.filter(pk=late.pk).exists()


def test_only_the_bookings_listed_for_deletion_are_deleted(client, superuser, mixed):
    admin = logged_in(client, superuser)
    start = mixed["completed"]
    page = admin.get(url(start, "erase/"))
    admin.post(url(start, "erase/"), {"booking": [b.pk for b in page.context["bookings"]]})
    assert Booking.objects.filter(pk=mixed["draft"].pk).exists()
    assert Booking.objects.filter(pk=mixed["request"].pk).exists()
    # What the page listed besides is still erased.
    assert not PlannedMessage.objects.filter(booking=mixed["completed"]).exists()


def test_a_request_confirmed_between_page_and_post_is_kept(client, superuser, mixed):
    admin = logged_in(client, superuser)
    start = mixed["completed"]
    page = admin.get(url(start, "erase/"))
    form = {
        "booking": [b.pk for b in page.context["bookings"]],
        "delete": [b.pk for b, _reason in page.context["plan"].delete],
    }
    request = Booking.objects.get(pk=mixed["request"].pk)
    request.status = Status.CONFIRMED
    request.save()
    admin.post(url(start, "erase/"), form)
    assert Booking.objects.filter(pk=request.pk).exists()


def test_the_erase_permission_is_enough_without_being_superuser(client, mixed):
    user = UserFactory(groups=["Reception"])
    user.user_permissions.add(Permission.objects.get(codename="erase_patient_data"))
    admin = logged_in(client, user)
    draft = mixed["draft"]
    page = admin.get(url(draft, "erase/"))
    assert page.status_code == 200
    form = {
        "booking": [b.pk for b in page.context["bookings"]],
        "delete": [b.pk for b, _reason in page.context["plan"].delete],
    }
    response = admin.post(url(draft, "erase/"), form)
    # The booking the page was opened from is gone: back to the list.
    assert response["Location"].endswith("/admin/booking/booking/")
    assert not Booking.objects.filter(pk=draft.pk).exists()
    record = DataRightsRecord.objects.get()
    assert record.booking is None and draft.reference in record.references


def test_exports_and_erasures_are_listed_read_only(client, superuser, mixed):
    admin = logged_in(client, superuser)
    admin.post(url(mixed["completed"], "export/"), {"scope": "booking"})
    page = admin.get("/admin/booking/datarightsrecord/")
    assert page.status_code == 200
    assert mixed["completed"].reference in page.content.decode()
    assert admin.get("/admin/booking/datarightsrecord/add/").status_code == 403
    record = DataRightsRecord.objects.get()
    assert admin.post(f"/admin/booking/datarightsrecord/{record.pk}/delete/").status_code == 403
    assert DataRightsRecord.objects.filter(pk=record.pk).exists()


# --- Retention: manage.py purge_records --------------------------------------------------

# In UTC, so that adding days adds whole days of 24 hours across a change to summer time.
T0 = datetime(2027, 3, 1, 11, 0, tzinfo=UTC)


def purge(*args) -> str:
    out = StringIO()
    call_command("purge_records", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def retention(settings):
    settings.MESSAGE_RETENTION_DAYS = None
    settings.WAITLIST_RETENTION_DAYS = None
    settings.TASK_RESULT_RETENTION_DAYS = None
    settings.AUDIT_RETENTION_DAYS = None
    return settings


def ended_booking(status=Status.COMPLETED, **fields):
    """Made at T0, with an appointment that ended at T0."""
    with time_machine.travel(T0, tick=False):
        return BookingFactory(
            status=status, starts_at=T0 - timedelta(hours=1), ends_at=T0, **fields
        )


def at(days, seconds=0):
    return time_machine.travel(T0 + timedelta(days=days, seconds=seconds), tick=False)


def test_message_rows_of_ended_bookings_go_after_the_period(retention):
    retention.MESSAGE_RETENTION_DAYS = 30
    with time_machine.travel(T0, tick=False):
        ended = ended_booking()
        add_message(ended)
        still_open = BookingFactory(status=Status.CONFIRMED)
        add_message(still_open)
    with at(30):
        assert "Removed 0 message rows" in purge()
    assert PlannedMessage.objects.filter(booking=ended).exists()
    with at(30, seconds=1):
        assert "Removed 1 message rows" in purge()
    assert not PlannedMessage.objects.filter(booking=ended).exists()
    with at(3000):
        purge()
    assert PlannedMessage.objects.filter(booking=still_open).exists()  # open: never


def test_a_later_change_postpones_the_message_purge(retention):
    retention.MESSAGE_RETENTION_DAYS = 30
    booking = ended_booking(status=Status.CANCELLED)
    with time_machine.travel(T0, tick=False):
        add_message(booking)
    with at(10):
        booking.cancel_reason = "Moved away"
        booking.save()
    with at(40):
        purge()
    assert PlannedMessage.objects.filter(booking=booking).exists()
    with at(40, seconds=1):
        purge()
    assert not PlannedMessage.objects.filter(booking=booking).exists()


def test_a_booking_cancelled_before_its_day_counts_from_the_day(retention):
    retention.MESSAGE_RETENTION_DAYS = 30
    with time_machine.travel(T0, tick=False):
        booking = BookingFactory(
            status=Status.CANCELLED,
            starts_at=T0 + timedelta(days=5),
            ends_at=T0 + timedelta(days=5, hours=1),
        )
        add_message(booking)
    with at(35, seconds=3600):
        purge()
    assert PlannedMessage.objects.filter(booking=booking).exists()
    with at(35, seconds=3601):
        purge()
    assert not PlannedMessage.objects.filter(booking=booking).exists()


def test_without_a_setting_nothing_is_purged(retention):
    retention.MESSAGE_RETENTION_DAYS = None
    booking = ended_booking()
    with time_machine.travel(T0, tick=False):
        add_message(booking)
    with at(5000):
        output = purge()
    assert "Kept all message rows" in output
    assert PlannedMessage.objects.filter(booking=booking).exists()


def test_waitlist_of_ended_bookings_is_cleared_after_the_period(retention):
    retention.WAITLIST_RETENTION_DAYS = 7
    ended = ended_booking(wants_earlier=True, wants_earlier_since=T0 - timedelta(days=3))
    with time_machine.travel(T0, tick=False):
        waiting = BookingFactory(
            status=Status.CONFIRMED, wants_earlier=True, wants_earlier_since=T0
        )
    with at(7):
        purge()
    assert Booking.objects.get(pk=ended.pk).wants_earlier
    with at(7, seconds=1):
        assert "Removed 1 waitlist entries" in purge()
    cleared = Booking.objects.get(pk=ended.pk)
    assert (cleared.wants_earlier, cleared.wants_earlier_since) == (False, None)
    assert not Booking.history.filter(id=ended.pk, wants_earlier=True).exists()
    assert Booking.objects.get(pk=waiting.pk).wants_earlier  # still waiting: kept


def test_finished_task_results_go_after_the_period(retention):
    retention.TASK_RESULT_RETENTION_DAYS = 14

    def task_result(status, finished_at):
        return DBTaskResult.objects.create(
            status=status,
            finished_at=finished_at,
            args_kwargs={"args": [], "kwargs": {}},
            task_path="booking.tasks.process_upload",
            backend_name="default",
            run_after=T0,
            exception_class_path="",
            traceback="",
        )

    done = task_result("SUCCESSFUL", T0)
    failed = task_result("FAILED", T0)
    running = task_result("RUNNING", None)
    # Put back in the queue after a failed try: its old finish time does not count.
    retried = task_result("READY", T0)
    with at(14):
        purge()
    assert DBTaskResult.objects.count() == 4
    with at(14, seconds=1):
        assert "Removed 2 finished task results" in purge()
    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {running.pk, retried.pk}
    assert not DBTaskResult.objects.filter(pk__in=[done.pk, failed.pk]).exists()


def test_audit_rows_go_after_the_period(retention):
    retention.AUDIT_RETENTION_DAYS = 365
    booking = BookingFactory()
    user = UserFactory()
    BookingView.objects.create(booking=booking, user=user, viewed_at=T0)
    ImagingAccess.objects.create(
        user=user, booking=booking, file_label="IM0001.dcm", action="preview", at=T0
    )
    with at(365):
        purge()
    assert BookingView.objects.exists() and ImagingAccess.objects.exists()
    with at(365, seconds=1):
        assert "Removed 2 staff audit rows" in purge()
    assert not BookingView.objects.exists() and not ImagingAccess.objects.exists()
    assert Booking.objects.filter(pk=booking.pk).exists()


def test_dry_run_removes_nothing(retention):
    retention.MESSAGE_RETENTION_DAYS = 1
    retention.AUDIT_RETENTION_DAYS = 1
    booking = ended_booking()
    with time_machine.travel(T0, tick=False):
        add_message(booking)
    BookingView.objects.create(booking=booking, user=UserFactory(), viewed_at=T0)
    with at(100):
        output = purge("--dry-run")
    assert "Would remove 1 message rows" in output and "Would remove 1 staff audit" in output
    assert PlannedMessage.objects.exists() and BookingView.objects.exists()


def test_defaults_are_documented_values(settings):
    from clinic.settings import base

    assert (base.MESSAGE_RETENTION_DAYS, base.WAITLIST_RETENTION_DAYS) == (365, 30)
    assert (base.TASK_RESULT_RETENTION_DAYS, base.AUDIT_RETENTION_DAYS) == (14, None)


# --- In the browser -----------------------------------------------------------------------


def page_violations(page) -> list[dict]:
    """axe's findings on these pages' own content (the header and breadcrumbs are Django's)."""
    axe_violations(page)  # loads axe into the page
    return page.evaluate(
        "tags => axe.run('#content-main', {runOnly: {type: 'tag', values: tags}})"
        ".then(r => r.violations.map(v => ({id: v.id, nodes: v.nodes.map(n => n.target)})))",
        WCAG_TAGS,
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_superuser_reads_what_goes_and_erases_it(visit, storage):
    UserFactory(username="chief", is_superuser=True)
    draft = BookingFactory(email="eva@example.com", status=Status.DRAFT, submitted_at=None)
    kept = confirmed_then(Status.COMPLETED, email="Eva@example.com")
    add_message(kept)
    page = visit().page
    log_in_verified(page, "chief")
    page.goto(url(kept, "change/"))
    page.get_by_role("link", name="Erase what is not the medical record").click()
    expect(page.locator("#record-duty")).to_contain_text("10 years")
    expect(page.locator("#erased")).to_contain_text(draft.reference)
    expect(page.locator("#kept")).to_contain_text(kept.reference)
    assert page_violations(page) == []
    screenshot(page, "data-rights-erase")
    page.get_by_role("button", name="Erase it now").click()
    expect(page.locator(".messagelist")).to_contain_text(draft.reference)
    assert not Booking.objects.filter(pk=draft.pk).exists()
    assert Booking.objects.filter(pk=kept.pk).exists()

    page.get_by_role("link", name="Export the patient's data").click()
    expect(page.locator("#export-bookings")).to_contain_text(kept.reference)
    assert page_violations(page) == []
    screenshot(page, "data-rights-export")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the zip").click()
    archive = zipfile.ZipFile(download.value.path())
    assert f"{kept.reference}/booking.json" in archive.namelist()
