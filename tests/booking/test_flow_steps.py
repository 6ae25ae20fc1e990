"""The checklist part of the request flow, in short steps: the images first (the upload
box, then how the clinic gets them), then the other questions before the treatment. What
depends on an answer is asked on the step's second screen (?part=2), only when it applies,
so it works the same without JavaScript. Through the test client."""

import html
import re
from datetime import date, timedelta

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from booking.models import AppointmentType, Booking
from booking.uploads import save_upload
from booking.views import DRAFT_SESSION_KEY
from clinic import snapshots
from clinic.models import ConsentText
from tests.booking.factories import AnticoagulantFactory, AppointmentTypeFactory, BookingFactory
from tests.booking.test_flow import about_data, png_file, when_data
from tests.factories import ConsentTextFactory

pytestmark = pytest.mark.django_db

MISSING = "Some answers are missing. Please fill in this page; your request is not sent yet."
UPLOAD_BOX = "data-upload-widget"
# The steps that hold required answers, and answers that make each of them complete.
ANSWERS = {
    "when": {"earliest_date": date(2030, 5, 1)},
    "about": {
        "name": "Karen Jensen",
        "email": "karen@example.com",
        "phone": "+4520123456",
        "birth_date": date(1958, 4, 30),
    },
    "images": {"imaging_status": Booking.ImagingStatus.RADIOLOGY_WILL_SEND},
    "checklist": {"takes_blood_thinners": Booking.Answer.NO},
}
PERIOD_ORDER = ["what", "when", "about", "images", "checklist", "review"]
PICK_ORDER = ["what", "images", "checklist", "when", "about", "review"]


def url(name: str, language: str = "en", part: int = 1) -> str:
    with translation.override(language):
        path = reverse(f"booking:{name}")
    return f"{path}?part=2" if part == 2 else path


@pytest.fixture
def private_storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path
    settings.UPLOAD_MIN_FREE_BYTES = 0
    return tmp_path


@pytest.fixture
def gold():
    """Images required, blood thinners asked, a companion needed; a period is asked for."""
    return AppointmentTypeFactory()


@pytest.fixture
def gold_picked():
    """The same, but the patient picks a time: the checklist comes before the times."""
    return AppointmentTypeFactory(booking_mode=AppointmentType.BookingMode.PICK_TENTATIVE)


def draft_in_session(client, kind, *, without: tuple[str, ...] = (), **fields) -> Booking:
    """A draft with every step answered except those in `without`."""
    answers = {}
    for step, values in ANSWERS.items():
        if step not in without:
            answers |= values
    blank = {"earliest_date": None, "latest_date": None, "name": "", "email": "", "phone": ""}
    draft = BookingFactory(
        status=Booking.Status.DRAFT,
        appointment_type=kind,
        submitted_at=None,
        consent_given_at=None,
        consent_text=None,
        language="en",
        **(blank | answers | fields),
    )
    session = client.session
    session[DRAFT_SESSION_KEY] = draft.pk
    session.save()
    return draft


def messages_on(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


def back_link(page: str) -> str:
    """Where the step's "Back" button leads."""
    return re.search(r'class="btn btn-outline-secondary btn-lg" href="([^"]+)">Back<', page)[1]


def step_count(html: str) -> tuple[int, int]:
    number, total = re.search(r"Step (\d+) of (\d+)", html).groups()
    return int(number), int(total)


# --- Skipping ahead by URL -------------------------------------------------------------


@pytest.mark.parametrize(("kind", "order"), [("gold", PERIOD_ORDER), ("gold_picked", PICK_ORDER)])
def test_each_step_is_refused_while_an_earlier_one_is_unanswered(client, request, kind, order):
    kind = request.getfixturevalue(kind)
    checked = 0
    for position, step in enumerate(order[1:], start=1):
        for earlier in order[1:position]:
            draft = draft_in_session(client, kind, without=(earlier,))
            for part in (1, 2):
                response = client.get(url(step, part=part))
                assert response.status_code == 302, (step, part, earlier)
                assert response["Location"] == url(earlier), (step, part, earlier)
            page = client.get(response["Location"])
            assert page.status_code == 200 and MISSING in page.content.decode()
            checked += 1
            draft.delete()
        # With every earlier step answered, the step is shown.
        draft = draft_in_session(client, kind, without=tuple(order[position:]))
        assert client.get(url(step)).status_code == 200, step
        draft.delete()
    assert checked == 10  # every pair (step, an earlier step with required answers)


def test_a_refused_post_stores_nothing(client, gold_picked, private_storage):
    draft = draft_in_session(client, gold_picked, without=("images", "checklist", "when"))
    response = client.post(url("checklist"), {"takes_blood_thinners": "yes"})
    assert response["Location"] == url("images")
    response = client.post(url("images", part=2), {"scan_body_area": "Neck"})
    assert response["Location"] == url("images")
    draft.refresh_from_db()
    assert (draft.takes_blood_thinners, draft.scan_body_area) == ("", "")
    # The picked time's step waits for the blood-thinner answer, which sets the earliest time.
    draft.imaging_status = Booking.ImagingStatus.NO_SCAN_YET
    draft.save()
    assert client.post(url("when"), {"time": "x"})["Location"] == url("checklist")


def test_a_second_screen_that_does_not_apply_leads_back_to_the_first(client, gold):
    draft_in_session(
        client,
        gold,
        imaging_status=Booking.ImagingStatus.NO_SCAN_YET,
        takes_blood_thinners=Booking.Answer.NO,
        companion_confirmed=False,
    )
    assert client.get(url("images", part=2))["Location"] == url("images")
    assert client.get(url("checklist", part=2))["Location"] == url("checklist")
    assert client.post(url("checklist", part=2), {"companion_name": "Ole"})["Location"] == url(
        "checklist"
    )
    assert Booking.objects.get().companion_name == ""


# --- Only what applies ----------------------------------------------------------------------


def test_the_second_screens_come_only_when_an_answer_makes_them_apply(client, gold):
    ConsentTextFactory(kind=ConsentText.Kind.HEALTH_DATA)
    warfarin = AnticoagulantFactory(brand="Marevan", substance="warfarin")
    draft = draft_in_session(client, gold, without=("images", "checklist"))

    # No scan: no questions about it.
    no_scan = client.post(url("images"), {"imaging_status": "no_scan"})
    assert no_scan["Location"] == url("checklist")
    # The radiology department sends it: the second screen asks about it.
    assert client.post(url("images"), {"imaging_status": "radiology"})["Location"] == url(
        "images", part=2
    )
    scan = client.get(url("images", part=2)).content.decode()
    assert "When was the scan made?" in scan and UPLOAD_BOX not in scan
    assert "Fields marked with * must be filled in." not in scan  # nothing is required here
    assert step_count(scan) == (4, 6)
    assert back_link(scan) == url("images")  # the step's first screen
    client.post(url("images", part=2), {"scan_body_area": "Neck", "scan_modality": "mr"})

    # "No" and nobody confirmed yet: straight on to the review.
    first = client.get(url("checklist")).content.decode()
    assert "Which medicine?" not in first and "Their name" not in first
    assert back_link(first) == url("images", part=2)  # the last screen that applied
    answers = {"takes_blood_thinners": "no"}
    assert client.post(url("checklist"), answers)["Location"] == url("review")
    assert back_link(client.get(url("review")).content.decode()) == url("checklist")

    # "I don't know": which medicine is asked, but not the companion's name.
    answers = {"takes_blood_thinners": "dont_know"}
    assert client.post(url("checklist"), answers)["Location"] == url("checklist", part=2)
    details = client.get(url("checklist", part=2)).content.decode()
    assert "Which medicine?" in details and "Marevan (warfarin)" in details
    assert "Their name" not in details and step_count(details) == (5, 6)

    # Only the companion confirmed: only their name and number.
    answers = {"takes_blood_thinners": "no", "companion_confirmed": "on"}
    assert client.post(url("checklist"), answers)["Location"] == url("checklist", part=2)
    details = client.get(url("checklist", part=2)).content.decode()
    assert "Their name" in details and "Which medicine?" not in details
    details_answers = {"companion_name": "Ole", "companion_phone": "20 11 22 33"}
    assert client.post(url("checklist", part=2), details_answers)["Location"] == url("review")
    assert back_link(client.get(url("review")).content.decode()) == url("checklist", part=2)

    draft.refresh_from_db()
    assert (draft.imaging_status, draft.scan_body_area, draft.scan_modality) == (
        "radiology",
        "Neck",
        "mr",
    )
    assert (draft.companion_name, draft.companion_phone) == ("Ole", "+4520112233")
    assert not draft.anticoagulants.exists() and warfarin.pk


def test_a_changed_answer_empties_the_answers_it_makes_void(client, gold):
    warfarin = AnticoagulantFactory()
    draft = draft_in_session(
        client,
        gold,
        imaging_status="radiology",
        scan_date=date(2025, 1, 2),
        scan_body_area="Neck",
        takes_blood_thinners="yes",
        other_medicine="Something",
        companion_confirmed=True,
        companion_name="Ole",
        companion_phone="+4520112233",
    )
    draft.anticoagulants.set([warfarin])

    client.post(url("checklist"), {"takes_blood_thinners": "yes", "companion_confirmed": "on"})
    draft.refresh_from_db()
    assert list(draft.anticoagulants.all()) == [warfarin] and draft.companion_name == "Ole"

    client.post(url("checklist"), {"takes_blood_thinners": "no"})
    client.post(url("images"), {"imaging_status": "no_scan"})
    draft.refresh_from_db()
    assert not draft.anticoagulants.exists() and draft.other_medicine == ""
    assert (draft.companion_confirmed, draft.companion_name, draft.companion_phone) == (
        False,
        "",
        "",
    )
    assert (draft.scan_date, draft.scan_body_area) == (None, "")


def test_a_type_without_imaging_never_shows_the_images_step(client, gold):
    no_images = AppointmentTypeFactory(imaging=AppointmentType.Imaging.NOT_NEEDED)
    seen = []
    client.post(url("what"), {"appointment_type": no_images.pk})
    for step, data in [("when", when_data()), ("about", about_data())]:
        page = client.get(url(step)).content.decode()
        seen.append(step_count(page))
        assert UPLOAD_BOX not in page
        response = client.post(url(step), data)
    assert response["Location"] == url("checklist")
    assert client.get(url("images"))["Location"] == url("checklist")
    page = client.get(url("checklist")).content.decode()
    seen.append(step_count(page))
    assert UPLOAD_BOX not in page and "X-ray or scan images" not in page
    response = client.post(url("checklist"), {"takes_blood_thinners": "no"})
    assert response["Location"] == url("review")
    assert client.get(url("images"))["Location"] == url("review")
    review = client.get(url("review")).content.decode()
    seen.append(step_count(review))
    assert seen == [(2, 5), (3, 5), (4, 5), (5, 5)]
    assert "Send more images" not in review

    # The same type with images has one step more: the images, before the other questions.
    Booking.objects.all().delete()
    client.post(url("what"), {"appointment_type": gold.pk})
    client.post(url("when"), when_data())
    assert client.post(url("about"), about_data())["Location"] == url("images")
    page = client.get(url("images")).content.decode()
    assert step_count(page) == (4, 6) and UPLOAD_BOX in page


def test_a_type_with_images_only_has_no_questions_step(client):
    consultation = AppointmentTypeFactory(
        imaging=AppointmentType.Imaging.OPTIONAL,
        asks_about_blood_thinners=False,
        companion_required=False,
    )
    draft_in_session(client, consultation, without=("images", "checklist"))
    page = client.get(url("images")).content.decode()
    assert step_count(page) == (4, 5)
    # Optional images: "Next" without an answer goes on.
    assert client.post(url("images"), {})["Location"] == url("review")
    assert client.get(url("checklist"))["Location"] == url("review")


# --- Bad input keeps everything ---------------------------------------------------------------


def test_answers_and_files_are_kept_after_a_refusal(client, gold, private_storage):
    warfarin = AnticoagulantFactory(brand="Marevan", substance="warfarin")
    draft = draft_in_session(client, gold, without=("images", "checklist"))

    # Images step: a missing answer is explained; once files have arrived, none is needed.
    refused = client.post(url("images"), {})
    assert refused.status_code == 200
    assert "Please tell us about your images." in refused.content.decode()
    client.post(url("draft_upload"), {"files": png_file("first.png")})
    Booking.objects.filter(pk=draft.pk).update(imaging_status="")
    assert client.post(url("images"), {})["Location"] == url("images", part=2)
    draft.refresh_from_db()
    assert draft.imaging_status == Booking.ImagingStatus.UPLOADED

    # The scan: a date in the future is refused; the other answers stay in the form.
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    scan = {"scan_date": future, "scan_body_area": "Lower back", "scan_modality": "ct"}
    refused = client.post(url("images", part=2), scan)
    html = refused.content.decode()
    assert refused.status_code == 200
    assert "The date of the scan cannot be in the future." in html
    assert 'value="Lower back"' in html and re.search(r'value="ct"[^>]*checked', html)
    draft.refresh_from_db()
    assert draft.scan_body_area == "" and draft.uploads.count() == 1

    # The questions: one unanswered, the companion's tick is kept.
    refused = client.post(url("checklist"), {"companion_confirmed": "on"})
    html = refused.content.decode()
    assert "Please tell us if you take blood-thinning medicine." in html
    assert re.search(r'name="companion_confirmed"[^>]*checked', html)
    draft.refresh_from_db()
    assert draft.takes_blood_thinners == "" and not draft.companion_confirmed

    # The second screen: a bad phone number; the medicine and the name are kept.
    client.post(url("checklist"), {"takes_blood_thinners": "yes", "companion_confirmed": "on"})
    details = {"anticoagulants": [warfarin.pk], "companion_name": "Ole", "companion_phone": "12"}
    refused = client.post(url("checklist", part=2), details)
    html = refused.content.decode()
    assert refused.status_code == 200 and "Please correct the following:" in html
    assert re.search(rf'value="{warfarin.pk}"[^>]*checked', html) and 'value="Ole"' in html
    draft.refresh_from_db()
    assert not draft.anticoagulants.exists() and draft.companion_name == ""
    assert [u.original_name for u in draft.uploads.all()] == ["first.png"]


def test_next_without_javascript_posts_the_chosen_files_with_the_answer(
    client, gold, private_storage
):
    draft = draft_in_session(client, gold, without=("images", "checklist"))
    page = client.get(url("images")).content.decode()
    # The upload box comes first in the step's form, before the question.
    assert page.index(UPLOAD_BOX) < page.index('name="imaging_status"')
    assert 'enctype="multipart/form-data"' in page

    # A refused file keeps the patient on the step, with the good file and the answer kept.
    not_a_photo = SimpleUploadedFile("letter.jpg", b"A letter, not a photo.", "image/jpeg")
    answer = {"imaging_status": "radiology"}
    response = client.post(url("images"), answer | {"files": [png_file("a.png"), not_a_photo]})
    assert response["Location"] == url("images")
    shown = messages_on(response)
    assert any("letter.jpg" in message for message in shown), shown
    draft.refresh_from_db()
    assert [u.original_name for u in draft.uploads.all()] == ["a.png"]
    assert draft.imaging_status == Booking.ImagingStatus.UPLOADED  # files arrived

    response = client.post(url("images"), answer | {"files": [png_file("b.png")]})
    assert response["Location"] == url("images", part=2)
    assert draft.uploads.count() == 2


def test_the_images_step_checks_the_csrf_token_on_both_screens(gold, private_storage):
    client = Client(enforce_csrf_checks=True)
    draft = draft_in_session(client, gold, without=("images", "checklist"))
    forged = client.post(url("images"), {"imaging_status": "radiology", "files": [png_file()]})
    assert forged.status_code == 403
    draft.refresh_from_db()
    assert draft.imaging_status == "" and not draft.uploads.exists()

    draft.imaging_status = "radiology"
    draft.save()
    forged = client.post(url("images", part=2), {"scan_body_area": "Neck"})
    assert forged.status_code == 403
    draft.refresh_from_db()
    assert draft.scan_body_area == ""

    token = client.get(url("images", part=2)).cookies["csrftoken"].value
    data = {"scan_body_area": "Neck", "csrfmiddlewaretoken": token}
    assert client.post(url("images", part=2), data)["Location"] == url("checklist")


# --- The review counts the files that arrived -------------------------------------------------


@pytest.mark.parametrize("language", [code for code, _name in django_settings.LANGUAGES])
def test_the_review_says_how_many_files_were_received(client, gold, private_storage, language):
    draft = draft_in_session(client, gold, imaging_status=Booking.ImagingStatus.UPLOADED)
    with translation.override(language):
        uploading = translation.gettext("I upload the images now")
        none_yet = translation.gettext("no file received yet")

    def images_line() -> str:
        page = client.get(url("review", language)).content.decode()
        return html.unescape(re.search(r'<dd class="review-images">(.*?)</dd>', page, re.S)[1])

    assert images_line() == f"{uploading} ({none_yet})"
    for count in (1, 2):
        save_upload(booking=draft, uploaded_file=png_file(f"scan-{count}.png"))
        with translation.override(language):
            received = translation.ngettext(
                "%(counter)s file received", "%(counter)s files received", count
            ) % {"counter": count}
        assert images_line() == received
        assert uploading not in images_line()
    # The singular and the plural differ in every language.
    with translation.override(language):
        one, two = (
            translation.ngettext("%(counter)s file received", "%(counter)s files received", n)
            for n in (1, 2)
        )
    assert one.replace("1", "") != two.replace("2", "")


def test_a_step_writes_only_its_own_answers(client, gold):
    """The imaging worker fills in the scan's date from an uploaded study while the patient
    answers: the step's save, from the draft as the request read it, keeps that date."""
    from booking import request_flow

    draft = draft_in_session(client, gold, without=("images", "checklist"))
    stale = Booking.objects.get(pk=draft.pk)
    Booking.objects.filter(pk=draft.pk).update(scan_date=date(2025, 3, 4), scan_modality="ct")
    request_flow.update_draft(booking=stale, imaging_status="uploaded")
    draft.refresh_from_db()
    assert (draft.imaging_status, draft.scan_date, draft.scan_modality) == (
        "uploaded",
        date(2025, 3, 4),
        "ct",
    )


def test_the_first_step_shows_its_choices_from_the_snapshots_and_validates_against_the_database(
    client, gold, django_assert_num_queries
):
    """The appointment types and the published conditions come from the published
    snapshots (the English ones made by the first visitor); an answer is still checked
    against the database."""
    from tests.conditions.factories import ConditionFactory

    ConditionFactory(name_en="Neck pain", slug_en="neck-pain")
    AppointmentTypeFactory(name_en="First consultation", requestable_online=True)
    snapshots.rebuild()  # as after the commit
    client.get(url("what"))  # the English snapshots are made by their first visitor
    with django_assert_num_queries(0):
        response = client.get(url("what"))
    page = response.content.decode()
    assert (
        page.count('type="radio"')
        == AppointmentType.objects.filter(requestable_online=True).count()
        >= 2
    )
    assert ">Neck pain</option>" in page
    response = client.post(url("what"), {"appointment_type": gold.pk, "condition": ""})
    assert response.status_code == 302  # the queryset still validates the answer
    response = client.post(url("what"), {"appointment_type": 999999})
    assert "Please choose what you would like to book." in response.content.decode()
    # A type the snapshot still lists (changed without a save signal) is refused.
    AppointmentType.objects.filter(pk=gold.pk).update(requestable_online=False)
    response = client.post(url("what"), {"appointment_type": gold.pk})
    assert "Please choose what you would like to book." in response.content.decode()
