"""Times: which are free, and the one way a booking takes, changes or gives up a time.

`offered_times` reads working hours, absences and claims in a fixed number of queries
and hands them to the pure functions of booking/slots.py.

`claim_time` is the only path that gives a booking a time: a patient's hold on a
picked time, a tentative time (staff confirm later), a confirmed time (at once, by
staff, from the calendar, or a reschedule). It locks the practitioner, clears
expired holds that overlap, checks the claims, stores the time with its buffers,
clears a blood-thinner plan whose dates belonged to another day, and tells the
patient. `release_time` gives a patient's picked time up; `drop_claim` frees the time of
a cancelled booking.

No double booking: on PostgreSQL an exclusion constraint on the claimed ranges
(migration 0006) is the last word; its violation becomes `TimeTaken`. SQLite takes
its write lock at BEGIN (IMMEDIATE transactions), so the check here is enough there.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking import outbox, slots, tasks
from booking.models import (
    Absence,
    Anticoagulant,
    AppointmentType,
    Booking,
    PlanLine,
    WorkingHours,
)
from clinic.models import Practitioner

OVERLAP_CONSTRAINT = "booking_no_overlap"
Status = Booking.Status


class TimeTaken(ValidationError):
    """The practitioner's time is already taken (by a booking or another patient's hold)."""

    def __init__(self, practitioner=None):
        if practitioner is None:  # told to a patient: no names of staff
            super().__init__(
                _("This time has just been taken. Please choose another time."),
                code="time_taken",
            )
        else:
            super().__init__(
                _("This time is already taken for %(practitioner)s. Choose another time."),
                code="time_taken",
                params={"practitioner": practitioner},
            )


class TimeNotOffered(ValidationError):
    """The submitted time is not one of the free times (tampered, past, outside hours)."""

    def __init__(self):
        super().__init__(
            _("This time cannot be booked. Please choose one of the times shown."),
            code="not_offered",
        )


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def hold_duration() -> timedelta:
    return timedelta(minutes=settings.BOOKING_HOLD_MINUTES)


# --- Reading: free times ------------------------------------------------------------


def rules_for(appointment_type: AppointmentType) -> slots.SlotRules:
    return slots.SlotRules(
        duration=appointment_type.duration,
        buffer_before=appointment_type.buffer_before,
        buffer_after=appointment_type.buffer_after,
        min_notice=timedelta(hours=appointment_type.min_notice_hours),
        horizon=timedelta(weeks=appointment_type.max_weeks_ahead),
        step=timedelta(minutes=settings.BOOKING_SLOT_STEP_MINUTES),
    )


def performers(appointment_type: AppointmentType) -> list[Practitioner]:
    return list(appointment_type.practitioners.filter(active=True).order_by("order", "pk"))


def blood_thinner_pause_days(booking: Booking) -> int | None:
    """Days before the appointment the plan needs: None when no pause is needed.

    The longest usual pause of the medicines the patient named, plus the day of the
    last dose (booking.services.suggested_plan counts the same way). A patient who
    takes a blood thinner that is not in the list, or does not know, gets the longest
    usual pause of all the medicines in the list of the patient's language.
    """
    kind = booking.appointment_type
    answer = booking.takes_blood_thinners
    if not kind.asks_about_blood_thinners or answer in ("", Booking.Answer.NO):
        return None
    pauses = [m.default_pause_days for m in booking.anticoagulants.all()]
    if not pauses or booking.other_medicine or answer == Booking.Answer.DONT_KNOW:
        pauses += list(
            Anticoagulant.objects.filter(active=True)
            .for_language(booking.language)
            .values_list("default_pause_days", flat=True)
        )
    return max(pauses, default=0) + 1


def earliest_for(booking: Booking, now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    return slots.earliest_start(
        now=now,
        min_notice=timedelta(hours=booking.appointment_type.min_notice_hours),
        pause_days=blood_thinner_pause_days(booking),
        lead_days=settings.BOOKING_DOCTOR_LEAD_DAYS,
        tz=zone(),
    )


def offered_times(
    *,
    appointment_type: AppointmentType,
    now: datetime | None = None,
    earliest: datetime | None = None,
    practitioner: Practitioner | None = None,
    exclude_booking: Booking | None = None,
    practitioners: list[Practitioner] | None = None,
) -> list[slots.Slot]:
    """The free times of this type: one per start ("any": the first practitioner free).

    With `practitioner`, only that practitioner's times. The booking in
    `exclude_booking` does not block its own current time (a reschedule or a new
    pick may keep it). Four queries, whatever the number of bookings.
    """
    now = now or timezone.now()
    rules = rules_for(appointment_type)
    people = practitioners if practitioners is not None else performers(appointment_type)
    if practitioner is not None:
        people = [p for p in people if p.pk == practitioner.pk]
    if not people:
        return []
    ids = [p.pk for p in people]
    horizon_end = now + rules.horizon + timedelta(days=1)
    margin = rules.buffer_before + rules.buffer_after + timedelta(days=1)

    working: dict[int, list[slots.WorkingInterval]] = {pk: [] for pk in ids}
    for hours in WorkingHours.objects.filter(practitioner_id__in=ids):
        working[hours.practitioner_id].append(hours.interval())
    busy: dict[int, list[slots.Busy]] = {pk: [] for pk in ids}
    window = {"starts_at__lt": horizon_end + margin, "ends_at__gt": now - margin}
    absences = Absence.objects.filter(**window).filter(
        Q(practitioner_id__in=ids) | Q(practitioner__isnull=True)
    )
    for absence in absences:
        targets = ids if absence.practitioner_id is None else [absence.practitioner_id]
        for pk in targets:
            busy[pk].append(slots.Busy(absence.starts_at, absence.ends_at))
    claims = Booking.objects.claiming(now).filter(
        practitioner_id__in=ids,
        claim_starts_at__lt=horizon_end + margin,
        claim_ends_at__gt=now - margin,
    )
    if exclude_booking is not None and exclude_booking.pk:
        claims = claims.exclude(pk=exclude_booking.pk)
    for pk, start, end in claims.values_list("practitioner_id", "claim_starts_at", "claim_ends_at"):
        busy[pk].append(slots.Busy(start, end))

    found = slots.free_slots(
        practitioners=[
            slots.PractitionerTime(pk, tuple(working[pk]), tuple(busy[pk])) for pk in ids
        ],
        rules=rules,
        now=now,
        earliest=earliest,
        tz=zone(),
    )
    return found if practitioner is not None else slots.first_free(found)


@dataclass(frozen=True)
class Pick:
    """A time the patient chose: its start and the practitioner it was offered with."""

    starts_at: datetime
    practitioner_id: int


def parse_pick(value: str) -> Pick | None:
    """'<ISO start with offset>|<practitioner pk>' as the "When" step submits it."""
    start_text, _sep, pk_text = (value or "").partition("|")
    try:
        starts_at = datetime.fromisoformat(start_text)
        pk = int(pk_text)
    except ValueError:
        return None
    if timezone.is_naive(starts_at):
        return None
    return Pick(starts_at, pk)


def pick_value(starts_at: datetime, practitioner_id: int) -> str:
    """What the "When" step submits for a time: parse_pick reads it back."""
    return f"{timezone.localtime(starts_at, zone()).isoformat()}|{practitioner_id}"


@dataclass(frozen=True)
class Chosen:
    start: datetime
    practitioner: Practitioner


def offered_slot(*, booking: Booking, value: str, now: datetime) -> Chosen:
    """The time in `value` if it is offered to this booking right now, else TimeNotOffered.

    Checked against the chosen practitioner's own free times: a time offered as
    "anyone" went to the first practitioner free then, who has it in that list too.
    The booking's own current time counts as free (a reschedule may keep it).
    """
    pick = parse_pick(value)
    kind = booking.appointment_type
    practitioner = next(
        (p for p in performers(kind) if pick is not None and p.pk == pick.practitioner_id), None
    )
    if pick is None or practitioner is None:
        raise TimeNotOffered()
    offered = offered_times(
        appointment_type=kind,
        now=now,
        earliest=earliest_for(booking, now),
        exclude_booking=booking,
        practitioners=[practitioner],
    )
    slot = slots.is_offered(pick.starts_at, practitioner.pk, offered)
    if slot is None:
        raise TimeNotOffered()
    return Chosen(slot.start, practitioner)


# --- Writing: the one path that sets a time -------------------------------------------


def _is_overlap_violation(error: IntegrityError) -> bool:
    diag = getattr(error.__cause__, "diag", None)
    if getattr(diag, "constraint_name", None) == OVERLAP_CONSTRAINT:
        return True
    return OVERLAP_CONSTRAINT in str(error)


def overlapping_claims(
    *, practitioner_id: int, claim_starts_at: datetime, claim_ends_at: datetime, now, exclude_pk
):
    return (
        Booking.objects.claiming(now)
        .filter(
            practitioner_id=practitioner_id,
            claim_starts_at__lt=claim_ends_at,
            claim_ends_at__gt=claim_starts_at,
        )
        .exclude(pk=exclude_pk)
    )


PLAN_FIELDS = [
    "last_dose_date",
    "restart_date",
    "plan_prepared_by",
    "plan_agreed_by",
    "plan_agreed_at",
    "plan_instructions",
    "plan_read_at",
]


def _clear_plan(booking: Booking) -> list[str]:
    """A plan's dates belong to one day: prepared or agreed, a new time clears them.

    The caller deletes the plan's lines (`PlanLine`) in the same transaction.
    """
    if not (
        booking.last_dose_date
        or booking.restart_date
        or booking.plan_agreed_at
        or booking.plan_prepared_by_id
    ):
        return []
    booking.last_dose_date = None
    booking.restart_date = None
    booking.plan_prepared_by = None
    booking.plan_agreed_by = None
    booking.plan_agreed_at = None
    booking.plan_instructions = ""
    booking.plan_read_at = None
    return list(PLAN_FIELDS)


HOLD, TENTATIVE, CONFIRMED = "hold", "tentative", "confirmed"


def claim_time(
    *,
    booking: Booking,
    practitioner: Practitioner,
    starts_at: datetime,
    as_: str,
    user=None,
    now: datetime | None = None,
    notify: bool = True,
) -> Booking:
    """Give `booking` this practitioner's time, as a hold, a tentative or a confirmed time.

    Raises TimeTaken when another claim overlaps (the caller offers other times).
    Returns the booking as saved. Messages: a confirmed time sends "confirmed" (with
    the .ics, its SEQUENCE raised); staff moving a tentative time sends "news".
    """
    if as_ not in (HOLD, TENTATIVE, CONFIRMED):
        raise ValueError(f"Unknown kind of claim: {as_!r}")
    now = now or timezone.now()
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at)
    kind = booking.appointment_type
    if kind.duration_minutes < 1:
        raise ValidationError(
            _("The appointment type has no duration; set one first."), code="no_duration"
        )
    ends_at = starts_at + kind.duration
    claim_start = starts_at - kind.buffer_before
    claim_end = ends_at + kind.buffer_after
    try:
        with transaction.atomic():
            # One claim per practitioner at a time (PostgreSQL; SQLite's IMMEDIATE
            # transaction already holds the database's write lock).
            Practitioner.objects.select_for_update().filter(pk=practitioner.pk).first()
            current = Booking.objects.select_for_update().get(pk=booking.pk)
            # A constraint cannot see expiry: expired holds in the way are released here.
            Booking.objects.filter(
                status=Status.DRAFT,
                hold_expires_at__lte=now,
                practitioner_id=practitioner.pk,
                claim_starts_at__lt=claim_end,
                claim_ends_at__gt=claim_start,
            ).update(claim_starts_at=None, claim_ends_at=None, hold_expires_at=None)
            if overlapping_claims(
                practitioner_id=practitioner.pk,
                claim_starts_at=claim_start,
                claim_ends_at=claim_end,
                now=now,
                exclude_pk=current.pk,
            ).exists():
                raise TimeTaken(practitioner if user is not None else None)
            moved = current.starts_at != starts_at or current.practitioner_id != practitioner.pk
            was_confirmed = current.status == Status.CONFIRMED
            freed = None
            if moved and current.claim_starts_at and current.status != Status.DRAFT:
                freed = (current.practitioner_id, current.claim_starts_at, current.claim_ends_at)
            fields = [
                "practitioner",
                "starts_at",
                "ends_at",
                "claim_starts_at",
                "claim_ends_at",
                "hold_expires_at",
                "status",
                "time_sequence",
            ]
            plan_was_agreed = False
            if moved:
                plan_was_agreed = current.plan_agreed
                cleared = _clear_plan(current)
                if cleared:
                    PlanLine.objects.filter(booking=current).delete()
                fields += cleared
                if current.status != Status.DRAFT and current.starts_at is not None:
                    current.time_sequence += 1  # a calendar that has the old time moves it
                # A patient who moved gets the time they wanted: off the waitlist.
                current.wants_earlier = False
                current.wants_earlier_since = None
                fields += ["wants_earlier", "wants_earlier_since"]
            current.practitioner = practitioner
            current.starts_at = starts_at
            current.ends_at = ends_at
            current.claim_starts_at = claim_start
            current.claim_ends_at = claim_end
            if as_ == HOLD:
                current.hold_expires_at = now + hold_duration()
            else:
                current.hold_expires_at = None
                current.status = Status.CONFIRMED if as_ == CONFIRMED else Status.TENTATIVE
            current._history_user = user
            current.save(update_fields=[*fields, "updated_at"])
    except IntegrityError as error:
        if _is_overlap_violation(error):
            raise TimeTaken(practitioner if user is not None else None) from error
        raise
    booking.refresh_from_db()
    if booking.status != Status.DRAFT:
        outbox.replan(booking, now=now)  # reminders follow the new time
    if freed is not None:
        offer_freed_time(
            practitioner_id=freed[0], claim_starts_at=freed[1], claim_ends_at=freed[2], now=now
        )
    if notify and plan_was_agreed and booking.submitted_at:
        tasks.send_booking_message(booking=booking, kind="plan_cleared")
    if notify and as_ == CONFIRMED and (moved or not was_confirmed):
        tasks.send_booking_message(booking=booking, kind="confirmed")
    elif notify and as_ == TENTATIVE and moved and user is not None and booking.submitted_at:
        tasks.send_booking_message(booking=booking, kind="news")
    return booking


def renew_hold(*, booking: Booking, now: datetime | None = None) -> bool:
    """The patient is still busy with the flow: keep their held time for another while.

    Returns False when there is no live hold to renew (it expired or was never taken).
    """
    now = now or timezone.now()
    if booking.status != Status.DRAFT or booking.claim_starts_at is None:
        return False
    renewed = Booking.objects.filter(
        pk=booking.pk, status=Status.DRAFT, hold_expires_at__gt=now
    ).update(hold_expires_at=now + hold_duration())
    booking.hold_expires_at = now + hold_duration() if renewed else booking.hold_expires_at
    return bool(renewed)


def hold_is_live(booking: Booking, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return bool(
        booking.claim_starts_at and booking.hold_expires_at and booking.hold_expires_at > now
    )


def drop_claim(booking: Booking) -> list[str]:
    """Free the booking's claimed time for others (not saved); returns the fields changed."""
    booking.claim_starts_at = None
    booking.claim_ends_at = None
    booking.hold_expires_at = None
    return ["claim_starts_at", "claim_ends_at", "hold_expires_at"]


def release_time(*, booking: Booking) -> Booking:
    """A patient gives up a picked time (another type, a period instead, a time taken).

    The time is free for others at once, and the draft forgets it.
    """
    booking.starts_at = None
    booking.ends_at = None
    booking.practitioner = None
    fields = [*drop_claim(booking), "starts_at", "ends_at", "practitioner"]
    booking.save(update_fields=[*fields, "updated_at"])
    return booking


# --- Closures ------------------------------------------------------------------------


def add_public_holidays(*, years) -> int:
    """Danish public holidays as whole-day clinic closures; returns how many were added.

    A clinic closure that already starts at that midnight is left alone, so staff may
    edit a holiday (its end or its name) without the button adding it again.
    """
    added = 0
    for day, name in slots.danish_public_holidays(years=years):
        starts_at = timezone.make_aware(datetime.combine(day, time()))
        if not Absence.objects.filter(practitioner=None, starts_at=starts_at).exists():
            Absence.objects.create(
                practitioner=None,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(days=1),
                reason=name,
            )
            added += 1
    return added


# --- The patient's own changes --------------------------------------------------------


TOO_LATE_ONLINE = _("This appointment can no longer be changed online. Please call us.")


def patient_may_change(booking: Booking, now: datetime | None = None) -> bool:
    """May the patient move or cancel this booking online, from the private page?

    Not within BOOKING_CHANGE_HOURS of the appointment, and not once the agreed
    blood-thinner plan's last-dose day has come: a patient in the middle of a pause
    must talk to the clinic, so they are never left without a restart date.
    """
    now = now or timezone.now()
    if booking.status not in (Status.REQUESTED, Status.TENTATIVE, Status.CONFIRMED):
        return False
    notice = timedelta(hours=settings.BOOKING_CHANGE_HOURS)
    if booking.starts_at is not None and booking.starts_at - now < notice:
        return False
    if booking.plan_agreed and booking.last_dose_date:
        return timezone.localdate(now) < booking.last_dose_date
    return True


def patient_may_reschedule(booking: Booking, now: datetime | None = None) -> bool:
    kind = booking.appointment_type
    return (
        kind.patient_picks_time
        and booking.status in (Status.TENTATIVE, Status.CONFIRMED)
        and booking.starts_at is not None
        and patient_may_change(booking, now)
    )


def reschedule_by_patient(*, booking: Booking, value: str, now: datetime | None = None) -> Booking:
    """Move the booking to another offered time. A time staff must confirm is tentative again.

    Raises TimeNotOffered, TimeTaken, or ValidationError when online changes are over.
    """
    now = now or timezone.now()
    if not patient_may_reschedule(booking, now):
        raise ValidationError(TOO_LATE_ONLINE, code="too_late")
    chosen = offered_slot(booking=booking, value=value, now=now)
    kind = booking.appointment_type
    as_ = CONFIRMED if kind.booking_mode == kind.BookingMode.PICK_CONFIRMED else TENTATIVE
    return claim_time(
        booking=booking,
        practitioner=chosen.practitioner,
        starts_at=chosen.start,
        as_=as_,
        now=now,
    )


# --- The waitlist ------------------------------------------------------------------------

WAITLIST_BATCH = 3  # patients told about one freed time; the first to take it gets it


def join_waitlist(*, booking: Booking, wants: bool, now: datetime | None = None) -> Booking:
    """The patient asks (or stops asking) to be told when an earlier time frees up."""
    booking.wants_earlier = wants
    booking.wants_earlier_since = (now or timezone.now()) if wants else None
    booking.save(update_fields=["wants_earlier", "wants_earlier_since", "updated_at"])
    return booking


def offer_freed_time(
    *,
    practitioner_id: int,
    claim_starts_at: datetime,
    claim_ends_at: datetime,
    now: datetime | None = None,
    site_url: str = "",
) -> list[Booking]:
    """A time came free: tell the first waitlisted patients it would suit.

    A patient is told when the freed range now holds a time offered to their own
    booking (their type, their blood-thinner lead time, the practitioner free) that is
    earlier than the time they have. The e-mail links to the private page, where the
    first to take it gets it; the others find it gone among the current free times.
    Returns the bookings told.
    """
    now = now or timezone.now()
    candidates = (
        Booking.objects.filter(
            wants_earlier=True,
            status__in=[Status.TENTATIVE, Status.CONFIRMED],
            starts_at__gt=claim_starts_at,
            appointment_type__practitioners=practitioner_id,
        )
        .select_related("appointment_type")
        .order_by("wants_earlier_since", "pk")
    )
    told = []
    for booking in candidates:
        if len(told) >= WAITLIST_BATCH:
            break
        if not patient_may_reschedule(booking, now):
            continue
        people = [p for p in performers(booking.appointment_type) if p.pk == practitioner_id]
        if not people:
            continue
        times = offered_times(
            appointment_type=booking.appointment_type,
            now=now,
            earliest=earliest_for(booking, now),
            exclude_booking=booking,
            practitioners=people,
        )
        if any(
            claim_starts_at <= slot.start < claim_ends_at and slot.start < booking.starts_at
            for slot in times
        ):
            Booking.objects.filter(pk=booking.pk).update(earlier_offered_at=now)
            tasks.send_booking_message(booking=booking, kind="earlier_time", site_url=site_url)
            told.append(booking)
    return told
