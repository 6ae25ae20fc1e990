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
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking import outbox, scheduling, tasks
from booking.models import Booking, BookingView, PhoneTask, PlanLine, PlannedMessage
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

PAUSE = PlanLine.Action.PAUSE
KEEP = PlanLine.Action.CONTINUE
PLAN_FIELDS = [
    "last_dose_date",
    "restart_date",
    "plan_instructions",
    "plan_prepared_by",
    "plan_agreed_by",
    "plan_agreed_at",
    "plan_read_at",
]
# How far a pause may differ from the medicine's usual pause before staff are warned.
PAUSE_TOLERANCE_DAYS = 2
# Dates further out than these are probably a typing error.
LATEST_RESTART_DAYS = 7
EARLIEST_LAST_DOSE_DAYS = 30


def _suggested_dates(day: date, pause_days: int) -> tuple[date, date]:
    """A pause of N days means N whole days without the medicine before the treatment
    day, so the last dose is N + 1 days before it; restart the day after the treatment.
    """
    return day - timedelta(days=pause_days + 1), day + timedelta(days=1)


def suggested_plan(booking: Booking) -> tuple[date | None, date | None]:
    """Dates to prefill: only a suggestion, a doctor decides.

    The longest usual pause of the patient's medicines, counted back from the
    appointment day (see `_suggested_dates`).
    """
    day = booking.appointment_day
    pauses = [medicine.default_pause_days for medicine in booking.anticoagulants.all()]
    if day is None or not pauses:
        return None, None
    return _suggested_dates(day, max(pauses))


def suggested_lines(booking: Booking) -> list[dict]:
    """One line per medicine the patient named, each paused for its own usual pause.

    A medicine that is not in the list has no usual pause: its line leaves the
    action and the dates for staff to fill in.
    """
    day = booking.appointment_day
    lines = []
    for medicine in booking.anticoagulants.all():
        last, restart = _suggested_dates(day, medicine.default_pause_days) if day else (None, None)
        lines.append(_line(anticoagulant=medicine, action=PAUSE, last=last, restart=restart))
    if booking.other_medicine:
        lines.append(_line(medicine_name=booking.other_medicine))
    return lines


def _line(*, anticoagulant=None, medicine_name="", action="", last=None, restart=None) -> dict:
    return {
        "anticoagulant": anticoagulant,
        "medicine_name": medicine_name,
        "action": action,
        "last_dose_date": last,
        "restart_date": restart,
    }


def _get(line, name: str):
    """A plan line's value, from a dict (a form's line) or a saved PlanLine."""
    return line.get(name) if isinstance(line, dict) else getattr(line, name)


def line_name(line) -> str:
    medicine = _get(line, "anticoagulant")
    return str(medicine) if medicine else (_get(line, "medicine_name") or "")


def check_plan_line(booking: Booking, line) -> None:
    """One line's own rules; raises ValidationError keyed by the line's fields."""
    errors = {}
    last, restart = _get(line, "last_dose_date"), _get(line, "restart_date")
    action = _get(line, "action")
    if not _get(line, "anticoagulant") and not (_get(line, "medicine_name") or "").strip():
        errors["medicine_name"] = _("Choose the medicine from the list or write its name.")
    if action == KEEP:
        if last or restart:
            errors["action"] = _(
                "A medicine the patient keeps taking has no dates: clear them, or choose pause."
            )
    elif action == PAUSE:
        errors.update(_check_plan_dates(booking, last, restart))
    else:
        errors["action"] = _("Choose whether the patient pauses or keeps taking the medicine.")
    if errors:
        raise ValidationError(errors)


def _check_plan_dates(booking: Booking, last: date | None, restart: date | None) -> dict:
    errors = {}
    if last is None:
        errors["last_dose_date"] = _("A paused medicine needs the last day to take it.")
    if restart is None:
        errors["restart_date"] = _("A paused medicine needs the day to start again.")
    if errors:
        return errors
    day = booking.appointment_day
    if day and last >= day:
        errors["last_dose_date"] = _("The last day to take it must be before the appointment.")
    if day and restart < day:
        errors["restart_date"] = _("The day to start again must be on or after the appointment.")
    elif restart <= last:
        errors["restart_date"] = _("The day to start again must be after the last day.")
    return errors


def _check_lines(booking: Booking, lines: list[dict]) -> None:
    """Every line's errors, each named by its medicine so a list of them reads alone."""
    messages = []
    for line in lines:
        try:
            check_plan_line(booking, line)
        except ValidationError as error:
            name = line_name(line) or _("A medicine without a name")
            messages += [f"{name}: {message}" for message in error.messages]
    if messages:
        raise ValidationError(messages, code="plan_line")


def _paused(lines) -> list:
    return [line for line in lines if _get(line, "action") == PAUSE]


def plan_warnings(booking: Booking, lines) -> list[str]:
    """What a doctor should look at twice before the patient is told: not errors.

    A pause far from the medicine's usual one, dates far from the appointment, or
    a pause that starts so soon that the patient may not read the plan in time.
    `lines` are dicts as for `prepare_anticoagulant_plan`, or saved PlanLines.
    """
    day = booking.appointment_day
    today = timezone.localdate()
    warnings = []
    for line in _paused(lines):
        last, restart = _get(line, "last_dose_date"), _get(line, "restart_date")
        if last is None or restart is None:
            continue
        params = {"medicine": line_name(line), "last": last, "restart": restart}
        medicine = _get(line, "anticoagulant")
        if day is not None:
            pause = (day - last).days - 1
            if medicine and abs(pause - medicine.default_pause_days) > PAUSE_TOLERANCE_DAYS:
                warnings.append(
                    _("%(medicine)s: a pause of %(pause)d days, the usual pause is %(usual)d days.")
                    % {**params, "pause": pause, "usual": medicine.default_pause_days}
                )
            if (restart - day).days > LATEST_RESTART_DAYS:
                warnings.append(
                    _(
                        "%(medicine)s: the restart (%(restart)s) is more than %(days)d days after "
                        "the appointment."
                    )
                    % {**params, "days": LATEST_RESTART_DAYS}
                )
            if (day - last).days > EARLIEST_LAST_DOSE_DAYS:
                warnings.append(
                    _(
                        "%(medicine)s: the last dose (%(last)s) is more than %(days)d days before "
                        "the appointment."
                    )
                    % {**params, "days": EARLIEST_LAST_DOSE_DAYS}
                )
        if last <= today + timedelta(days=1):
            warnings.append(
                _(
                    "%(medicine)s: the last dose is on %(last)s, so the pause starts today or "
                    "tomorrow: the patient has little time to read the plan. Phone them."
                )
                % params
            )
    return warnings


def _summary(lines) -> tuple[date | None, date | None]:
    """The booking's pair of dates: the earliest last dose and the latest restart."""
    paused = _paused(lines)
    if not paused:
        return None, None
    return (
        min(_get(line, "last_dose_date") for line in paused),
        max(_get(line, "restart_date") for line in paused),
    )


def _save_plan(booking: Booking, lines: list[dict], instructions: str, user) -> None:
    """Replace the lines and the summary, then plan the messages that follow from them."""
    booking.last_dose_date, booking.restart_date = _summary(lines)
    booking.plan_instructions = instructions
    # A changed plan is a new plan: the patient must read it again.
    booking.plan_read_at = None
    with transaction.atomic():
        booking.plan_lines.all().delete()
        PlanLine.objects.bulk_create(
            PlanLine(
                booking=booking,
                anticoagulant=line.get("anticoagulant"),
                medicine_name="" if line.get("anticoagulant") else line.get("medicine_name", ""),
                action=line["action"],
                last_dose_date=line.get("last_dose_date"),
                restart_date=line.get("restart_date"),
                order=order,
            )
            for order, line in enumerate(lines)
        )
        _save(booking, user, PLAN_FIELDS)
    outbox.replan(booking)


def prepare_anticoagulant_plan(
    *, booking: Booking, lines: list[dict], instructions: str, user
) -> Booking:
    """Reception writes down the plan; a doctor must still agree it.

    Each line is a dict: anticoagulant (an Anticoagulant or None), medicine_name,
    action ("pause" or "continue"), last_dose_date, restart_date.
    """
    _require(user, CHANGE_PERMISSION)
    _check_lines(booking, lines)
    booking.plan_prepared_by = user
    # A changed plan is not agreed until a doctor agrees it.
    booking.plan_agreed_by = None
    booking.plan_agreed_at = None
    _save_plan(booking, lines, instructions, user)
    return booking


def agree_anticoagulant_plan(
    *, booking: Booking, lines: list[dict], instructions: str, user
) -> Booking:
    """A doctor agrees the plan: these are the lines the patient is shown.

    Only for a confirmed time (a tentative one may still move), and never with a
    last dose already past: the patient cannot start a pause yesterday.
    """
    _require(user, AGREE_PERMISSION)
    if booking.status != Status.CONFIRMED or booking.starts_at is None:
        raise _wrong_status(
            booking,
            _(
                "Booking %(reference)s is “%(status)s”: a plan is agreed only for a "
                "confirmed time. Prepare it now and agree it once the time is confirmed."
            ),
        )
    _check_lines(booking, lines)
    today = timezone.localdate()
    past = [line for line in _paused(lines) if line["last_dose_date"] < today]
    if past:
        raise ValidationError(
            _(
                "%(medicine)s: the last day to take it (%(last)s) has passed. The patient "
                "cannot start a pause in the past: choose new dates or a new time."
            ),
            code="past_last_dose",
            params={"medicine": line_name(past[0]), "last": past[0]["last_dose_date"]},
        )
    if booking.plan_prepared_by_id is None:
        booking.plan_prepared_by = user
    booking.plan_agreed_by = user
    booking.plan_agreed_at = timezone.now()
    _save_plan(booking, lines, instructions, user)
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
    outbox.replan(booking)  # its reminders are cancelled
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
    outbox.replan(booking)  # only a restart day of a pause already begun is still sent
    return booking


def mark_completed(*, booking: Booking, user) -> Booking:
    return _after_appointment(booking, Status.COMPLETED, user)


def mark_no_show(*, booking: Booking, user) -> Booking:
    return _after_appointment(booking, Status.NO_SHOW, user)


def record_staff_view(*, booking: Booking, user, ip_address: str | None) -> BookingView:
    """Log that a staff member opened the booking."""
    return BookingView.objects.create(booking=booking, user=user, ip_address=ip_address or None)


# --- Messages and phone calls -------------------------------------------------------

RESENDABLE = (PlannedMessage.Status.FAILED, PlannedMessage.Status.UNKNOWN)


def send_message_again(*, message: PlannedMessage, user) -> PlannedMessage:
    """Staff ask for a failed, or maybe unsent, message to be sent once more, now.

    Only those two: a sent message would reach the patient twice, and a planned
    one goes out by itself.
    """
    _require(user, CHANGE_PERMISSION)
    # The outbox checks the status as it changes the row, so two clicks send once.
    if not outbox.send_again(message, user=user):
        raise ValidationError(
            _("Only a failed message, or one that may not have been sent, can be sent again."),
            code="not_resendable",
        )
    return message


def mark_phone_task_done(*, task: PhoneTask, user) -> bool:
    """Record who made the call and when; False when it was already done."""
    _require(user, CHANGE_PERMISSION)
    if task.done_at is not None:
        return False
    task.done_at = timezone.now()
    task.done_by = user
    task.save(update_fields=["done_at", "done_by"])
    return True
