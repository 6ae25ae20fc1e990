"""What staff (and the patient) do to a booking: confirm a time, record a blood-thinner
plan, cancel, mark completed or no-show, and log who opened it.

Every function is keyword-only and saves the booking with its history user set, so
django-simple-history records who changed what.

No double booking: a practitioner never has two confirmed bookings that overlap.
`confirm_booking` locks the practitioner's row (PostgreSQL; SQLite takes its write
lock at BEGIN, as the settings use IMMEDIATE transactions) and checks for overlaps
before saving, so confirmations for one practitioner happen one at a time. On
PostgreSQL an exclusion constraint (migration 0002) is the last word: its violation
becomes the same `TimeTaken` error.
"""

from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking import tasks
from booking.models import Booking, BookingView
from clinic.models import Practitioner

OVERLAP_CONSTRAINT = "booking_no_overlap"
AGREE_PERMISSION = "booking.agree_anticoagulant_plan"
CHANGE_PERMISSION = "booking.change_booking"
Status = Booking.Status


class TimeTaken(ValidationError):
    """The practitioner already has a confirmed booking at (part of) that time."""

    def __init__(self, practitioner):
        super().__init__(
            _("This time is already taken for %(practitioner)s. Choose another time."),
            code="time_taken",
            params={"practitioner": practitioner},
        )


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


def overlapping(
    *, practitioner: Practitioner, starts_at: datetime, ends_at: datetime, exclude_pk=None
):
    """The practitioner's confirmed bookings that overlap [starts_at, ends_at)."""
    return (
        Booking.objects.confirmed()
        .filter(practitioner=practitioner, starts_at__lt=ends_at, ends_at__gt=starts_at)
        .exclude(pk=exclude_pk)
    )


def _is_overlap_violation(error: IntegrityError) -> bool:
    diag = getattr(error.__cause__, "diag", None)
    if getattr(diag, "constraint_name", None) == OVERLAP_CONSTRAINT:
        return True
    return OVERLAP_CONSTRAINT in str(error)


def confirm_booking(
    *, booking: Booking, practitioner: Practitioner, starts_at: datetime, user
) -> Booking:
    """Give the booking a practitioner and a time, and tell the patient.

    Raises TimeTaken when the practitioner is busy then, and ValidationError for a
    booking that cannot be confirmed or a time in the past. A new time resets an
    agreed blood-thinner plan: its dates were counted from the old day.
    """
    _require(user, CHANGE_PERMISSION)
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at)
    if starts_at < timezone.now():
        raise ValidationError(_("The time is in the past. Choose a time to come."), code="past")
    kind = booking.appointment_type
    if kind.duration_minutes < 1:
        raise ValidationError(
            _("The appointment type has no duration; set one first."), code="no_duration"
        )
    ends_at = starts_at + kind.duration
    try:
        with transaction.atomic():
            # One confirmation per practitioner at a time (PostgreSQL; SQLite's
            # IMMEDIATE transaction already holds the database's write lock).
            Practitioner.objects.select_for_update().filter(pk=practitioner.pk).first()
            current = Booking.objects.select_for_update().get(pk=booking.pk)
            if current.status not in (Status.REQUESTED, Status.CONFIRMED):
                raise _wrong_status(
                    current,
                    _("Booking %(reference)s is “%(status)s” and cannot be confirmed."),
                )
            if overlapping(
                practitioner=practitioner,
                starts_at=starts_at,
                ends_at=ends_at,
                exclude_pk=current.pk,
            ).exists():
                raise TimeTaken(practitioner)
            fields = ["status", "practitioner", "starts_at", "ends_at"]
            if current.starts_at != starts_at and current.plan_agreed:
                # The agreed dates belonged to the old day: a doctor must agree again.
                current.plan_agreed_by = None
                current.plan_agreed_at = None
                current.last_dose_date = None
                current.restart_date = None
                fields += ["plan_agreed_by", "plan_agreed_at", "last_dose_date", "restart_date"]
            current.status = Status.CONFIRMED
            current.practitioner = practitioner
            current.starts_at = starts_at
            current.ends_at = ends_at
            _save(current, user, fields)
    except IntegrityError as error:
        if _is_overlap_violation(error):
            raise TimeTaken(practitioner) from error
        raise
    booking.refresh_from_db()
    tasks.send_booking_message(booking=booking, kind="confirmed")
    return booking


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
    if booking.status not in (Status.REQUESTED, Status.CONFIRMED):
        raise _wrong_status(
            booking, _("Booking %(reference)s is “%(status)s” and cannot be cancelled.")
        )
    booking.status = Status.CANCELLED
    booking.cancel_reason = reason
    _save(booking, user, ["status", "cancel_reason"])
    tasks.send_booking_message(booking=booking, kind="cancelled")
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
