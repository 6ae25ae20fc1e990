"""The staff side of booking in the admin: list, booking page, confirm, plan, cancel."""

import re
from datetime import datetime, time, timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from booking import services
from booking.models import AppointmentType, Booking, BookingView, Upload
from clinic.models import ConsentText
from tests.booking.factories import AnticoagulantFactory, AppointmentTypeFactory, BookingFactory
from tests.factories import ConsentTextFactory, PractitionerFactory, UserFactory

pytestmark = pytest.mark.django_db
Status = Booking.Status
LIST = "/admin/booking/booking/"
ADD = "/admin/booking/booking/add/"


@pytest.fixture(autouse=True)
def sent():
    with mock.patch("booking.tasks.send_booking_message") as send:
        yield send


def at(days: int, hour: int = 10, minute: int = 0) -> datetime:
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def logged_in(client, user):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def reception_user():
    return UserFactory(groups=["Reception"])


@pytest.fixture
def reception(client, reception_user):
    return logged_in(client, reception_user)


@pytest.fixture
def doctor_user():
    return UserFactory(groups=["Doctors"])


@pytest.fixture
def doctor(client, doctor_user):
    return logged_in(client, doctor_user)


@pytest.fixture
def practitioner():
    return PractitionerFactory(name="Dr Brask")


def change_url(booking, step=""):
    url = reverse("admin:booking_booking_change", args=[booking.pk])
    return url.replace("/change/", f"/{step}/") if step else url


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def listed(response) -> set[str]:
    return {booking.reference for booking in response.context["cl"].result_list}


# --- The list ----------------------------------------------------------------------


def test_list_hides_drafts_unless_asked(reception):
    sent_booking = BookingFactory()
    draft = BookingFactory(status=Status.DRAFT)
    assert listed(reception.get(LIST)) == {sent_booking.reference}
    assert listed(reception.get(LIST, {"status": "draft"})) == {draft.reference}


def test_list_filters(reception, practitioner, reception_user):
    phone = AppointmentTypeFactory(phone_talk=True)
    talk = BookingFactory(appointment_type=phone)
    gold = BookingFactory()  # everything missing
    ready = BookingFactory(
        takes_blood_thinners="no",
        imaging_reviewed=True,
        companion_confirmed=True,
        companion_name="Ole",
    )
    confirmed = BookingFactory()
    services.confirm_booking(
        booking=confirmed, practitioner=practitioner, starts_at=at(3), user=reception_user
    )
    assert listed(reception.get(LIST, {"status": "confirmed"})) == {confirmed.reference}
    assert listed(reception.get(LIST, {"appointment_type__id__exact": phone.pk})) == {
        talk.reference
    }
    assert listed(reception.get(LIST, {"checklist": "incomplete"})) == {
        gold.reference,
        confirmed.reference,
    }
    assert listed(reception.get(LIST, {"checklist": "complete"})) == {
        talk.reference,
        ready.reference,
    }
    assert listed(reception.get(LIST, {"imaging_review": "waiting"})) == {
        gold.reference,
        confirmed.reference,
    }
    day = timezone.localdate() + timedelta(days=3)
    in_period = reception.get(
        LIST,
        {
            "starts_at__gte": day.isoformat(),
            "starts_at__lt": (day + timedelta(days=1)).isoformat(),
        },
    )
    assert listed(in_period) == {confirmed.reference}


def test_list_search_by_reference_name_email_and_phone(reception):
    booking = BookingFactory(
        name="Grethe Holm", email="grethe@example.com", phone="+45 11 22 33 44"
    )
    BookingFactory()
    for term in [booking.reference, "Grethe", "grethe@example", "11 22 33"]:
        assert listed(reception.get(LIST, {"q": term})) == {booking.reference}, term


def test_checklist_column_has_symbols_and_words(reception):
    BookingFactory(takes_blood_thinners="no")
    BookingFactory(appointment_type=AppointmentTypeFactory(phone_talk=True))
    page = text(reception.get(LIST))
    assert (
        'aria-hidden="true">✗</span><span class="visually-hidden">X-ray or scan images: Missing.'
        in page
    )
    assert '<span class="visually-hidden">Blood-thinning medicine: Done.</span>' in page
    assert "Someone to drive you home: Missing." in page
    assert "Nothing to prepare" in page


# --- The booking's page ---------------------------------------------------------------


def test_every_opening_is_logged(reception, reception_user):
    booking = BookingFactory()
    reception.get(change_url(booking), REMOTE_ADDR="192.0.2.10")
    reception.get(change_url(booking), REMOTE_ADDR="192.0.2.11")
    views = list(BookingView.objects.filter(booking=booking).order_by("viewed_at", "pk"))
    assert [(v.user, v.ip_address) for v in views] == [
        (reception_user, "192.0.2.10"),
        (reception_user, "192.0.2.11"),
    ]


def test_page_shows_answers_uploads_and_consent_read_only(reception):
    warfarin = AnticoagulantFactory(brand="Marevan", substance="warfarin")
    booking = BookingFactory(
        name="Grethe Holm",
        takes_blood_thinners="yes",
        anticoagulants=[warfarin],
        imaging_status=Booking.ImagingStatus.UPLOADED,
        scan_body_area="Neck",
    )
    Upload.objects.create(
        booking=booking, file="private/x.dcm", original_name="neck.dcm", size=20480, kind="dicom"
    )
    response = reception.get(change_url(booking))
    assert response.status_code == 200
    page = text(response)
    assert "Grethe Holm" in page and "Neck" in page
    assert "neck.dcm (DICOM image, 20 kB" in page
    assert "private/x.dcm" not in page  # no links to the files here
    assert "Jeg giver lov." in page  # the words agreed to, in the patient's language
    assert 'name="consent_text"' not in page and 'name="consent_given_at"' not in page
    assert 'name="status"' not in page  # status changes only through the steps
    assert "Waiting for the clinic" in page


def test_history_records_who_changed_what_in_the_admin(reception, reception_user):
    booking = BookingFactory(name="Grethe")
    data = {
        "name": "Grethe Holm",
        "email": booking.email,
        "phone": booking.phone,
        "language": "da",
        "appointment_type": booking.appointment_type.pk,
        "time_of_day": "any",
        "weekdays": ["0", "2"],
    }
    response = reception.post(change_url(booking), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    booking.refresh_from_db()
    assert booking.name == "Grethe Holm" and booking.weekdays == [0, 2]
    record = booking.history.first()
    assert record.history_user == reception_user
    assert "name" in record.diff_against(record.prev_record).changed_fields
    history = text(reception.get(change_url(booking, "history")))
    assert reception_user.username in history


# --- Reception adds a booking for a patient who phones -----------------------------------


def test_reception_creates_a_booking_by_phone(reception, sent):
    ConsentTextFactory(kind=ConsentText.Kind.HEALTH_DATA, text_en="I agree to processing.")
    kind = AppointmentTypeFactory()
    eliquis = AnticoagulantFactory(brand="Eliquis")
    assert reception.get(ADD).status_code == 200
    response = reception.post(
        ADD,
        {
            "name": "Bent Larsen",
            "phone": "+45 40 50 60 70",
            "email": "bent@example.com",
            "language": "da",
            "appointment_type": kind.pk,
            "time_of_day": "morning",
            "weekdays": ["1"],
            "imaging_status": "radiology",
            "takes_blood_thinners": "yes",
            "anticoagulants": [eliquis.pk],
            "companion_confirmed": "on",
            "companion_name": "Lis",
            "consent_by_phone": "on",
        },
    )
    assert response.status_code == 302
    booking = Booking.objects.get(name="Bent Larsen")
    assert booking.status == Status.REQUESTED and booking.submitted_at
    assert list(booking.anticoagulants.all()) == [eliquis]
    assert booking.consent_text == ConsentText.objects.current(ConsentText.Kind.HEALTH_DATA)
    assert booking.consent_given_at and booking.consent_text.locked
    sent.assert_called_once_with(booking=booking, kind="received")


def test_doctors_cannot_add_bookings(doctor):
    assert doctor.get(ADD).status_code == 403


# --- Confirming ---------------------------------------------------------------------


def confirm_data(practitioner, starts_at):
    local = timezone.localtime(starts_at)
    return {
        "practitioner": practitioner.pk,
        "starts_at_0": local.date().isoformat(),
        "starts_at_1": local.strftime("%H:%M"),
    }


def test_confirm_page_confirms(reception, practitioner, sent):
    booking = BookingFactory(imaging_reviewed=True)
    assert reception.get(change_url(booking, "confirm")).status_code == 200
    response = reception.post(change_url(booking, "confirm"), confirm_data(practitioner, at(4)))
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Status.CONFIRMED and booking.starts_at == at(4)
    sent.assert_called_once()


def test_confirm_page_shows_the_error_when_the_time_is_taken(
    reception, practitioner, reception_user
):
    services.confirm_booking(
        booking=BookingFactory(), practitioner=practitioner, starts_at=at(4), user=reception_user
    )
    booking = BookingFactory(imaging_reviewed=True)
    response = reception.post(
        change_url(booking, "confirm"), confirm_data(practitioner, at(4, 10, 15))
    )
    assert response.status_code == 200
    assert "This time is already taken for Dr Brask. Choose another time." in text(response)
    booking.refresh_from_db()
    assert booking.status == Status.REQUESTED


def test_confirm_page_shows_form_errors(reception, practitioner):
    booking = BookingFactory()
    response = reception.post(change_url(booking, "confirm"), {"practitioner": practitioner.pk})
    assert response.status_code == 200
    assert response.context["form"].errors["starts_at"]


# --- Blood-thinner plan ---------------------------------------------------------------


def planned_booking(practitioner, user):
    booking = BookingFactory(
        takes_blood_thinners="yes",
        anticoagulants=[
            AnticoagulantFactory(brand="Marevan", default_pause_days=5),
            AnticoagulantFactory(brand="Eliquis", default_pause_days=2),
        ],
    )
    return services.confirm_booking(
        booking=booking, practitioner=practitioner, starts_at=at(14), user=user
    )


def test_plan_page_is_prefilled_from_each_usual_pause(reception, practitioner, reception_user):
    booking = planned_booking(practitioner, reception_user)
    response = reception.get(change_url(booking, "plan").replace("/plan/", "/blood-thinner-plan/"))
    assert response.status_code == 200
    day = timezone.localdate() + timedelta(days=14)
    rows = {row["anticoagulant"].brand: row for row in response.context["formset"].initial}
    assert rows["Marevan"]["last_dose_date"] == day - timedelta(days=6)
    assert rows["Eliquis"]["last_dose_date"] == day - timedelta(days=3)
    assert rows["Marevan"]["restart_date"] == day + timedelta(days=1)
    page = text(response)
    assert "Marevan" in page and "Eliquis" in page
    assert "A doctor must agree it" in page
    assert 'name="_agree"' not in page


def plan_url(booking):
    return change_url(booking, "blood-thinner-plan")


def plan_data(booking, button, last_dose_date=None, restart_date=None):
    """Both medicines paused; the first (Eliquis) from `last_dose_date` when given."""
    day = timezone.localdate() + timedelta(days=14)
    data = {"lines-TOTAL_FORMS": "2", "lines-INITIAL_FORMS": "2", "instructions": "", button: "1"}
    for number, medicine in enumerate(booking.anticoagulants.all()):
        last = day - timedelta(days=medicine.default_pause_days)
        data |= {
            f"lines-{number}-anticoagulant": str(medicine.pk),
            f"lines-{number}-action": "pause",
            f"lines-{number}-last_dose_date": (last_dose_date or last).isoformat(),
            f"lines-{number}-restart_date": (restart_date or day + timedelta(days=1)).isoformat(),
        }
    return data


def test_reception_prepares_but_cannot_agree(reception, practitioner, reception_user):
    booking = planned_booking(practitioner, reception_user)
    assert reception.post(plan_url(booking), plan_data(booking, "_agree")).status_code == 403
    assert reception.post(plan_url(booking), plan_data(booking, "_prepare")).status_code == 302
    booking.refresh_from_db()
    assert booking.plan_prepared_by == reception_user and not booking.plan_agreed
    assert booking.last_dose_date == timezone.localdate() + timedelta(days=9)


def test_doctor_agrees(doctor, practitioner, doctor_user, reception_user):
    booking = planned_booking(practitioner, reception_user)
    page = text(doctor.get(plan_url(booking)))
    assert 'name="_agree"' in page
    assert doctor.post(plan_url(booking), plan_data(booking, "_agree")).status_code == 302
    booking.refresh_from_db()
    assert booking.plan_agreed_by == doctor_user and booking.plan_agreed


def test_plan_page_shows_date_errors(doctor, practitioner, reception_user):
    booking = planned_booking(practitioner, reception_user)
    day = timezone.localdate() + timedelta(days=14)
    response = doctor.post(plan_url(booking), plan_data(booking, "_agree", day, day))
    assert response.status_code == 200
    assert "must be before the appointment" in text(response)


# --- Cancel, completed, did not come ----------------------------------------------------


def test_cancel_page(reception, sent):
    booking = BookingFactory()
    response = reception.post(change_url(booking, "cancel"), {"reason": ""})
    assert response.status_code == 200 and "Write why the booking is cancelled." in text(response)
    response = reception.post(change_url(booking, "cancel"), {"reason": "Called to cancel"})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Status.CANCELLED and booking.cancel_reason == "Called to cancel"
    sent.assert_called_once_with(booking=booking, kind="cancelled")
    # A cancelled booking cannot be cancelled again: the page says why.
    response = reception.post(change_url(booking, "cancel"), {"reason": "again"})
    assert response.status_code == 200 and "cannot be cancelled" in text(response)


def test_completed_and_no_show_actions(reception, practitioner):
    start = timezone.now() - timedelta(hours=3)
    done, absent, future = (
        BookingFactory(
            status=Status.CONFIRMED,
            practitioner=practitioner,
            starts_at=start + timedelta(hours=i),
            ends_at=start + timedelta(hours=i, minutes=45),
        )
        for i in (0, 1, 48)
    )
    reception.post(LIST, {"action": "mark_completed", "_selected_action": [done.pk], "index": "0"})
    reception.post(LIST, {"action": "mark_no_show", "_selected_action": [absent.pk]})
    response = reception.post(
        LIST, {"action": "mark_completed", "_selected_action": [future.pk]}, follow=True
    )
    assert "has not started yet" in text(response)
    statuses = dict(Booking.objects.values_list("pk", "status"))
    assert statuses == {
        done.pk: Status.COMPLETED,
        absent.pk: Status.NO_SHOW,
        future.pk: Status.CONFIRMED,
    }


# --- Appointment types and medicines ---------------------------------------------------


def test_appointment_type_and_medicine_admins(reception, admin_client):
    kind = AppointmentTypeFactory()
    medicine = AnticoagulantFactory()
    assert reception.get(reverse("admin:booking_anticoagulant_add")).status_code == 200
    assert (
        reception.get(reverse("admin:booking_anticoagulant_change", args=[medicine.pk])).status_code
        == 200
    )
    # Reception sees the appointment types but does not change them.
    response = reception.get(reverse("admin:booking_appointmenttype_change", args=[kind.pk]))
    assert response.status_code == 200 and 'name="name_da"' not in text(response)
    response = admin_client.get(reverse("admin:booking_appointmenttype_change", args=[kind.pk]))
    assert 'name="name_da"' in text(response) and 'name="name_en"' in text(response)
    assert AppointmentType.objects.count() == 1


def test_demo_booking_data_is_idempotent():
    from booking.demo import load_demo_booking
    from booking.models import Anticoagulant

    load_demo_booking()
    load_demo_booking()
    assert AppointmentType.objects.count() == 3
    gold = AppointmentType.objects.get(name_en="Gold implantation")
    assert gold.imaging == "required" and gold.asks_about_blood_thinners
    assert gold.companion_required and gold.duration_minutes == 45
    assert Anticoagulant.objects.get(brand="Marevan").default_pause_days == 5
    assert Anticoagulant.objects.count() == 14


def test_staff_add_files_from_a_radiology_cd(reception, reception_user, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.PRIVATE_STORAGE_ROOT = str(tmp_path)
    settings.MEDIA_ROOT = str(tmp_path)
    booking = BookingFactory()
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    data = {
        "name": booking.name,
        "email": booking.email,
        "phone": booking.phone,
        "language": "da",
        "appointment_type": booking.appointment_type.pk,
        "time_of_day": "any",
        "new_files": [
            SimpleUploadedFile("report.pdf", pdf, content_type="application/pdf"),
            SimpleUploadedFile("notes.exe", b"MZ\x90\x00" * 10),
        ],
    }
    response = reception.post(change_url(booking), data, follow=True)
    notes = [str(message) for message in response.context["messages"]]
    assert any(note.startswith("notes.exe was not accepted") for note in notes), notes
    assert "1 file added." in notes
    upload = booking.uploads.get()
    assert (upload.original_name, upload.kind, upload.uploaded_by) == (
        "report.pdf",
        "pdf",
        reception_user,
    )
