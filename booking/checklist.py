"""The pre-treatment checklist: which items apply to a booking, and the state of each.

Pure functions of a booking (no queries beyond what is prefetched), shown the same
way to the patient on the private page and to staff in the admin.
"""

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext_lazy as _

from booking.models import SCAN_MAX_AGE_YEARS, AppointmentType, Booking

DONE = "done"
MISSING = "missing"
NEEDS_STAFF = "needs_staff"

STATE_LABELS = {
    DONE: _("Done"),
    MISSING: _("Missing"),
    NEEDS_STAFF: _("Waiting for the clinic"),
}


@dataclass(frozen=True)
class Item:
    code: str  # "imaging", "blood_thinners", "companion"
    title: str
    state: str
    detail: str = ""
    warning: str = ""

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])


def reference_day(booking: Booking) -> date | None:
    """The day a scan's age is judged on: the appointment, or the last day of the patient's
    period when no time is set yet (the scan must still do on the latest day they can come).

    Never today, nor the period's first day: a scan that is fine now can be too old by then.
    """
    return booking.appointment_day or booking.latest_date


def counted_scan_date(booking: Booking) -> date | None:
    """The date of the scan whose age counts.

    The study the doctor chose (Booking.scan_study), else the newest study with a date,
    else the date the patient gave. Studies are not matched to the painful area: the
    DICOM body part ("CSPINE", "KNEE") and the patient's own words ("nakke") have no
    reliable mapping, so the doctor chooses when the newest study is the wrong one. A
    study whose patient differs from the booking's (booking/imaging/identity.py) never counts.
    Reads booking.studies.all(), so a list that prefetches "studies" costs one query.
    """
    studies = [
        study
        for study in booking.studies.all()
        if study.study_date and not study.differs_from(booking)
    ]
    chosen = next((study for study in studies if study.pk == booking.scan_study_id), None)
    if chosen is not None:
        return chosen.study_date
    if studies:
        return max(study.study_date for study in studies)
    return booking.scan_date


def _years_after(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def scan_too_old(booking: Booking) -> bool:
    """True when the counted scan is more than two calendar years old on the reference day.

    Exactly two years old passes: a scan from 10 March 2024 is fine on 10 March 2026 and
    too old on 11 March. A scan from 29 February 2024 is exactly two years old on
    28 February 2026 (there is no 29 February that year), so it is too old from 1 March.
    """
    scanned = counted_scan_date(booking)
    day = reference_day(booking)
    if scanned is None or day is None:
        return False
    return day > _years_after(scanned, SCAN_MAX_AGE_YEARS)


def imaging_item(booking: Booking, upload_count: int) -> Item:
    title = str(_("X-ray or scan images"))
    warning = ""
    if scan_too_old(booking):
        warning = str(
            _(
                "The scan will be more than 2 years old on the day. "
                "The doctor may ask for a new one."
            )
        )
    if booking.imaging_reviewed:
        return Item(
            "imaging", title, DONE, str(_("The doctor has looked at your images.")), warning
        )
    if booking.imaging_status == Booking.ImagingStatus.UPLOADED and upload_count:
        return Item(
            "imaging", title, NEEDS_STAFF, str(_("Received. A doctor will look at them.")), warning
        )
    if booking.imaging_status == Booking.ImagingStatus.RADIOLOGY_WILL_SEND:
        return Item(
            "imaging",
            title,
            NEEDS_STAFF,
            str(_("We are waiting for the images from the radiology department.")),
            warning,
        )
    return Item("imaging", title, MISSING, str(_("Please send us your images.")), warning)


def blood_thinner_item(booking: Booking) -> Item:
    title = str(_("Blood-thinning medicine"))
    answer = booking.takes_blood_thinners
    if answer == Booking.Answer.NO:
        return Item(
            "blood_thinners", title, DONE, str(_("You do not take blood-thinning medicine."))
        )
    if not answer:
        return Item(
            "blood_thinners", title, MISSING, str(_("Please tell us if you take blood thinners."))
        )
    if booking.plan_agreed:
        return Item("blood_thinners", title, DONE, str(_("A plan has been agreed with you.")))
    # The warning "do not stop any medicine" is the page's to say, once, beside the plan.
    return Item(
        "blood_thinners",
        title,
        NEEDS_STAFF,
        str(_("We will agree a plan with you before your treatment.")),
    )


def companion_item(booking: Booking) -> Item:
    title = str(_("Someone to drive you home"))
    if booking.companion_confirmed:
        return Item("companion", title, DONE, booking.companion_name)
    return Item(
        "companion",
        title,
        MISSING,
        str(_("Please confirm that an adult will come with you and drive you home.")),
    )


def checklist(booking: Booking, upload_count: int | None = None) -> list[Item]:
    """The items that apply to the booking's appointment type, in the reference's order."""
    kind = booking.appointment_type
    if upload_count is None:
        upload_count = booking.uploads.count()
    items = []
    if kind.imaging != AppointmentType.Imaging.NOT_NEEDED:
        item = imaging_item(booking, upload_count)
        if kind.imaging == AppointmentType.Imaging.OPTIONAL and item.state == MISSING:
            item = Item(item.code, item.title, DONE, str(_("Optional for this appointment.")))
        items.append(item)
    if kind.asks_about_blood_thinners:
        items.append(blood_thinner_item(booking))
    if kind.companion_required:
        items.append(companion_item(booking))
    return items


def is_complete(items: list[Item]) -> bool:
    return all(item.state == DONE for item in items)
