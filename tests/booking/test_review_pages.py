"""The doctors' review pages: the queue, a booking's imaging, the viewer and the verdict."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from booking.access import private_path
from booking.checklist import DONE, MISSING, NEEDS_STAFF, checklist
from booking.imaging.services import age_on, awaiting_review, record_review, rendition_name
from booking.models import Booking, ImagingReview, Upload
from booking.storage import private_storage
from tests.booking.factories import BookingFactory
from tests.booking.test_review_access import make_imaging, png_bytes, save
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
HEALTH_WORDS = ["knee", "approved", "godkendt", "imaging needed", "not suitable", "mr scan"]


@pytest.fixture(autouse=True)
def in_english(client):
    """These tests read the English texts; the site's default language is Danish."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    return settings.PRIVATE_STORAGE_ROOT


@pytest.fixture
def booking():
    return BookingFactory(language="en")


@pytest.fixture
def imaging(booking):
    return make_imaging(booking)


@pytest.fixture
def doctor(client):
    user = UserFactory(username="doc", groups=["Doctors"])
    client.force_login(user)
    return user


def uploaded(booking):
    booking.imaging_status = Booking.ImagingStatus.UPLOADED
    booking.save()
    return booking


# --- Age of a study ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("taken", "day", "expected"),
    [
        (date(2024, 1, 10), date(2025, 4, 10), "1 year 3 months on the day"),
        (date(2024, 1, 10), date(2025, 4, 9), "1 year 2 months on the day"),
        (date(2024, 1, 10), date(2026, 1, 10), "2 years on the day"),
        (date(2024, 1, 10), date(2024, 1, 20), "10 days on the day"),
        (date(2024, 1, 31), date(2024, 3, 1), "1 month on the day"),
    ],
)
def test_age_on_the_day(taken, day, expected):
    assert age_on(taken, day) == expected


# --- Queue -----------------------------------------------------------------------------------


def test_queue_lists_waiting_bookings_soonest_first(client, doctor, storage):
    later = uploaded(BookingFactory(earliest_date=timezone.localdate() + timedelta(days=30)))
    make_imaging(later)
    confirmed = uploaded(
        BookingFactory(
            status=Booking.Status.CONFIRMED,
            starts_at=datetime(2030, 1, 5, 9, tzinfo=COPENHAGEN),
            ends_at=datetime(2030, 1, 5, 10, tzinfo=COPENHAGEN),
            earliest_date=date(2029, 12, 1),
        )
    )
    make_imaging(confirmed)
    soon = uploaded(BookingFactory(earliest_date=timezone.localdate() + timedelta(days=2)))
    make_imaging(soon)
    radiology = BookingFactory(
        imaging_status=Booking.ImagingStatus.RADIOLOGY_WILL_SEND,
        earliest_date=timezone.localdate() + timedelta(days=10),
    )
    # Not in the queue: a draft, a cancelled booking, a reviewed one, no imaging needed.
    for extra in [
        BookingFactory(status=Booking.Status.DRAFT),
        BookingFactory(status=Booking.Status.CANCELLED),
        BookingFactory(imaging_reviewed=True),
        BookingFactory(appointment_type__imaging="not_needed"),
    ]:
        make_imaging(extra)
    BookingFactory(imaging_status=Booking.ImagingStatus.NO_SCAN_YET)

    assert [b.pk for b in awaiting_review()] == [soon.pk, radiology.pk, later.pk, confirmed.pk]
    response = client.get(reverse("review:queue"))
    assert response.status_code == 200
    content = response.content.decode()
    positions = [content.index(b.reference) for b in (soon, radiology, later, confirmed)]
    assert positions == sorted(positions)
    row = response.context["bookings"][0]
    assert row.study_count == 1 and row.upload_count == 6


def test_after_new_imaging_verdict_the_booking_returns_when_files_arrive(doctor, booking, imaging):
    uploaded(booking)
    record_review(booking=booking, doctor=doctor, verdict="new_imaging")
    assert booking.pk not in [b.pk for b in awaiting_review()]
    Upload.objects.create(
        booking=booking,
        file=save(f"bookings/{booking.pk}/new.png", png_bytes()),
        original_name="new.png",
        size=10,
        kind=Upload.Kind.PNG,
        uploaded_at=timezone.now() + timedelta(seconds=1),
    )
    assert booking.pk in [b.pk for b in awaiting_review()]


# --- The booking's page ----------------------------------------------------------------------


def test_booking_page_shows_studies_documents_and_refusals(client, doctor, storage):
    booking = uploaded(
        BookingFactory(
            status=Booking.Status.CONFIRMED,
            starts_at=datetime(2025, 4, 10, 9, tzinfo=COPENHAGEN),
            ends_at=datetime(2025, 4, 10, 10, tzinfo=COPENHAGEN),
        )
    )
    imaging = make_imaging(booking)
    response = client.get(reverse("review:booking", args=[booking.pk]))
    content = response.content.decode()
    assert "1 year 3 months on the day" in content
    assert "CT" in content and "KNEE" in content
    assert reverse("review:instance_thumbnail", args=[imaging["instances"][0].pk]) in content
    assert reverse("review:viewer", args=[imaging["series"].pk]) in content
    for upload in (imaging["photo"], imaging["pdf"]):
        assert reverse("review:upload_preview", args=[upload.pk]) in content
        assert reverse("review:upload_download", args=[upload.pk]) in content
    assert "The file holds no image (a DICOMDIR index)." in content
    assert "broken.dcm" in content
    assert 'name="verdict"' in content


# --- Viewer ------------------------------------------------------------------------------------


def test_viewer_shows_one_image_with_links_to_previous_and_next(client, doctor, booking, imaging):
    url = reverse("review:viewer", args=[imaging["series"].pk])
    first, second, third = imaging["instances"]
    response = client.get(url)
    content = response.content.decode()
    assert response.context["image_src"] == reverse("review:instance_preview", args=[first.pk])
    assert response.context["next_src"] == reverse("review:instance_preview", args=[second.pk])
    assert f'href="{url}?image=2"' in content
    assert "data-viewer-previous" in content and "Image 1 of 3" in content
    # Only the image shown and the next one are referenced as images.
    assert (
        reverse("review:instance_preview", args=[third.pk]) not in content.split("viewer-data")[0]
    )

    response = client.get(url + "?image=3")
    assert response.context["image_src"] == reverse("review:instance_preview", args=[third.pk])
    assert response.context["next_url"] == ""
    assert f'href="{url}?image=2"' in response.content.decode()
    assert client.get(url + "?image=99").context["number"] == 3
    assert client.get(url + "?image=x").context["number"] == 1


def test_window_presets_are_rendered_by_the_processing_and_served_stored(client, doctor, booking):
    from booking.imaging import processing
    from booking.models import Instance
    from tests.booking.dicom_fixtures import ct_dataset, to_bytes

    upload = Upload.objects.create(
        booking=booking,
        file=save(f"bookings/{booking.pk}/ct.dcm", to_bytes(ct_dataset(64))),
        original_name="ct.dcm",
        size=1,
        kind=Upload.Kind.DICOM,
    )
    processing.run_processing(upload.pk)
    instance = Instance.objects.get(upload=upload)
    url = reverse("review:viewer", args=[instance.series.pk])
    response = client.get(url + "?preset=bone")
    codes = [p["code"] for p in response.context["presets"]]
    assert {"soft_tissue", "bone", "lung", "auto"} <= set(codes)
    assert codes[-1] == "auto"
    current = [p["code"] for p in response.context["presets"] if p["current"]]
    assert current == ["bone"]  # the window shown is the one highlighted
    assert response.context["image_src"].endswith(f"/image/{instance.pk}/preview/?preset=bone")
    plain = client.get(url)
    shown = [p["code"] for p in plain.context["presets"] if p["current"]]
    assert shown == [instance.default_window] and instance.default_window in codes

    preview = reverse("review:instance_preview", args=[instance.pk])
    default = b"".join(client.get(preview).streaming_content)
    bone = client.get(preview + "?preset=bone")
    assert not bone.has_header("X-Imaging-Window")
    bone_bytes = b"".join(bone.streaming_content)
    lung_bytes = b"".join(client.get(preview + "?preset=lung").streaming_content)
    assert bone_bytes.startswith(b"\x89PNG") and bone_bytes != default and bone_bytes != lung_bytes
    name = rendition_name(instance, "bone")
    assert private_storage().open(name).read() == bone_bytes


def test_a_preset_not_rendered_shows_the_default_preview_and_decodes_nothing(
    client, doctor, booking, imaging, monkeypatch
):
    """The web process never decodes a patient's file: no stored rendition, no decoding."""
    from booking.imaging import dicom

    def no_decoding(*args, **kwargs):
        raise AssertionError("a patient's file was decoded in the web process")

    monkeypatch.setattr(dicom, "render_windowed", no_decoding)
    monkeypatch.setattr(dicom, "read_header", no_decoding)
    instance = imaging["instances"][0]
    response = client.get(reverse("review:instance_preview", args=[instance.pk]) + "?preset=bone")
    assert response.status_code == 200
    assert response["X-Imaging-Window"] == "default"
    assert (
        b"".join(response.streaming_content) == private_storage().open(instance.preview.name).read()
    )


def test_the_viewer_offers_the_images_own_windows_only(client, doctor, storage):
    """An X-ray stored with only its file's window gets no Hounsfield preset."""
    booking = BookingFactory()
    imaging = make_imaging(booking, modality="DX")
    response = client.get(reverse("review:viewer", args=[imaging["series"].pk]) + "?preset=bone")
    assert [p["code"] for p in response.context["presets"]] == ["file1"]
    assert response.context["shown"] == "file1"  # an unknown preset shows the image's own
    assert "?preset=" not in response.context["image_src"]


# --- The verdict ---------------------------------------------------------------------------


def imaging_item(booking):
    booking.refresh_from_db()
    return next(item for item in checklist(booking) if item.code == "imaging")


def test_approving_marks_the_item_done_and_sends_one_news_email(client, doctor, booking, imaging):
    uploaded(booking)
    assert imaging_item(booking).state == NEEDS_STAFF
    response = client.post(
        reverse("review:booking", args=[booking.pk]),
        {
            "verdict": "approved",
            "note_for_clinic": "Knee CT fine",
            "advice_for_patient": "Bring your knee brace.",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("review:queue")
    assert booking.reference in response.content.decode()  # the success message
    review = ImagingReview.objects.get()
    assert (review.booking, review.doctor, review.verdict) == (booking, doctor, "approved")
    assert review.note_for_clinic == "Knee CT fine"
    assert imaging_item(booking).state == DONE
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [booking.email]
    assert "news" in message.subject.lower() or booking.reference in message.subject
    text = (message.subject + message.body + message.alternatives[0][0]).lower()
    for word in HEALTH_WORDS + ["brace", "fine"]:
        assert word not in text, word

    client.logout()
    page = client.get(private_path(booking, "en")).content.decode()
    assert "The doctor has looked at your images." in page
    assert "Bring your knee brace." in page


@pytest.mark.parametrize("verdict", ["new_imaging", "not_suitable"])
def test_other_verdicts_show_the_item_not_done_with_the_advice(
    client, doctor, booking, imaging, verdict
):
    booking.imaging_reviewed = True
    uploaded(booking)
    record_review(
        booking=booking,
        doctor=doctor,
        verdict=verdict,
        note_for_clinic="Old scan",
        advice_for_patient="Ask your GP for a new MR scan of the knee.",
    )
    booking.refresh_from_db()
    assert not booking.imaging_reviewed
    assert imaging_item(booking).state == MISSING
    assert len(mail.outbox) == 1
    page = client.get(private_path(booking, "en"))
    items = page.context["items"]
    item = next(item for item in items if item.code == "imaging")
    assert item.state == MISSING
    assert item.detail == "Ask your GP for a new MR scan of the knee."
    assert "Old scan" not in page.content.decode()


def test_an_invalid_verdict_is_refused(client, doctor, booking, imaging):
    response = client.post(reverse("review:booking", args=[booking.pk]), {"verdict": "maybe"})
    assert response.status_code == 200
    assert "verdict" in response.context["form"].errors
    assert not ImagingReview.objects.exists()
    assert len(mail.outbox) == 0


def test_no_email_without_an_address(doctor, storage):
    booking = BookingFactory(email="")
    record_review(booking=booking, doctor=doctor, verdict="approved")
    assert len(mail.outbox) == 0
