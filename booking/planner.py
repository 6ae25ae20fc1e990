"""The staff calendar: what a practitioner's day or week holds.

`week_plan` reads one practitioner's working hours, absences and bookings for the
days shown (three queries) and lays each day out as a list of entries in time
order: bookings (tentative ones marked), patients' holds, absences and the free
time left inside working hours. The admin view (booking/admin.py) renders it.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from booking import scheduling
from booking.models import Absence, Booking, WorkingHours
from clinic.models import Practitioner

FREE, BOOKED, TENTATIVE, HOLD, ABSENT = "free", "booked", "tentative", "hold", "absent"


@dataclass
class Entry:
    kind: str
    start: datetime
    end: datetime
    booking: Booking | None = None
    absence: Absence | None = None

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


@dataclass
class Day:
    day: date
    entries: list[Entry] = field(default_factory=list)

    @property
    def is_today(self) -> bool:
        return self.day == timezone.localdate()


def _subtract(ranges: list[tuple[datetime, datetime]], busy: list[tuple[datetime, datetime]]):
    """The parts of `ranges` that no busy range covers (both lists of half-open ranges)."""
    left = []
    for start, end in ranges:
        pieces = [(start, end)]
        for b_start, b_end in busy:
            next_pieces = []
            for p_start, p_end in pieces:
                if b_end <= p_start or b_start >= p_end:
                    next_pieces.append((p_start, p_end))
                    continue
                if p_start < b_start:
                    next_pieces.append((p_start, b_start))
                if b_end < p_end:
                    next_pieces.append((b_end, p_end))
            pieces = next_pieces
        left += pieces
    return left


def week_plan(
    *, practitioner: Practitioner, first_day: date, days: int = 7, now: datetime | None = None
) -> list[Day]:
    """The practitioner's days from `first_day`, each with its entries in time order."""
    now = now or timezone.now()
    tz = scheduling.zone()
    last_day = first_day + timedelta(days=days - 1)
    window_start = timezone.make_aware(datetime.combine(first_day, time()), tz)
    window_end = timezone.make_aware(datetime.combine(last_day + timedelta(days=1), time()), tz)

    hours = WorkingHours.objects.filter(practitioner=practitioner)
    intervals = [item.interval() for item in hours]
    absences = list(
        Absence.objects.filter(starts_at__lt=window_end, ends_at__gt=window_start).filter(
            Q(practitioner=practitioner) | Q(practitioner__isnull=True)
        )
    )
    bookings = list(
        Booking.objects.claiming(now)
        .filter(
            practitioner=practitioner,
            claim_starts_at__lt=window_end,
            claim_ends_at__gt=window_start,
        )
        .select_related("appointment_type")
        .order_by("starts_at")
    )

    plan = {first_day + timedelta(days=n): Day(first_day + timedelta(days=n)) for n in range(days)}
    for booking in bookings:
        kind = {Booking.Status.TENTATIVE: TENTATIVE, Booking.Status.DRAFT: HOLD}.get(
            booking.status, BOOKED
        )
        entry = Entry(kind, booking.starts_at, booking.ends_at, booking=booking)
        day = timezone.localtime(booking.starts_at, tz).date()
        if day in plan:
            plan[day].entries.append(entry)
    busy = [(b.claim_starts_at, b.claim_ends_at) for b in bookings]
    busy += [(a.starts_at, a.ends_at) for a in absences]
    for day in plan.values():
        day_start = timezone.make_aware(datetime.combine(day.day, time()), tz)
        day_end = day_start + timedelta(days=1)
        for absence in absences:
            if absence.starts_at < day_end and absence.ends_at > day_start:
                day.entries.append(
                    Entry(
                        ABSENT,
                        max(absence.starts_at, day_start),
                        min(absence.ends_at, day_end),
                        absence=absence,
                    )
                )
        working = [
            (
                datetime.combine(day.day, interval.start).replace(tzinfo=tz, fold=0),
                datetime.combine(day.day, interval.end).replace(tzinfo=tz, fold=1),
            )
            for interval in intervals
            if interval.applies_on(day.day)
        ]
        for start, end in _subtract(sorted(working), busy):
            if end > max(start, now):
                day.entries.append(Entry(FREE, max(start, now), end))
        day.entries.sort(key=lambda entry: (entry.start, entry.kind != ABSENT))
    return list(plan.values())


def tentative_waiting(*, older_than_days: int = 3, now: datetime | None = None):
    """Tentative bookings waiting for reception; the old ones first, flagged as late."""
    now = now or timezone.now()
    late = now - timedelta(days=older_than_days)
    waiting = list(
        Booking.objects.tentative()
        .select_related("appointment_type", "practitioner")
        .order_by("submitted_at", "pk")
    )
    for booking in waiting:
        booking.waiting_long = bool(booking.submitted_at and booking.submitted_at < late)
    return waiting


def bookings_to_move(*, now: datetime | None = None):
    """Confirmed or tentative bookings whose time (buffers included) an absence now covers.

    The same rule as the warning the admin gives when an absence is saved.
    """
    now = now or timezone.now()
    covering = Absence.objects.filter(
        Q(practitioner=OuterRef("practitioner")) | Q(practitioner__isnull=True),
        starts_at__lt=OuterRef("claim_ends_at"),
        ends_at__gt=OuterRef("claim_starts_at"),
    )
    return list(
        Booking.objects.filter(
            status__in=[Booking.Status.CONFIRMED, Booking.Status.TENTATIVE],
            claim_starts_at__isnull=False,
            ends_at__gt=now,
        )
        .filter(Exists(covering))
        .select_related("practitioner", "appointment_type")
        .order_by("starts_at")
    )


def in_a_pause(*, now: datetime | None = None):
    """Patients who have begun an agreed blood-thinner pause: they cannot change online.

    If one of them calls to move or cancel, a doctor must agree a new plan (or tell
    them to restart) before the call ends: a patient mid-pause is never left without
    a restart date.
    """
    today = timezone.localdate(now or timezone.now())
    return list(
        Booking.objects.filter(
            status__in=[Booking.Status.CONFIRMED, Booking.Status.TENTATIVE],
            plan_agreed_at__isnull=False,
            last_dose_date__lte=today,
            restart_date__gte=today,
        )
        .select_related("practitioner")
        .order_by("starts_at")
    )
