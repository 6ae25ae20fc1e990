"""What staff (and the patient) do to a booking: confirm a time, record a blood-thinner
plan, cancel, mark completed or no-show, and log who opened it.

Every function is keyword-only and saves the booking with its history user set, so
django-simple-history records who changed what.

Times are set only through booking/scheduling.py (`claim_time`), which makes sure a
practitioner never has two overlapping claims: `confirm_booking` checks who may
confirm and hands the time over.
"""

from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking import scheduling, tasks
from booking.models import Booking, BookingView
from booking.scheduling import TimeTaken
from clinic.models import Practitioner

__all__ = ["TimeTaken"]  # raised by confirm_booking; callers catch it from here

AGREE_PERMISSION = "booking.agree_anticoagulant_plan"
CHANGE_PERMISSION = "booking.change_booking"
Status = Booking.Status
CONFIRMABLE = (Status.REQUESTED, Status.TENTATIVE, Status.CONFIRMED)
OPEN = (Status.REQUESTED, Status.TENTATIVE, Status.CONFIRMED)


class WrongStatus(ValidationError):
    """The booking's status does not allow what was asked."""


def _wrong_status(booking: Booking, message) -> WrongStatus:
    return WrongStatus(
        message,
        code="wrong_status",
        params={"reference": booking.reference, "status": booking.get_status_display()},
    )


def _require(user, permission: str) -> None:
    if user is None or not user.has_perm(permission):
        raise PermissionDenied


def _save(booking: Booking, user, fields: list[str]) -> None:
    booking._history_user = user
    booking.save(update_fields=[*fields, "updated_at"])


def confirm_booking(
    *, booking: Booking, practitioner: Practitioner, starts_at: datetime, user
) -> Booking:
    """Give the booking a practitioner and a confirmed time, and tell the patient.

    Raises TimeTaken when the practitioner is busy then, and ValidationError for a
    booking that cannot be confirmed or a time in the past. A new time clears the
    blood-thinner plan: its dates were counted from the old day.
    """
    _require(user, CHANGE_PERMISSION)
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at)
    if starts_at < timezone.now():
        raise ValidationError(_("The time is in the past. Choose a time to come."), code="past")
    if booking.status not in CONFIRMABLE:
        raise _wrong_status(
            booking, _("Booking %(reference)s is “%(status)s” and cannot be confirmed.")
        )
    return scheduling.claim_time(
        booking=booking,
        practitioner=practitioner,
        starts_at=starts_at,
        as_=scheduling.CONFIRMED,
        user=user,
    )


# --- Blood thinners ---------------------------------------------------------------


def appointment_day(booking: Booking) -> date | None:
    return timezone.localdate(booking.starts_at) if booking.starts_at else None


def suggested_plan(booking: Booking) -> tuple[date | None, date | None]:
    """Dates to prefill: only a suggestion, a doctor decides.

    The longest usual pause of the patient's medicines, counted back from the
    appointment day: a pause of N days means N whole days without the medicine
    before the treatment day, so the last dose is N + 1 days before it. Restart the
    day after the treatment.
    """
    day = appointment_day(booking)
    pauses = [medicine.default_pause_days for medicine in booking.anticoagulants.all()]
    if day is None or not pauses:
        return None, None
    return day - timedelta(days=max(pauses) + 1), day + timedelta(days=1)


def _check_plan_dates(booking: Booking, last_dose_date: date, restart_date: date) -> None:
    errors = {}
    day = appointment_day(booking)
    if day and last_dose_date >= day:
        errors["last_dose_date"] = _("The last day to take it must be before the appointment.")
    if day and restart_date < day:
        errors["restart_date"] = _("The day to start again must be on or after the appointment.")
    elif restart_date <= last_dose_date:
        errors["restart_date"] = _("The day to start again must be after the last day.")
    if errors:
        raise ValidationError(errors)


def prepare_anticoagulant_plan(
    *, booking: Booking, last_dose_date: date, restart_date: date, user
) -> Booking:
    """Reception writes down the dates; a doctor must still agree them."""
    _require(user, CHANGE_PERMISSION)
    _check_plan_dates(booking, last_dose_date, restart_date)
    booking.last_dose_date = last_dose_date
    booking.restart_date = restart_date
    booking.plan_prepared_by = user
    # Changed dates are not agreed until a doctor agrees them.
    booking.plan_agreed_by = None
    booking.plan_agreed_at = None
    _save(
        booking,
        user,
        ["last_dose_date", "restart_date", "plan_prepared_by", "plan_agreed_by", "plan_agreed_at"],
    )
    return booking


def agree_anticoagulant_plan(
    *, booking: Booking, last_dose_date: date, restart_date: date, user
) -> Booking:
    """A doctor agrees the plan: these are the dates the patient is shown."""
    _require(user, AGREE_PERMISSION)
    _check_plan_dates(booking, last_dose_date, restart_date)
    booking.last_dose_date = last_dose_date
    booking.restart_date = restart_date
    if booking.plan_prepared_by_id is None:
        booking.plan_prepared_by = user
    booking.plan_agreed_by = user
    booking.plan_agreed_at = timezone.now()
    _save(
        booking,
        user,
        ["last_dose_date", "restart_date", "plan_prepared_by", "plan_agreed_by", "plan_agreed_at"],
    )
    return booking


# --- Status changes ---------------------------------------------------------------


def cancel_booking(*, booking: Booking, reason: str, user=None) -> Booking:
    """Cancel a requested or confirmed booking; `user` None means the patient did."""
    if user is not None:
        _require(user, CHANGE_PERMISSION)
    if booking.status not in OPEN:
        raise _wrong_status(
            booking, _("Booking %(reference)s is “%(status)s” and cannot be cancelled.")
        )
    freed = (booking.practitioner_id, booking.claim_starts_at, booking.claim_ends_at)
    booking.status = Status.CANCELLED
    booking.cancel_reason = reason
    booking.wants_earlier = False
    if booking.claim_starts_at is not None:
        booking.time_sequence += 1
    # The time is free for others at once; the booking still shows when it was.
    freed_fields = scheduling.drop_claim(booking)
    _save(
        booking,
        user,
        ["status", "cancel_reason", "time_sequence", "wants_earlier", *freed_fields],
    )
    tasks.send_booking_message(booking=booking, kind="cancelled")
    if freed[1] is not None:
        scheduling.offer_freed_time(
            practitioner_id=freed[0], claim_starts_at=freed[1], claim_ends_at=freed[2]
        )
    return booking


def _after_appointment(booking: Booking, new_status: str, user) -> Booking:
    _require(user, CHANGE_PERMISSION)
    if booking.status != Status.CONFIRMED:
        raise _wrong_status(
            booking,
            _("Booking %(reference)s is “%(status)s”; only a confirmed booking can be marked."),
        )
    if booking.starts_at > timezone.now():
        raise ValidationError(
            _("Booking %(reference)s has not started yet."),
            code="not_started",
            params={"reference": booking.reference},
        )
    booking.status = new_status
    _save(booking, user, ["status"])
    return booking


def mark_completed(*, booking: Booking, user) -> Booking:
    return _after_appointment(booking, Status.COMPLETED, user)


def mark_no_show(*, booking: Booking, user) -> Booking:
    return _after_appointment(booking, Status.NO_SHOW, user)


def record_staff_view(*, booking: Booking, user, ip_address: str | None) -> BookingView:
    """Log that a staff member opened the booking."""
    return BookingView.objects.create(booking=booking, user=user, ip_address=ip_address or None)
