"""Every message a booking will need, planned as rows, and the pass that sends what is due.

Two kinds of rows:
- *events* (received, confirmed, cancelled, ...) are written when something happens
  (`record_event`) and sent at once by a task; their key carries the booking's
  time sequence, so a confirmation that is still retrying when the time moves again
  is superseded instead of sent;
- *planned* messages (the plan, its dates, the reminders) are computed from the
  booking as it is now (`wanted`) whenever it changes and on every periodic pass
  (`replan`). A row's key names the facts its words depend on: a new date is a new
  row, the old one is superseded; a row that was sent is never planned again.

Sending claims a row with one conditional UPDATE (planned -> sending), so two workers
or a restarted one never send a row twice. A failed try is retried from the row
itself with a growing delay until the kind's deadline or for 48 hours, then the row
is failed and shown to staff. A row left "sending" by a killed worker becomes
"unknown: check": it may have reached the mail server, so it is never resent
without a person deciding. A safety message (the plan, the pause's eve, the restart
day) that cannot go out in time becomes a phone task.

Due rows are selected with Python's clock (`timezone.now()`), never the database's,
so time travel in tests moves everything.
"""

import logging
import smtplib
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_tasks import task

from booking.models import (
    REMINDER_KINDS,
    SAFETY_KINDS,
    AppointmentType,
    Booking,
    MessageKind,
    MessagePass,
    PhoneTask,
    PlannedMessage,
)

logger = logging.getLogger(__name__)

Kind = MessageKind
Status = PlannedMessage.Status
Channel = PlannedMessage.Channel
OPEN = (Booking.Status.REQUESTED, Booking.Status.TENTATIVE, Booking.Status.CONFIRMED)

# Kinds computed from the booking's state; every other kind is an event.
PLANNED_KINDS = frozenset(
    {
        Kind.PLAN_READY,
        Kind.PAUSE_EVE,
        Kind.RESTART,
        Kind.IMAGES_MISSING,
        Kind.SCAN_TOO_OLD,
        Kind.COMPANION_MISSING,
        Kind.DAY_BEFORE,
    }
)
# Answers to what the patient just did (or mail to the clinic): they ignore quiet hours.
ANSWER_KINDS = frozenset({Kind.RECEIVED, Kind.NEW_LINK, Kind.CLINIC_NEW_REQUEST})
# Events about a time: stale once the time has moved again.
TIME_EVENT_KINDS = frozenset({Kind.CONFIRMED, Kind.NEWS, Kind.PLAN_CLEARED})
# Sent by e-mail only: the new-link form asks for an address, the clinic reads e-mail.
EMAIL_ONLY_KINDS = frozenset({Kind.NEW_LINK, Kind.CLINIC_NEW_REQUEST})

# A reminder first planned this long after its time has lost its point.
REMINDER_GRACE = timedelta(hours=2)
RETRY_DELAYS_MINUTES = (1, 2, 4, 8, 15, 30, 60)
BATCH_SIZE = 500


# --- Time ----------------------------------------------------------------------------


def local_at(day: date, hour: int, minute: int = 0) -> datetime:
    """`day` at this wall-clock time in the clinic's time zone (right across DST)."""
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def quiet_hours() -> tuple[int, int] | None:
    return settings.BOOKING_QUIET_HOURS


def out_of_quiet_hours(moment: datetime) -> datetime:
    """The first moment at or after `moment` when messages may go out (08:00 by default)."""
    hours = quiet_hours()
    if not hours:
        return moment
    start, end = hours
    local = timezone.localtime(moment)
    if local.hour >= start:
        return local_at(local.date() + timedelta(days=1), end)
    if local.hour < end:
        return local_at(local.date(), end)
    return moment


def is_quiet(moment: datetime) -> bool:
    return out_of_quiet_hours(moment) != moment


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, 8, 15, 30 minutes, then every hour."""
    index = min(attempts, len(RETRY_DELAYS_MINUTES)) - 1
    return timedelta(minutes=RETRY_DELAYS_MINUTES[max(index, 0)])


def give_up_at(message: PlannedMessage) -> datetime:
    """Retry for 48 hours from the first try, or until the kind's deadline if sooner."""
    first = message.first_attempt_at or message.due_at
    limit = first + timedelta(hours=settings.MESSAGE_RETRY_HOURS)
    if message.deadline_at is not None:
        return min(limit, message.deadline_at)
    return limit


# --- What a booking needs -------------------------------------------------------------


@dataclass(frozen=True)
class Want:
    kind: str
    key: str
    due_at: datetime | None  # None: as soon as it is first planned
    deadline_at: datetime | None = None
    about_date: date | None = None


def channels_for(booking: Booking, kind: str) -> list[str]:
    """The channels the patient chose that can reach them."""
    if kind == Kind.CLINIC_NEW_REQUEST:
        return [Channel.EMAIL]
    chosen = booking.contact_channel
    channels = []
    if booking.email and chosen in (Booking.Channel.EMAIL, Booking.Channel.BOTH):
        channels.append(Channel.EMAIL)
    if (
        kind not in EMAIL_ONLY_KINDS
        and booking.phone
        and chosen in (Booking.Channel.SMS, Booking.Channel.BOTH)
    ):
        channels.append(Channel.SMS)
    if not channels and booking.email:  # SMS chosen without a phone: e-mail rather than nothing
        channels.append(Channel.EMAIL)
    return channels


def _reminder_at(day: date) -> datetime:
    return local_at(day, settings.BOOKING_REMINDER_HOUR)


def _plan_wants(booking: Booking) -> list[Want]:
    """The plan is agreed: tell the patient, then the eve of the pause and the restart day."""
    if not booking.plan_agreed or booking.status != Booking.Status.CONFIRMED:
        return []  # no plan for a tentative time
    agreed = booking.plan_agreed_at
    version = agreed.isoformat()
    last, restart = booking.last_dose_date, booking.restart_date
    end_of = quiet_hours()[0] if quiet_hours() else 21
    wants = [
        Want(
            Kind.PLAN_READY,
            version,
            agreed,
            local_at(last, end_of) if last else booking.starts_at,
        )
    ]
    if last:
        deadline = local_at(last, end_of)
        # Agreed too late for the eve: a phone call instead (never a pause in the past).
        if agreed < deadline:
            wants.append(
                Want(
                    Kind.PAUSE_EVE,
                    f"{last.isoformat()}@{version}",
                    max(_reminder_at(last), agreed),
                    deadline,
                    last + timedelta(days=1),
                )
            )
    if restart:
        wants.append(
            Want(
                Kind.RESTART,
                restart.isoformat(),
                local_at(restart, quiet_hours()[1] if quiet_hours() else 8),
                local_at(restart, end_of),
                restart,
            )
        )
    return wants


def _imaging_wants(booking: Booking, upload_count: int) -> list[Want]:
    from booking.checklist import MISSING, imaging_item, scan_too_old

    kind = booking.appointment_type
    if kind.imaging != AppointmentType.Imaging.REQUIRED:
        return []
    wants = []
    day = booking.appointment_day
    deadline = booking.starts_at
    if imaging_item(booking, upload_count).state == MISSING:
        if booking.submitted_at:
            sent_day = timezone.localdate(booking.submitted_at)
            wants.append(
                Want(
                    Kind.IMAGES_MISSING,
                    "after-request",
                    _reminder_at(sent_day + timedelta(days=settings.BOOKING_IMAGES_REMINDER_DAYS)),
                    deadline,
                )
            )
        if day and booking.status == Booking.Status.CONFIRMED:
            wants.append(
                Want(
                    Kind.IMAGES_MISSING,
                    f"week-before@{day.isoformat()}",
                    _reminder_at(day - timedelta(days=7)),
                    deadline,
                    day - timedelta(days=1),
                )
            )
    if booking.submitted_at and scan_too_old(booking):
        reference = day or booking.latest_date
        wants.append(Want(Kind.SCAN_TOO_OLD, f"{reference}", None, deadline, reference))
    return wants


def _appointment_wants(booking: Booking) -> list[Want]:
    if booking.status != Booking.Status.CONFIRMED or booking.starts_at is None:
        return []
    day = booking.appointment_day
    key = booking.starts_at.isoformat()
    wants = [
        Want(Kind.DAY_BEFORE, key, _reminder_at(day - timedelta(days=1)), booking.starts_at, day)
    ]
    if booking.appointment_type.companion_required and not booking.companion_confirmed:
        wants.append(
            Want(
                Kind.COMPANION_MISSING,
                key,
                _reminder_at(day - timedelta(days=3)),
                booking.starts_at,
                day,
            )
        )
    return wants


def wanted(booking: Booking, upload_count: int) -> list[Want]:
    """The planned messages the booking needs as it is now (events are not here)."""
    if booking.status not in OPEN:
        return []
    wants = _plan_wants(booking) + _imaging_wants(booking, upload_count)
    wants += _appointment_wants(booking)
    if booking.reminders_off:
        wants = [want for want in wants if want.kind not in REMINDER_KINDS]
    return wants


def _pause_has_begun(rows, today: date) -> bool:
    """The patient has stopped a medicine: the restart message must still reach them."""
    return any(
        row.kind == Kind.PAUSE_EVE
        and row.about_date
        and (row.status == Status.SENT or row.about_date <= today)
        for row in rows
    )


# --- Planning -------------------------------------------------------------------------


@dataclass
class Row:
    """What planning needs of an existing row (read without building model instances)."""

    id: int
    kind: str
    channel: str
    key: str
    status: str
    attempts: int
    due_at: datetime
    deadline_at: datetime | None
    about_date: date | None

    FIELDS = ("id", "kind", "channel", "key", "status", "attempts", "due_at", "deadline_at",
              "about_date")  # fmt: skip


UPDATE_FIELDS = ["status", "due_at", "send_after", "deadline_at", "about_date"]


class Changes:
    """What one batch writes: new rows, moved or revived rows, closed rows, phone tasks."""

    def __init__(self):
        self.create, self.update, self.tasks = [], [], []
        self.closed = {Status.SUPERSEDED: [], Status.CANCELLED: []}


def _plan_one(booking: Booking, rows: list[Row], upload_count: int, now, changes: Changes):
    today = timezone.localdate(now)
    by_ident = {(row.kind, row.channel, row.key): row for row in rows}
    wanted_idents = set()
    for want in wanted(booking, upload_count):
        for channel in channels_for(booking, want.kind):
            ident = (want.kind, channel, want.key)
            wanted_idents.add(ident)
            row = by_ident.get(ident)
            due = out_of_quiet_hours(want.due_at or now)
            if row is None:
                if (
                    want.kind in REMINDER_KINDS
                    and want.due_at is not None
                    and want.due_at < now - REMINDER_GRACE
                ):
                    continue  # planned too late to remind of anything
                changes.create.append(
                    PlannedMessage(
                        booking=booking,
                        kind=want.kind,
                        channel=channel,
                        key=want.key,
                        about_date=want.about_date,
                        due_at=due,
                        send_after=due,
                        deadline_at=want.deadline_at,
                        created_at=now,
                    )
                )
            elif row.status in (Status.SUPERSEDED, Status.CANCELLED) or (
                row.status == Status.PLANNED
                and row.attempts == 0
                and want.due_at is not None
                and (row.due_at, row.deadline_at) != (due, want.deadline_at)
            ):
                # Wanted again (the time moved back) or at another time: plan it anew.
                changes.update.append(
                    PlannedMessage(
                        pk=row.id,
                        status=Status.PLANNED,
                        due_at=due,
                        send_after=due,
                        deadline_at=want.deadline_at,
                        about_date=want.about_date,
                    )
                )
    keep_restart = _pause_has_begun(rows, today)
    for row in rows:
        ident = (row.kind, row.channel, row.key)
        if row.status != Status.PLANNED or ident in wanted_idents:
            continue
        if row.kind == Kind.RESTART and keep_restart:
            continue
        closed = booking.status not in OPEN or (
            booking.reminders_off and row.kind in REMINDER_KINDS
        )
        changes.closed[Status.CANCELLED if closed else Status.SUPERSEDED].append(row.id)
    # Plans a person should ring about.
    if booking.plan_agreed and booking.last_dose_date and booking.status in OPEN:
        last_dose = local_at(booking.last_dose_date, 0)
        version = booking.plan_agreed_at.isoformat()
        margin = timedelta(hours=48)
        if booking.plan_agreed_at > last_dose - margin:
            changes.tasks.append(
                PhoneTask(booking=booking, reason=PhoneTask.Reason.PLAN_LATE, key=version)
            )
        elif booking.plan_read_at is None and now >= last_dose - margin:
            changes.tasks.append(
                PhoneTask(booking=booking, reason=PhoneTask.Reason.PLAN_UNREAD, key=version)
            )


def _apply(changes: Changes) -> None:
    if changes.create:
        PlannedMessage.objects.bulk_create(changes.create, ignore_conflicts=True)
    if changes.update:
        PlannedMessage.objects.bulk_update(changes.update, UPDATE_FIELDS)
    for status, ids in changes.closed.items():
        if ids:  # only rows still planned: one being sent right now is left alone
            PlannedMessage.objects.filter(pk__in=ids, status=Status.PLANNED).update(status=status)
    if changes.tasks:
        PhoneTask.objects.bulk_create(changes.tasks, ignore_conflicts=True)


def rows_of(booking_ids) -> dict[int, list[Row]]:
    """The planned-kind rows of these bookings, by booking, in one query."""
    rows = {}
    found = (
        PlannedMessage.objects.filter(booking_id__in=booking_ids, kind__in=PLANNED_KINDS)
        .order_by("pk")
        .values_list("booking_id", *Row.FIELDS)
    )
    for booking_id, *values in found:
        rows.setdefault(booking_id, []).append(Row(*values))
    return rows


def bookings_to_plan():
    """Bookings as planning reads them: constant queries per batch."""
    return (
        Booking.objects.select_related("appointment_type")
        .annotate(upload_count=Count("uploads", distinct=True))
        .prefetch_related("studies")
    )


def _plan_batch(booking_ids, now) -> Changes:
    changes = Changes()
    bookings = list(bookings_to_plan().filter(pk__in=booking_ids))
    rows = rows_of([booking.pk for booking in bookings])
    for booking in bookings:
        if booking.status != Booking.Status.DRAFT:
            _plan_one(booking, rows.get(booking.pk, []), booking.upload_count, now, changes)
    _apply(changes)
    return changes


def replan(booking: Booking, *, now: datetime | None = None, send: bool = True) -> None:
    """Bring one booking's planned messages in line with the booking as it is now.

    With `send`, rows that are due already (the plan was just agreed) are handed to
    the task worker at once instead of waiting for the next pass.
    """
    now = now or timezone.now()
    changes = _plan_batch([booking.pk], now)
    if send and (changes.create or changes.update):
        due = PlannedMessage.objects.filter(
            booking_id=booking.pk, status=Status.PLANNED, send_after__lte=now
        ).values_list("pk", flat=True)
        for message_id in due:
            deliver_message.enqueue(message_id)


def replan_all(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Plan every open booking, and close the rows of bookings that are no longer open."""
    now = now or timezone.now()
    ids = list(
        Booking.objects.filter(Q(status__in=OPEN) | Q(planned_messages__status=Status.PLANNED))
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")
    )
    for start in range(0, len(ids), batch_size):
        _plan_batch(ids[start : start + batch_size], now)
    return len(ids)


# --- Events ---------------------------------------------------------------------------


def record_event(*, booking: Booking, kind: str, site_url: str = "", now=None) -> list[int]:
    """Rows for something that just happened (received, confirmed, ...); returns their ids."""
    now = now or timezone.now()
    due = now if kind in ANSWER_KINDS else out_of_quiet_hours(now)
    deadline = None
    if kind == Kind.CONFIRMED and booking.starts_at:
        deadline = booking.starts_at
    key = f"{booking.time_sequence}:{uuid.uuid4().hex[:12]}"
    rows = [
        PlannedMessage(
            booking=booking,
            kind=kind,
            channel=channel,
            key=key,
            site_url=site_url,
            due_at=due,
            send_after=due,
            deadline_at=deadline,
            created_at=now,
        )
        for channel in channels_for(booking, kind)
    ]
    return [row.pk for row in PlannedMessage.objects.bulk_create(rows)]


# --- Sending --------------------------------------------------------------------------


class NotSent(Exception):
    """The channel refused the message or could not be reached: try again later."""


def _is_stale(message: PlannedMessage) -> bool:
    booking = message.booking
    if message.kind in TIME_EVENT_KINDS:
        sequence = message.key.split(":", 1)[0]
        return sequence != str(booking.time_sequence) or booking.status not in OPEN
    return False


def _claim(message_id: int, now: datetime) -> bool:
    """planned -> sending, for exactly one worker."""
    claimed = PlannedMessage.objects.filter(
        pk=message_id, status=Status.PLANNED, send_after__lte=now
    ).update(
        status=Status.SENDING,
        attempts=F("attempts") + 1,
        first_attempt_at=Coalesce("first_attempt_at", Value(now)),
        last_attempt_at=now,
    )
    return bool(claimed)


class Undeliverable(Exception):
    """No retry can help (no address); the row fails at once."""


def _transmit(message: PlannedMessage) -> None:
    from booking import channels, sms

    try:
        channels.send(message)
    except channels.Undeliverable as error:
        raise Undeliverable(str(error)) from error
    except (smtplib.SMTPException, OSError, sms.SmsError) as error:
        raise NotSent(f"{type(error).__name__}: {error}") from error


def deliver(message_id: int, *, now: datetime | None = None) -> str:
    """Send one due row if it is still wanted.

    Returns what this call did to the row ("sent", "planned" for a retry, "failed",
    "superseded"), or "" when it left the row alone (not due, or another worker's).
    """
    now = now or timezone.now()
    message = PlannedMessage.objects.select_related("booking").filter(pk=message_id).first()
    if message is None:
        return ""
    if message.kind in PLANNED_KINDS and message.status == Status.PLANNED:
        replan(message.booking, now=now, send=False)  # the booking may have changed since
        message.refresh_from_db()
    elif message.status == Status.PLANNED and _is_stale(message):
        PlannedMessage.objects.filter(pk=message.pk, status=Status.PLANNED).update(
            status=Status.SUPERSEDED
        )
        return Status.SUPERSEDED
    if message.status != Status.PLANNED or message.send_after > now:
        return ""  # not due, or another worker has it
    if message.kind not in ANSWER_KINDS and is_quiet(now):
        PlannedMessage.objects.filter(pk=message.pk).update(send_after=out_of_quiet_hours(now))
        return Status.PLANNED
    if not _claim(message.pk, now):
        return ""
    message.refresh_from_db()
    try:
        _transmit(message)
    except NotSent as error:
        return _failed_try(message, str(error), now)
    except Undeliverable as error:
        return _failed_try(message, str(error), now, final=True)
    PlannedMessage.objects.filter(pk=message.pk).update(
        status=Status.SENT, sent_at=now, last_error=""
    )
    return Status.SENT


@task(queue_name="messages")
def deliver_message(message_id: int) -> None:
    """Send one row now (the task worker); a failure stays on the row for the next pass."""
    deliver(message_id)


def _failed_try(message: PlannedMessage, error: str, now: datetime, final=False) -> str:
    retry_at = now + retry_delay(message.attempts)
    if message.kind not in ANSWER_KINDS:
        retry_at = out_of_quiet_hours(retry_at)
    if final or retry_at >= give_up_at(message):
        logger.error("Message %s failed for good after %s tries", message.pk, message.attempts)
        PlannedMessage.objects.filter(pk=message.pk).update(status=Status.FAILED, last_error=error)
        _phone_instead(message, PhoneTask.Reason.MESSAGE_FAILED)
        return Status.FAILED
    logger.warning("Message %s not sent (try %s): %s", message.pk, message.attempts, error)
    PlannedMessage.objects.filter(pk=message.pk).update(
        status=Status.PLANNED, send_after=retry_at, last_error=error
    )
    return Status.PLANNED


def _phone_instead(message: PlannedMessage, reason: str) -> None:
    if message.kind not in SAFETY_KINDS:
        return
    try:
        with transaction.atomic():
            PhoneTask.objects.get_or_create(
                booking_id=message.booking_id,
                reason=reason,
                key=f"message:{message.pk}",
                defaults={"message": message},
            )
    except IntegrityError:  # made by another worker at the same moment
        pass


def send_again(message: PlannedMessage, *, user=None, now: datetime | None = None) -> bool:
    """Staff decided: plan a failed or unknown row again, due now. False if it is not."""
    now = now or timezone.now()
    changed = PlannedMessage.objects.filter(
        pk=message.pk, status__in=[Status.FAILED, Status.UNKNOWN]
    ).update(
        status=Status.PLANNED,
        send_after=now,
        first_attempt_at=None,
        deadline_at=None,
        last_error="",
    )
    if changed:
        logger.info("Message %s planned again by %s", message.pk, getattr(user, "pk", None))
        deliver_message.enqueue(message.pk)
    return bool(changed)


# --- The periodic pass ----------------------------------------------------------------


def mark_unknown(now: datetime) -> int:
    """Rows a killed worker left "sending": they may have gone out; a person checks."""
    timeout = timedelta(minutes=settings.MESSAGE_SENDING_TIMEOUT_MINUTES)
    stuck = list(
        PlannedMessage.objects.filter(status=Status.SENDING, last_attempt_at__lt=now - timeout)
    )
    for message in stuck:
        updated = PlannedMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
            status=Status.UNKNOWN,
            last_error="The sending stopped without an answer: it may or may not have arrived.",
        )
        if updated:
            _phone_instead(message, PhoneTask.Reason.MESSAGE_UNKNOWN)
    return len(stuck)


def fail_overdue(now: datetime) -> int:
    """Planned rows whose deadline has passed: no use any more; safety ones become calls."""
    overdue = list(PlannedMessage.objects.filter(status=Status.PLANNED, deadline_at__lt=now))
    for message in overdue:
        updated = PlannedMessage.objects.filter(pk=message.pk, status=Status.PLANNED).update(
            status=Status.FAILED, last_error=message.last_error or "The deadline passed."
        )
        if updated:
            _phone_instead(message, PhoneTask.Reason.MESSAGE_FAILED)
    return len(overdue)


def send_due(now: datetime, *, limit: int = 1000) -> int:
    due = PlannedMessage.objects.filter(status=Status.PLANNED, send_after__lte=now)
    sent = 0
    for message_id in due.order_by("send_after", "pk").values_list("pk", flat=True)[:limit]:
        sent += deliver(message_id, now=now) == Status.SENT
    return sent


def run_pass(*, now: datetime | None = None) -> MessagePass:
    """Plan, clear stuck and overdue rows, send what is due, and record the pass."""
    now = now or timezone.now()
    planned = replan_all(now=now)
    mark_unknown(now)
    fail_overdue(now)
    sent = send_due(now)
    record, _created = MessagePass.objects.update_or_create(
        pk=1, defaults={"finished_at": now, "planned": planned, "sent": sent}
    )
    return record


def last_pass_at() -> datetime | None:
    record = MessagePass.objects.filter(pk=1).first()
    return record.finished_at if record else None


def pass_is_late(now: datetime | None = None) -> bool:
    """No pass for over 15 minutes (or never): reminders are not going out."""
    now = now or timezone.now()
    last = last_pass_at()
    late_after = timedelta(minutes=settings.MESSAGE_PASS_LATE_MINUTES)
    return last is None or now - last > late_after
