"""Rules of the checklist and the patient's pages that a bug could break silently.

Each rule is tested at its boundary, in the negative, and against its bypass:
- a scan's age is counted in calendar years, on the appointment day, from the scan
  that counts (the doctor's choice, the newest study, the patient's own date);
- a blood-thinner plan reads as agreed only after a doctor agreed it;
- the review step sends nothing while an earlier step is unanswered;
- a closed booking takes no more images;
- the "new link" page's rate limit;
- the consent text keeps its own language when shown in a fallback.
"""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from booking.access import make_token, private_path
from booking.checklist import (
    DONE,
    blood_thinner_item,
    checklist,
    counted_scan_date,
    reference_day,
    scan_too_old,
)
from booking.models import Booking, PlanLine, Study, Upload
from booking.views import DRAFT_SESSION_KEY
from clinic.models import ConsentText
from tests.booking.factories import AnticoagulantFactory, BookingFactory
from tests.factories import ConsentTextFactory, UserFactory

pytestmark = pytest.mark.django_db

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
TOO_OLD = "The scan will be more than 2 years old on the day."


def en_url(name: str, **kwargs) -> str:
    with translation.override("en"):
        return reverse(f"booking:{name}", kwargs=kwargs or None)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=COPENHAGEN)


def confirmed_on(day: date, hour: int = 10, minute: int = 0, **fields) -> Booking:
    starts_at = at(day, hour, minute)
    return BookingFactory(
        status=Booking.Status.CONFIRMED,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=45),
        **fields,
    )


def study(booking: Booking, study_date: date | None, uid: str, body_part: str = "CSPINE"):
    return Study.objects.create(
        booking=booking, study_uid=uid, study_date=study_date, modality="MR", body_part=body_part
    )


def imaging_warning(booking: Booking) -> str:
    booking = Booking.objects.prefetch_related("studies").get(pk=booking.pk)
    with translation.override("en"):
        return next(item for item in checklist(booking, 0) if item.code == "imaging").warning


# --- 1. A scan's age: two calendar years on the appointment day ---------------------------


@pytest.mark.parametrize(
    ("scanned", "day", "too_old"),
    [
        (date(2024, 3, 10), date(2026, 3, 10), False),  # exactly two years
        (date(2024, 3, 10), date(2026, 3, 11), True),  # one day more
        # Two calendar years across 29 February 2024 are 731 days, and still two years.
        (date(2023, 3, 10), date(2025, 3, 10), False),
        (date(2023, 3, 10), date(2025, 3, 11), True),
        # A scan from 29 February is exactly two years old on 28 February.
        (date(2024, 2, 29), date(2026, 2, 28), False),
        (date(2024, 2, 29), date(2026, 3, 1), True),
        # Into a leap year: 28 February 2024 is two years after 28 February 2022.
        (date(2022, 2, 28), date(2024, 2, 28), False),
        (date(2022, 2, 28), date(2024, 2, 29), True),
        (date(2025, 11, 1), date(2026, 3, 10), False),  # a recent scan
    ],
)
def test_a_scan_is_too_old_only_when_more_than_two_calendar_years_old_on_the_day(
    scanned, day, too_old
):
    booking = confirmed_on(day, scan_date=scanned)
    assert scan_too_old(booking) is too_old
    assert (TOO_OLD in imaging_warning(booking)) is too_old


def test_the_age_is_judged_on_the_local_appointment_day_not_the_utc_one():
    # 00:30 in Copenhagen on 11 March is still 10 March in UTC.
    booking = confirmed_on(date(2026, 3, 11), hour=0, minute=30, scan_date=date(2024, 3, 10))
    booking = Booking.objects.get(pk=booking.pk)  # as stored: in UTC
    assert reference_day(booking) == date(2026, 3, 11)
    assert scan_too_old(booking)


@time_machine.travel(datetime(2025, 6, 1, 12, tzinfo=COPENHAGEN), tick=False)
def test_without_a_time_the_age_is_judged_on_the_last_day_the_patient_can_come():
    # Fine today and on the first day of the period, too old on its last day.
    booking = BookingFactory(
        scan_date=date(2024, 3, 10),
        earliest_date=date(2026, 3, 1),
        latest_date=date(2026, 3, 11),
    )
    assert reference_day(booking) == date(2026, 3, 11)
    assert scan_too_old(booking)

    booking.latest_date = date(2026, 3, 10)
    booking.save()
    assert not scan_too_old(booking)


def test_no_day_to_judge_on_means_no_warning():
    booking = BookingFactory(scan_date=date(2000, 1, 1), earliest_date=None, latest_date=None)
    assert reference_day(booking) is None
    assert not scan_too_old(booking)


def test_the_newest_study_counts_before_the_date_the_patient_gave():
    booking = confirmed_on(date(2026, 3, 10), scan_date=date(2020, 1, 1))
    study(booking, date(2021, 5, 1), "1.1")
    study(booking, date(2025, 12, 1), "1.2")
    study(booking, None, "1.3")  # no date: says nothing about the age
    assert counted_scan_date(booking) == date(2025, 12, 1)
    assert not scan_too_old(booking)


def test_studies_without_a_date_leave_the_patients_date_in_force():
    booking = confirmed_on(date(2026, 3, 10), scan_date=date(2020, 1, 1))
    study(booking, None, "1.1")
    assert counted_scan_date(booking) == date(2020, 1, 1)
    assert scan_too_old(booking)


def test_the_study_the_doctor_chose_counts_even_when_a_newer_one_exists():
    booking = confirmed_on(date(2026, 3, 10))
    old_neck = study(booking, date(2023, 1, 5), "1.1")
    study(booking, date(2025, 12, 1), "1.2", body_part="KNEE")
    assert not scan_too_old(booking)

    booking.scan_study = old_neck
    booking.save()
    assert counted_scan_date(booking) == date(2023, 1, 5)
    assert scan_too_old(booking)
    assert TOO_OLD in imaging_warning(booking)


def test_the_admin_list_reads_all_studies_in_one_query(client):
    for n in range(4):
        booking = confirmed_on(date(2026, 3, 10))
        study(booking, date(2023, 1, 5), f"2.{n}")
    client.force_login(UserFactory(groups=["Reception"]))
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/booking/booking/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 4
    assert sum('"booking_study"' in query["sql"] for query in queries.captured_queries) == 1


def test_the_private_page_reads_the_studies_once(client):
    booking = confirmed_on(date(2026, 3, 10), language="en")
    study(booking, date(2023, 1, 5), "2.8")
    study(booking, date(2025, 1, 5), "2.9")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(private_path(booking, "en"))
    assert response.status_code == 200
    assert sum('"booking_study"' in query["sql"] for query in queries.captured_queries) == 1


# --- 1b. The doctor chooses the study whose date counts -----------------------------------


@pytest.fixture
def doctor(client):
    user = UserFactory(groups=["Doctors"])
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return user


def review_url(booking: Booking) -> str:
    return reverse("review:booking", args=[booking.pk])


def test_the_review_form_offers_the_booking_dated_studies_with_the_newest_by_default(
    client, doctor
):
    booking = confirmed_on(date(2026, 3, 10))
    study(booking, date(2023, 1, 5), "3.1")
    study(booking, date(2025, 12, 1), "3.2")
    study(booking, None, "3.3")
    study(BookingFactory(), date(2024, 4, 4), "3.4")  # another patient's
    html = client.get(review_url(booking)).content.decode()
    select = re.search(r'<select[^>]*name="scan_study".*?</select>', html, re.S).group(0)
    with translation.override("en"):
        dates = [date_format(d, "SHORT_DATE_FORMAT") for d in (date(2023, 1, 5), date(2025, 12, 1))]
        other = date_format(date(2024, 4, 4), "SHORT_DATE_FORMAT")
    options = re.findall(r"<option[^>]*>(.*?)</option>", select)
    assert options[0] == "The newest study"
    assert len(options) == 3
    assert all(any(day in option for option in options) for day in dates)
    assert other not in select
    assert re.search(r'<option value="" selected>', select)


def test_the_doctors_choice_is_stored_kept_and_can_go_back_to_the_newest(client, doctor):
    booking = confirmed_on(date(2026, 3, 10), imaging_status=Booking.ImagingStatus.UPLOADED)
    old = study(booking, date(2023, 1, 5), "4.1")
    study(booking, date(2025, 12, 1), "4.2")
    response = client.post(review_url(booking), {"verdict": "approved", "scan_study": old.pk})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.scan_study == old and booking.imaging_reviewed
    assert TOO_OLD in imaging_warning(booking)
    select = client.get(review_url(booking)).content.decode()
    assert f'<option value="{old.pk}" selected>' in select

    client.post(review_url(booking), {"verdict": "approved", "scan_study": ""})
    booking.refresh_from_db()
    assert booking.scan_study is None
    assert imaging_warning(booking) == ""


def test_another_bookings_study_cannot_be_chosen(client, doctor):
    booking = confirmed_on(date(2026, 3, 10))
    foreign = study(BookingFactory(), date(2020, 1, 1), "5.1")
    response = client.post(review_url(booking), {"verdict": "approved", "scan_study": foreign.pk})
    assert response.status_code == 200
    booking.refresh_from_db()
    assert booking.scan_study is None and not booking.imaging_reviewed
    assert not booking.reviews.exists()


# --- 2. "Agreed" only after a doctor agreed the plan --------------------------------------

LAST_DOSE, RESTART = date(2030, 3, 11), date(2030, 3, 15)


@pytest.fixture
def prepared_plan():
    """Dates prepared by reception, waiting for a doctor: not a plan yet."""
    warfarin = AnticoagulantFactory(brand="Marevan", substance="warfarin")
    booking = confirmed_on(
        date(2030, 3, 14),
        language="en",
        takes_blood_thinners=Booking.Answer.YES,
        anticoagulants=[warfarin],
        last_dose_date=LAST_DOSE,
        restart_date=RESTART,
        plan_prepared_by=UserFactory(),
    )
    PlanLine.objects.create(
        booking=booking,
        anticoagulant=warfarin,
        action=PlanLine.Action.PAUSE,
        last_dose_date=LAST_DOSE,
        restart_date=RESTART,
    )
    assert booking.plan_agreed_at is None
    return booking


def agree(booking: Booking) -> None:
    booking.plan_agreed_by = UserFactory(groups=["Doctors"])
    booking.plan_agreed_at = timezone.now()
    booking.save()


def written_dates(language: str = "en") -> list[str]:
    with translation.override(language):
        return [
            text
            for day in (LAST_DOSE, RESTART)
            for text in (
                date_format(day, "DATE_FORMAT"),
                date_format(day, "SHORT_DATE_FORMAT"),
                day.isoformat(),
            )
        ]


def test_prepared_dates_are_not_an_agreed_plan_in_the_checklist(prepared_plan):
    with translation.override("en"):
        item = blood_thinner_item(prepared_plan)
        assert item.state != DONE
        assert "agreed with you" not in item.detail
        agree(prepared_plan)
        assert blood_thinner_item(prepared_plan).state == DONE


def test_the_private_page_shows_prepared_dates_neither_as_agreed_nor_as_the_plan(
    client, prepared_plan
):
    html = client.get(private_path(prepared_plan, "en")).content.decode()
    assert "Do not stop any medicine until we have agreed a plan with you." in html
    assert "has agreed" not in html and "has been agreed" not in html
    assert not [text for text in written_dates() if text in html]

    agree(prepared_plan)
    html = client.get(private_path(prepared_plan, "en")).content.decode()
    assert [text for text in written_dates() if text in html]


def test_the_admin_page_says_not_agreed_for_prepared_dates(client, prepared_plan):
    client.force_login(UserFactory(groups=["Reception"]))
    url = reverse("admin:booking_booking_change", args=[prepared_plan.pk])
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Not agreed yet" in html
    assert "Agreed by" not in html and "A plan has been agreed" not in html

    agree(prepared_plan)
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Agreed by" in html and "Not agreed yet" not in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_a_browser_prepared_dates_are_not_shown_as_an_agreed_plan(visit, prepared_plan):
    page = visit(viewport={"width": 390, "height": 844}).page
    page.goto(private_path(prepared_plan, "en"))
    text = page.locator("main").inner_text()
    assert "Do not stop any medicine until we have agreed a plan with you." in text
    assert "has agreed" not in text and "has been agreed" not in text
    assert not [written for written in written_dates() if written in text]


# --- 3. The review step sends nothing while a step is unanswered --------------------------


@pytest.fixture
def consent():
    return ConsentTextFactory(kind=ConsentText.Kind.HEALTH_DATA, text_en="I agree.")


def with_draft(client, **fields) -> Booking:
    """A draft in the client's session, as if the patient had reached some step."""
    draft = BookingFactory(
        status=Booking.Status.DRAFT,
        submitted_at=None,
        consent_given_at=None,
        consent_text=None,
        language="en",
        **fields,
    )
    session = client.session
    session[DRAFT_SESSION_KEY] = draft.pk
    session.save()
    return draft


ANSWERED = {
    "imaging_status": Booking.ImagingStatus.RADIOLOGY_WILL_SEND,
    "takes_blood_thinners": Booking.Answer.NO,
    "birth_date": date(1960, 5, 1),
}


@pytest.mark.parametrize(
    ("unanswered", "step"),
    [
        ({"earliest_date": None, "latest_date": None}, "when"),
        ({"birth_date": None}, "about"),
        ({"takes_blood_thinners": ""}, "checklist"),
        ({"imaging_status": ""}, "images"),
    ],
)
def test_sending_by_url_with_an_unanswered_step_sends_nothing(
    client, consent, mailoutbox, unanswered, step
):
    draft = with_draft(client, **(ANSWERED | unanswered))
    response = client.post(en_url("review"), {"consent": "on", "consent_version": str(consent.pk)})
    assert response.status_code == 302
    assert response["Location"] == en_url(step)
    draft.refresh_from_db()
    assert draft.status == Booking.Status.DRAFT and draft.consent_given_at is None
    assert mailoutbox == []
    page = client.get(response["Location"]).content.decode()
    assert "Some answers are missing" in page


def test_a_complete_draft_is_sent_from_the_review_step(client, consent, mailoutbox):
    draft = with_draft(client, **ANSWERED)
    response = client.post(en_url("review"), {"consent": "on", "consent_version": str(consent.pk)})
    assert response["Location"] == en_url("thanks")
    draft.refresh_from_db()
    assert draft.status == Booking.Status.REQUESTED and mailoutbox


# --- 4. A closed booking takes no more images ---------------------------------------------


@pytest.fixture
def private_storage_root(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path
    return tmp_path


def upload_png(client, booking):
    from tests.booking.test_flow import png_file

    return client.post(en_url("private_upload", token=make_token(booking)), {"files": png_file()})


@pytest.mark.parametrize(
    "status", [Booking.Status.CANCELLED, Booking.Status.COMPLETED, Booking.Status.NO_SHOW]
)
def test_a_closed_booking_refuses_uploads_and_stores_nothing(client, private_storage_root, status):
    booking = BookingFactory(status=status, language="en")
    response = upload_png(client, booking)
    assert response.status_code >= 400
    assert not Upload.objects.filter(booking=booking).exists()
    assert not any(path.is_file() for path in private_storage_root.rglob("*"))


def test_a_closed_booking_says_why_it_refuses_uploads(client, private_storage_root):
    booking = BookingFactory(status=Booking.Status.CANCELLED, language="en")
    html = upload_png(client, booking).content.decode()
    assert "This link does not work" not in html
    assert booking.reference in html


@pytest.mark.parametrize("status", [Booking.Status.REQUESTED, Booking.Status.CONFIRMED])
def test_an_open_booking_still_takes_uploads(client, private_storage_root, status):
    booking = BookingFactory(status=status, language="en")
    assert upload_png(client, booking).status_code == 303
    assert Upload.objects.filter(booking=booking).count() == 1


# --- 5. The rate limit of "send me a new link" --------------------------------------------

REFUSED = "You have asked for several new links in a short time."


@pytest.fixture
def own_cache(settings):
    # A cache of this test's own: the shared file cache may be cleared by another run.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "new-link-rate-limit-test",
        }
    }
    settings.BOOKING_RATE_LIMIT = 3
    settings.BOOKING_RATE_LIMIT_SECONDS = 600


def test_new_links_are_limited_per_address_and_the_refusal_reveals_no_booking(
    client, own_cache, mailoutbox
):
    known = BookingFactory(language="en").email
    start = datetime(2026, 5, 4, 9, tzinfo=COPENHAGEN)
    with time_machine.travel(start, tick=False) as traveller:
        for email in ("nobody@example.com", "nobody2@example.com", known):  # the Nth passes
            response = client.post(en_url("new_link"), {"email": email})
            assert response["Location"] == en_url("new_link_sent")
        assert len(mailoutbox) == 1

        refused_known = client.post(en_url("new_link"), {"email": known})
        refused_unknown = client.post(en_url("new_link"), {"email": "nobody@example.com"})
        assert refused_known.status_code == refused_unknown.status_code == 429
        assert REFUSED in refused_known.content.decode()
        strip = re.compile(r'(name="csrfmiddlewaretoken" value="[^"]*"|value="[^"]*@[^"]*")')
        assert strip.sub("", refused_known.content.decode()) == strip.sub(
            "", refused_unknown.content.decode()
        )
        assert len(mailoutbox) == 1

        traveller.shift(timedelta(seconds=601))
        response = client.post(en_url("new_link"), {"email": known})
        assert response["Location"] == en_url("new_link_sent")
        assert len(mailoutbox) == 2


# --- 6. The consent text keeps its own language ---------------------------------------------


def consent_label(html: str) -> str:
    return re.search(r'<label[^>]*for="id_consent"[^>]*>(.*?)</label>', html, re.S).group(1)


@pytest.mark.parametrize(
    ("page", "texts", "shown", "lang"),
    [
        ("sv", {"text_da": "Jeg giver lov.", "text_en": "I agree."}, "Jeg giver lov.", "da"),
        ("en", {"text_da": "Jeg giver lov.", "text_de": "Ich stimme zu."}, "Ich stimme zu.", "de"),
    ],
)
def test_a_consent_text_in_a_fallback_language_is_marked_with_its_language(
    client, page, texts, shown, lang
):
    ConsentTextFactory(kind=ConsentText.Kind.HEALTH_DATA, **({"text_en": ""} | texts))
    with_draft(client, **ANSWERED)
    with translation.override(page):
        html = client.get(reverse("booking:review")).content.decode()
    label = consent_label(html)
    assert re.search(rf'<span lang="{lang}">\s*{re.escape(shown)}\s*</span>', label)


def test_a_translated_consent_text_carries_no_other_language(client):
    ConsentTextFactory(
        kind=ConsentText.Kind.HEALTH_DATA, text_da="Jeg giver lov.", text_sv="Jag godkänner."
    )
    with_draft(client, **ANSWERED)
    with translation.override("sv"):
        html = client.get(reverse("booking:review")).content.decode()
    assert '<html lang="sv"' in html
    label = consent_label(html)
    assert "Jag godkänner." in label and "lang=" not in label
