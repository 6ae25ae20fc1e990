"""Free appointment times, as pure functions: no database, no models.

A practitioner's free times follow from five things the caller loads and passes in:
the working time (weekly wall-clock intervals in Europe/Copenhagen local time, each
valid between two dates), what is busy (absences, clinic closures and existing claims,
that is confirmed and tentative bookings and unexpired holds, whose stored ranges
already include that booking's buffers), the appointment type's rules (duration,
buffers, notice, horizon, step) and "now".

Time zones and DST. Working time is judged in local wall time (its weekday and validity
dates by the local date), but everything is counted in absolute time: an interval's
local start and end are turned into instants once, and the candidate starts are stepped
from there in real minutes. So on the last Sunday of March (02:00 -> 03:00) nothing is
offered in the hour that does not exist, and on the last Sunday of October
(03:00 -> 02:00) the repeated hour is offered twice, once per real instant, with nothing
lost or doubled. A local time in the spring gap moves forward to the first instant that
exists (02:30 -> 03:00); an ambiguous autumn time means its first occurrence for an
interval's start and its second for an interval's end, so the interval keeps its full
real length. All arithmetic happens in UTC: Python adds a timedelta to an aware local
datetime in wall time, and compares two datetimes of the same zone by wall time, which
is wrong by an hour around the changes.

Buffers. An appointment's own buffers extend its claim: [start - buffer_before,
end + buffer_after) may not overlap anything busy, touching is fine. Because stored
claims already include their buffers, two appointments' buffers never share minutes
(the cleaning after one is not the preparation of the next). Only the appointment
itself must lie inside working time; its buffers may reach outside it (preparing before
opening or over the lunch break), but never into an absence, a closure or another claim.

Speed: busy ranges are merged and sorted once per practitioner and looked up by
bisection, and a blocked candidate jumps straight past the range that blocks it, so the
work grows with the number of candidate starts, not with starts x busy ranges.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
_ONE_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class WorkingInterval:
    """A weekly opening interval in local wall time, valid from..to inclusive (None: open)."""

    weekday: int  # 0 = Monday
    start: time
    end: time
    valid_from: date | None = None
    valid_to: date | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {self.weekday}.")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("Working time is local wall-clock time; give naive times.")
        if self.end <= self.start:
            raise ValueError("A working interval must end after it starts, on the same day.")
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from.")

    def applies_on(self, day: date) -> bool:
        return (
            day.weekday() == self.weekday
            and (self.valid_from is None or self.valid_from <= day)
            and (self.valid_to is None or day <= self.valid_to)
        )


@dataclass(frozen=True)
class Busy:
    """A half-open range [start, end) of aware datetimes when a practitioner cannot be booked."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if _utc(self.end, "Busy.end") < _utc(self.start, "Busy.start"):
            raise ValueError("A busy range must not end before it starts.")


@dataclass(frozen=True, kw_only=True)
class SlotRules:
    """An appointment type's rules for offering times."""

    duration: timedelta
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    min_notice: timedelta = timedelta(0)
    horizon: timedelta = timedelta(weeks=8)
    step: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.duration <= timedelta(0) or self.step <= timedelta(0):
            raise ValueError("duration and step must be positive.")
        if min(self.buffer_before, self.buffer_after, self.min_notice) < timedelta(0):
            raise ValueError("Buffers and minimum notice cannot be negative.")
        if self.horizon <= timedelta(0):
            raise ValueError("horizon must be positive.")


@dataclass(frozen=True)
class PractitionerTime:
    """One practitioner's working time and busy ranges (any iterables; kept as tuples)."""

    practitioner_id: int
    working: tuple[WorkingInterval, ...] = ()
    busy: tuple[Busy, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "working", tuple(self.working))
        object.__setattr__(self, "busy", tuple(self.busy))


@dataclass(frozen=True, eq=False)
class Slot:
    """A free appointment time: [start, end) in local time, plus the buffers it claims.

    Equality and hashing use the real instants, not the wall times: in the repeated
    autumn hour, 02:30 before and 02:30 after the change are different slots, which
    Python's own datetime comparison within one zone would call equal.
    """

    start: datetime
    end: datetime
    practitioner_id: int
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)

    @property
    def claim_start(self) -> datetime:
        """The start of the range this booking will claim, its buffer before included."""
        return (_utc(self.start) - self.buffer_before).astimezone(self.start.tzinfo)

    @property
    def claim_end(self) -> datetime:
        """The end of the range this booking will claim, its buffer after included."""
        return (_utc(self.end) + self.buffer_after).astimezone(self.end.tzinfo)

    @classmethod
    def _trusted(
        cls,
        start: datetime,
        end: datetime,
        practitioner_id: int,
        buffer_before: timedelta,
        buffer_after: timedelta,
    ) -> Slot:
        """The same slot as Slot(...), made without the frozen __init__'s per-field cost.

        free_slots makes thousands of slots per page; this is about four times faster.
        """
        slot = object.__new__(cls)
        slot.__dict__.update(
            start=start,
            end=end,
            practitioner_id=practitioner_id,
            buffer_before=buffer_before,
            buffer_after=buffer_after,
        )
        return slot

    def _key(self) -> tuple:
        return (
            _utc(self.start),
            _utc(self.end),
            self.practitioner_id,
            self.buffer_before,
            self.buffer_after,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Slot):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


def free_slots(
    *,
    practitioners: Sequence[PractitionerTime],
    rules: SlotRules,
    now: datetime,
    earliest: datetime | None = None,
    tz: ZoneInfo = COPENHAGEN,
) -> list[Slot]:
    """Every free slot of every practitioner, sorted by start, then by practitioners' order.

    A slot is offered when the appointment lies inside one working interval on one local
    date, its claim (buffers included) overlaps nothing busy, it starts no earlier than
    now + min_notice (and `earliest`, when given) and before now + horizon. Starts are
    stepped by `rules.step` in real time from each working interval's start.
    """
    now_utc = _utc(now, "now")
    lower = now_utc + rules.min_notice
    if earliest is not None:
        lower = max(lower, _utc(earliest, "earliest"))
    upper = now_utc + rules.horizon
    if lower >= upper:
        return []
    # An interval's instants stay on its local date, except that a start or end in a DST
    # gap moves forward; one day of margin before `lower` covers that in any zone.
    first_day = lower.astimezone(tz).date() - timedelta(days=1)
    last_day = upper.astimezone(tz).date()

    found: list[tuple[datetime, int, int]] = []
    instants: dict[tuple[datetime, int], datetime] = {}  # shared by practitioners' intervals
    for order, practitioner in enumerate(practitioners):
        busy = _BusyIndex(practitioner.busy)
        seen: set[datetime] = set()
        intervals = _working_instants(practitioner.working, first_day, last_day, tz, instants)
        for start, end in intervals:
            for slot_start in _free_starts(start, end, rules, lower, upper, busy):
                if slot_start not in seen:  # overlapping intervals can share a start
                    seen.add(slot_start)
                    found.append((slot_start, order, practitioner.practitioner_id))
    found.sort()  # by start, then by the practitioners' order

    local: dict[datetime, datetime] = {}  # practitioners share most instants

    def in_zone(instant: datetime) -> datetime:
        if instant not in local:
            local[instant] = instant.astimezone(tz)
        return local[instant]

    return [
        Slot._trusted(
            in_zone(start),
            in_zone(start + rules.duration),
            practitioner_id,
            rules.buffer_before,
            rules.buffer_after,
        )
        for start, _order, practitioner_id in found
    ]


def first_free(slots: Iterable[Slot]) -> list[Slot]:
    """For "any practitioner": one slot per distinct start, the first one given for it.

    Slots from free_slots come sorted by start and then by the practitioners' order, so
    each start goes to the first practitioner in that order who is free then.
    """
    seen: set[datetime] = set()
    chosen = []
    for slot in slots:
        instant = _utc(slot.start)
        if instant not in seen:
            seen.add(instant)
            chosen.append(slot)
    return chosen


def slots_by_day(slots: Iterable[Slot], tz: ZoneInfo = COPENHAGEN) -> list[tuple[date, list[Slot]]]:
    """The slots grouped by local date, days in date order, each day's slots as given."""
    days: dict[date, list[Slot]] = {}
    for slot in slots:
        days.setdefault(slot.start.astimezone(tz).date(), []).append(slot)
    return sorted(days.items(), key=lambda item: item[0])


def is_offered(
    slot_start: datetime, practitioner_id: int | None, slots: Iterable[Slot]
) -> Slot | None:
    """The offered slot starting at exactly that instant (with that practitioner, or any).

    Used to check that a submitted time really was one of those offered. The instant is
    compared, not the wall time, so submit `slot.start.isoformat()` (it carries the UTC
    offset and so tells the two 02:30s of an autumn night apart).
    """
    wanted = _utc(slot_start, "slot_start")
    for slot in slots:
        if _utc(slot.start) == wanted and practitioner_id in (None, slot.practitioner_id):
            return slot
    return None


def danish_public_holidays(*, years: Iterable[int]) -> list[tuple[date, str]]:
    """Danish public holidays with their Danish names, by date (from the `holidays` package)."""
    calendar = holidays.Denmark(years=list(years), language="da")
    return sorted(calendar.items())


def earliest_start(
    *,
    now: datetime,
    min_notice: timedelta,
    pause_days: int | None,
    lead_days: int,
    tz: ZoneInfo = COPENHAGEN,
) -> datetime:
    """The earliest time that may be offered: no time the blood-thinner plan cannot reach.

    Always at least now + min_notice. When the patient takes a blood thinner that must be
    paused for `pause_days` days before the appointment (None: no pause needed), the
    doctor first needs `lead_days` days to agree a plan with the patient, and only then can
    the pause begin; so nothing is offered before 00:00 local time on the day that is
    pause_days + lead_days days after today's local date. The later of the two wins.
    """
    if lead_days < 0 or (pause_days is not None and pause_days < 0):
        raise ValueError("pause_days and lead_days cannot be negative.")
    now_utc = _utc(now, "now")
    by_notice = now_utc + min_notice
    if pause_days is None:
        return by_notice.astimezone(tz)
    plan_day = now_utc.astimezone(tz).date() + timedelta(days=pause_days + lead_days)
    by_plan = _instant(datetime.combine(plan_day, time()), tz, fold=0)
    return max(by_notice, by_plan).astimezone(tz)


# --- Internals -----------------------------------------------------------------------


def _utc(moment: datetime, name: str = "datetime") -> datetime:
    if moment.tzinfo is UTC:  # as the database returns them
        return moment
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, not {moment!r}.")
    return moment.astimezone(UTC)


def _instant(wall: datetime, tz: ZoneInfo, *, fold: int) -> datetime:
    """The UTC instant of a naive local wall time; in a DST gap, the first instant after it.

    `fold` chooses between the two occurrences of an ambiguous time (0: the first).
    """
    instant = wall.replace(tzinfo=tz, fold=fold).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == wall:
        return instant
    # The wall time does not exist. The clock jumps over it somewhere between the two
    # readings with the offsets either side of the change; find that instant by halving.
    offsets = [wall.replace(tzinfo=tz, fold=f).utcoffset() for f in (0, 1)]
    before = (wall - max(offsets)).replace(tzinfo=UTC)
    after = (wall - min(offsets)).replace(tzinfo=UTC)
    while after - before > _ONE_MICROSECOND:
        middle = before + (after - before) // 2
        if middle.astimezone(tz).replace(tzinfo=None) >= wall:
            after = middle
        else:
            before = middle
    return after


def _working_instants(
    working: Iterable[WorkingInterval],
    first_day: date,
    last_day: date,
    tz: ZoneInfo,
    instants: dict[tuple[datetime, int], datetime],
) -> Iterator[tuple[datetime, datetime]]:
    """(start, end) UTC instants of every working interval on the local dates given.

    `instants` remembers each local time's instant, as practitioners often share hours.
    """

    def instant(wall: datetime, fold: int) -> datetime:
        key = (wall, fold)
        if key not in instants:
            instants[key] = _instant(wall, tz, fold=fold)
        return instants[key]

    by_weekday: dict[int, list[WorkingInterval]] = {}
    for interval in working:
        by_weekday.setdefault(interval.weekday, []).append(interval)
    day = first_day
    while day <= last_day:
        for interval in by_weekday.get(day.weekday(), ()):
            if interval.applies_on(day):
                yield (
                    instant(datetime.combine(day, interval.start), 0),
                    instant(datetime.combine(day, interval.end), 1),
                )
        day += timedelta(days=1)


class _BusyIndex:
    """A practitioner's busy ranges, merged into disjoint sorted UTC ranges for bisection."""

    def __init__(self, busy: Iterable[Busy]):
        ranges = sorted((_utc(b.start), _utc(b.end)) for b in busy if b.end != b.start)
        self.starts: list[datetime] = []
        self.ends: list[datetime] = []
        for start, end in ranges:
            # Touching ranges merge too: a non-empty claim meeting their joint overlaps one.
            if self.ends and start <= self.ends[-1]:
                self.ends[-1] = max(self.ends[-1], end)
            else:
                self.starts.append(start)
                self.ends.append(end)

    def blocked_until(self, start: datetime, end: datetime) -> datetime | None:
        """The end of the busy range that [start, end) overlaps, or None when it is free."""
        # The last range starting before `end` reaches furthest, as the ranges are disjoint.
        index = bisect_left(self.starts, end) - 1
        if index >= 0 and self.ends[index] > start:
            return self.ends[index]
        return None


def _free_starts(
    start: datetime,
    end: datetime,
    rules: SlotRules,
    lower: datetime,
    upper: datetime,
    busy: _BusyIndex,
) -> Iterator[datetime]:
    """Free starts on the grid start + k * step inside [start, end) and [lower, upper)."""

    def grid_at_or_after(moment: datetime) -> datetime:
        if moment <= start:
            return start
        return start - ((start - moment) // rules.step) * rules.step  # ceiling division

    last_start = end - rules.duration
    candidate = grid_at_or_after(lower)
    while candidate <= last_start and candidate < upper:
        claim_start = candidate - rules.buffer_before
        claim_end = candidate + rules.duration + rules.buffer_after
        blocked_until = busy.blocked_until(claim_start, claim_end)
        if blocked_until is None:
            yield candidate
            candidate += rules.step
        else:
            # Every start whose claim begins before the busy range ends is blocked by it.
            candidate = max(
                candidate + rules.step, grid_at_or_after(blocked_until + rules.buffer_before)
            )
