"""Free appointment times (booking/slots.py): pure functions, tested without a database.

Dates used: 2027-03-22 is an ordinary Monday; Europe/Copenhagen changes to summer time
on Sunday 2027-03-28 (02:00 -> 03:00) and back on Sunday 2027-10-31 (03:00 -> 02:00).
"""

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.slots import (
    Busy,
    PractitionerTime,
    Slot,
    SlotRules,
    WorkingInterval,
    danish_public_holidays,
    earliest_start,
    first_free,
    free_slots,
    is_offered,
    slots_by_day,
)

CPH = ZoneInfo("Europe/Copenhagen")
MONDAY = date(2027, 3, 22)
SPRING_SUNDAY = date(2027, 3, 28)
AUTUMN_SUNDAY = date(2027, 10, 31)


def minutes(count: int) -> timedelta:
    return timedelta(minutes=count)


def at(day: date, hour: int, minute: int = 0, *, fold: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=CPH).replace(fold=fold)


def hhmm(slot: Slot) -> str:
    return slot.start.astimezone(CPH).strftime("%H:%M")


def open_on(weekday: int, *spans: tuple[int, int], **validity) -> tuple[WorkingInterval, ...]:
    return tuple(
        WorkingInterval(weekday=weekday, start=time(start), end=time(end), **validity)
        for start, end in spans
    )


def one_day(
    day: date,
    working: tuple[WorkingInterval, ...],
    busy: tuple[Busy, ...] = (),
    **rules,
) -> list[Slot]:
    """The slots of one practitioner on one local date, asked for at midnight before it."""
    rules = {"duration": minutes(60), "horizon": timedelta(days=1), **rules}
    return free_slots(
        practitioners=[PractitionerTime(practitioner_id=1, working=working, busy=busy)],
        rules=SlotRules(**rules),
        now=at(day, 0),
    )


WEEKDAY_HOURS = open_on(0, (8, 12), (13, 16))


# --- Working time --------------------------------------------------------------------


def test_slots_fill_each_working_interval_without_running_past_its_end():
    slots = one_day(MONDAY, WEEKDAY_HOURS)

    starts = [hhmm(slot) for slot in slots]
    assert starts[0] == "08:00"
    assert "11:00" in starts
    assert "11:15" not in starts  # would end 12:15, in the lunch break
    assert [s for s in starts if s >= "13:00"] == [
        "13:00", "13:15", "13:30", "13:45", "14:00", "14:15", "14:30", "14:45", "15:00",
    ]  # fmt: skip
    assert len(slots) == 13 + 9
    assert all(slot.end - slot.start == minutes(60) for slot in slots)


def test_working_interval_is_used_on_its_first_and_last_valid_day_only():
    working = open_on(0, (8, 12), valid_from=date(2027, 3, 8), valid_to=date(2027, 3, 22))

    slots = free_slots(
        practitioners=[PractitionerTime(practitioner_id=1, working=working)],
        rules=SlotRules(duration=minutes(60), horizon=timedelta(weeks=6)),
        now=at(date(2027, 3, 1), 0),
    )

    days = {slot.start.date() for slot in slots}
    assert days == {date(2027, 3, 8), date(2027, 3, 15), date(2027, 3, 22)}


def test_weekday_of_working_time_is_judged_by_the_local_date():
    # 00:00-01:00 on a Monday in Copenhagen is still Sunday evening in UTC.
    slots = one_day(MONDAY, open_on(0, (0, 1)), duration=minutes(30))

    assert [slot.start for slot in slots] == [at(MONDAY, 0), at(MONDAY, 0, 15), at(MONDAY, 0, 30)]


def test_overlapping_working_intervals_offer_each_start_once():
    slots = one_day(MONDAY, open_on(0, (8, 12), (10, 14)))

    starts = [slot.start for slot in slots]
    assert len(starts) == len(set(starts))
    assert hhmm(slots[0]) == "08:00"
    assert hhmm(slots[-1]) == "13:00"
    assert len(slots) == len(range(8 * 60, 13 * 60 + 1, 15))


def test_working_interval_must_end_after_it_starts():
    with pytest.raises(ValueError):
        WorkingInterval(weekday=0, start=time(12), end=time(8))


# --- Busy ranges and buffers ------------------------------------------------------------

BOOKING_10_TO_11 = (Busy(start=at(MONDAY, 10), end=at(MONDAY, 11)),)


def test_booking_blocks_overlapping_slots_while_touching_slots_stay_free():
    starts = [hhmm(slot) for slot in one_day(MONDAY, WEEKDAY_HOURS, BOOKING_10_TO_11)]

    assert "09:00" in starts  # ends exactly when the booking starts
    assert "11:00" in starts  # starts exactly when the booking ends
    for blocked in ("09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45"):
        assert blocked not in starts


def test_buffer_after_keeps_a_slot_from_ending_right_before_a_booking():
    slots = one_day(MONDAY, WEEKDAY_HOURS, BOOKING_10_TO_11, buffer_after=minutes(15))
    starts = [hhmm(slot) for slot in slots]

    assert "09:00" not in starts
    assert "08:45" in starts
    offered = is_offered(at(MONDAY, 8, 45), 1, slots)
    assert offered is not None
    assert (offered.claim_start, offered.claim_end) == (at(MONDAY, 8, 45), at(MONDAY, 10))


def test_buffer_before_keeps_a_slot_from_starting_right_after_a_booking():
    booking = (Busy(start=at(MONDAY, 9), end=at(MONDAY, 10)),)
    slots = one_day(MONDAY, WEEKDAY_HOURS, booking, buffer_before=minutes(15))
    starts = [hhmm(slot) for slot in slots]

    assert "10:00" not in starts
    assert "10:15" in starts
    assert "08:00" in starts  # ends as the booking starts; the buffer is before it
    assert slots[0].claim_start == at(MONDAY, 7, 45)


def test_buffers_may_reach_outside_working_time_but_never_into_a_closure():
    closed_before_opening = (Busy(start=at(MONDAY, 7), end=at(MONDAY, 8)),)

    open_morning = one_day(MONDAY, WEEKDAY_HOURS, buffer_before=minutes(15))
    closed_morning = one_day(
        MONDAY, WEEKDAY_HOURS, closed_before_opening, buffer_before=minutes(15)
    )

    assert hhmm(open_morning[0]) == "08:00"
    assert hhmm(closed_morning[0]) == "08:15"


def test_overlapping_busy_ranges_block_as_their_union():
    busy = (
        Busy(start=at(MONDAY, 8, 30), end=at(MONDAY, 10)),
        Busy(start=at(MONDAY, 9), end=at(MONDAY, 9, 30)),  # inside the first
        Busy(start=at(MONDAY, 10), end=at(MONDAY, 10, 30)),  # touching the first
    )
    starts = [hhmm(slot) for slot in one_day(MONDAY, WEEKDAY_HOURS, busy, duration=minutes(15))]

    assert starts[:4] == ["08:00", "08:15", "10:30", "10:45"]


def test_busy_ranges_of_one_practitioner_do_not_block_another():
    other = PractitionerTime(
        practitioner_id=2, working=WEEKDAY_HOURS, busy=(Busy(at(MONDAY, 7), at(MONDAY, 17)),)
    )
    slots = free_slots(
        practitioners=[PractitionerTime(practitioner_id=1, working=WEEKDAY_HOURS), other],
        rules=SlotRules(duration=minutes(60), horizon=timedelta(days=1)),
        now=at(MONDAY, 0),
    )

    assert {slot.practitioner_id for slot in slots} == {1}
    assert len(slots) == 22


def test_busy_range_must_be_aware():
    with pytest.raises(ValueError):
        Busy(start=datetime(2027, 3, 22, 10), end=datetime(2027, 3, 22, 11))


# --- Notice, horizon, earliest ------------------------------------------------------------


def morning_starts(now: datetime, **options) -> list[datetime]:
    rules = {"duration": minutes(60), **options.pop("rules", {})}
    slots = free_slots(
        practitioners=[PractitionerTime(practitioner_id=1, working=WEEKDAY_HOURS)],
        rules=SlotRules(**rules),
        now=now,
        **options,
    )
    return [slot.start for slot in slots]


def test_slot_exactly_at_minimum_notice_is_offered_and_a_minute_less_is_not():
    notice = {"min_notice": timedelta(hours=2)}

    assert morning_starts(at(MONDAY, 6), rules=notice)[0] == at(MONDAY, 8)
    assert morning_starts(at(MONDAY, 6, 1), rules=notice)[0] == at(MONDAY, 8, 15)


def test_slot_starting_exactly_at_the_horizon_is_not_offered():
    starts = morning_starts(at(MONDAY, 8) - timedelta(days=7), rules={"horizon": timedelta(days=7)})
    later = morning_starts(
        at(MONDAY, 8) - timedelta(days=7), rules={"horizon": timedelta(days=7, minutes=1)}
    )

    assert at(MONDAY, 8) not in starts
    assert starts[-1] == at(MONDAY - timedelta(days=7), 15)
    assert later[-1] == at(MONDAY, 8)


def test_earliest_start_is_offered_and_nothing_before_it():
    now = at(MONDAY, 0)

    assert morning_starts(now, earliest=at(MONDAY, 9))[0] == at(MONDAY, 9)
    assert morning_starts(now, earliest=at(MONDAY, 9, 1))[0] == at(MONDAY, 9, 15)


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        morning_starts(datetime(2027, 3, 22, 6))


def test_minimum_notice_counts_real_hours_across_the_spring_change():
    # 01:30 + 2 real hours on the spring Sunday is 04:30 summer time, not 03:30.
    working = open_on(6, (0, 6))
    slots = free_slots(
        practitioners=[PractitionerTime(practitioner_id=1, working=working)],
        rules=SlotRules(duration=minutes(15), min_notice=timedelta(hours=2)),
        now=at(SPRING_SUNDAY, 1, 30),
    )

    assert slots[0].start == at(SPRING_SUNDAY, 4, 30)


# --- Daylight saving time ------------------------------------------------------------------


def assert_steps_in_real_time(slots: list[Slot], step: timedelta) -> None:
    instants = [slot.start.astimezone(UTC) for slot in slots]
    assert len(set(instants)) == len(instants)
    assert all(b - a == step for a, b in zip(instants, instants[1:], strict=False))


def test_spring_change_offers_nothing_in_the_skipped_hour():
    slots = one_day(SPRING_SUNDAY, open_on(6, (1, 4)), duration=minutes(15))

    assert [hhmm(slot) for slot in slots] == [
        "01:00", "01:15", "01:30", "01:45", "03:00", "03:15", "03:30", "03:45",
    ]  # fmt: skip
    assert_steps_in_real_time(slots, minutes(15))


def test_spring_change_counts_the_interval_by_its_real_two_hours():
    slots = one_day(SPRING_SUNDAY, open_on(6, (1, 4)), duration=minutes(60))

    # Two real hours hold starts 0, 15, 30, 45 and 60 minutes in for a 60-minute visit.
    assert [hhmm(slot) for slot in slots] == ["01:00", "01:15", "01:30", "01:45", "03:00"]
    assert all(
        slot.end.astimezone(UTC) - slot.start.astimezone(UTC) == minutes(60) for slot in slots
    )
    assert slots[2].end == at(SPRING_SUNDAY, 3, 30)
    assert_steps_in_real_time(slots, minutes(15))


def test_working_time_starting_in_the_skipped_hour_starts_when_the_clock_resumes():
    working = (WorkingInterval(weekday=6, start=time(2, 30), end=time(4)),)

    slots = one_day(SPRING_SUNDAY, working, duration=minutes(15))

    assert [hhmm(slot) for slot in slots] == ["03:00", "03:15", "03:30", "03:45"]


def test_autumn_change_offers_the_repeated_hour_twice_and_nothing_double():
    slots = one_day(AUTUMN_SUNDAY, open_on(6, (1, 4)), duration=minutes(15))

    assert len(slots) == 4 * 4  # four real hours
    assert [hhmm(slot) for slot in slots[4:12]] == ["02:00", "02:15", "02:30", "02:45"] * 2
    assert slots[4].start.utcoffset() == timedelta(hours=2)
    assert slots[8].start.utcoffset() == timedelta(hours=1)
    assert_steps_in_real_time(slots, minutes(15))


def test_autumn_change_counts_the_interval_by_its_real_four_hours():
    slots = one_day(AUTUMN_SUNDAY, open_on(6, (1, 4)), duration=minutes(60))

    assert len(slots) == 13  # starts every 15 minutes through the first three real hours
    assert slots[-1].start == at(AUTUMN_SUNDAY, 3)
    assert_steps_in_real_time(slots, minutes(15))


def test_repeated_hour_means_its_first_pass_for_a_start_and_its_second_for_an_end():
    ends_in_repeat = (WorkingInterval(weekday=6, start=time(1), end=time(2, 30)),)
    starts_in_repeat = (WorkingInterval(weekday=6, start=time(2, 30), end=time(4)),)

    ending = one_day(AUTUMN_SUNDAY, ends_in_repeat, step=minutes(30))
    starting = one_day(AUTUMN_SUNDAY, starts_in_repeat, step=minutes(30))

    # 01:00 summer time to the second 02:30 is two and a half real hours.
    assert [slot.start.astimezone(UTC).strftime("%H:%M") for slot in ending] == [
        "23:00", "23:30", "00:00", "00:30",
    ]  # fmt: skip
    # The first 02:30 (summer time) to 04:00 winter time is also two and a half hours.
    assert starting[0].start == at(AUTUMN_SUNDAY, 2, 30, fold=0)
    assert starting[0].start.utcoffset() == timedelta(hours=2)
    assert len(starting) == 4


@pytest.mark.parametrize(
    ("monday", "offset"),
    [(MONDAY, 1), (date(2027, 3, 29), 2), (date(2027, 11, 1), 1)],
)
def test_mondays_around_the_changes_keep_the_usual_wall_clock_times(monday, offset):
    slots = one_day(monday, open_on(0, (8, 16)))
    usual = one_day(MONDAY, open_on(0, (8, 16)))

    assert [hhmm(slot) for slot in slots] == [hhmm(slot) for slot in usual]
    assert slots[0].start.isoformat() == f"{monday.isoformat()}T08:00:00+0{offset}:00"
    assert len(slots) == 29


def test_slot_claim_counts_real_minutes_across_the_spring_change():
    slots = one_day(
        SPRING_SUNDAY, open_on(6, (3, 4)), duration=minutes(15), buffer_before=minutes(15)
    )

    assert slots[0].start == at(SPRING_SUNDAY, 3)
    assert slots[0].claim_start == at(SPRING_SUNDAY, 1, 45)


def test_slots_at_the_two_autumn_half_past_twos_are_different_slots():
    slots = one_day(AUTUMN_SUNDAY, open_on(6, (2, 3)), duration=minutes(30), step=minutes(30))
    first, second = (slot for slot in slots if hhmm(slot) == "02:30")

    assert first != second
    assert len({first, second}) == 2


# --- Choosing among practitioners, grouping, checking a submitted time ---------------------


def two_practitioners(busy_a: tuple[Busy, ...]) -> list[Slot]:
    return free_slots(
        practitioners=[
            PractitionerTime(practitioner_id=7, working=WEEKDAY_HOURS, busy=busy_a),
            PractitionerTime(practitioner_id=3, working=WEEKDAY_HOURS),
        ],
        rules=SlotRules(duration=minutes(60), horizon=timedelta(days=1)),
        now=at(MONDAY, 0),
    )


def test_any_practitioner_gets_the_first_free_one_in_the_given_order():
    slots = two_practitioners((Busy(start=at(MONDAY, 8), end=at(MONDAY, 9)),))

    chosen = {slot.start: slot.practitioner_id for slot in first_free(slots)}

    assert chosen[at(MONDAY, 8)] == 3  # the first is busy
    assert chosen[at(MONDAY, 9)] == 7  # both free: the first wins
    assert len(chosen) == len(first_free(slots)) == 22


def test_free_slots_list_practitioners_in_the_given_order_at_each_start():
    slots = two_practitioners(())

    assert [slot.practitioner_id for slot in slots[:4]] == [7, 3, 7, 3]


def test_slots_are_grouped_by_local_date_in_order():
    working = open_on(0, (0, 2)) + open_on(1, (0, 2))  # Monday and Tuesday after midnight
    slots = free_slots(
        practitioners=[PractitionerTime(practitioner_id=1, working=working)],
        rules=SlotRules(duration=minutes(60), step=minutes(30)),
        now=at(MONDAY, 0),
    )

    days = slots_by_day(slots)

    assert [day for day, _ in days[:2]] == [MONDAY, MONDAY + timedelta(days=1)]
    assert [hhmm(slot) for slot in days[0][1]] == ["00:00", "00:30", "01:00"]
    assert sum(len(day_slots) for _, day_slots in days) == len(slots)


def test_submitted_time_is_found_by_its_instant_and_practitioner():
    slots = two_practitioners((Busy(start=at(MONDAY, 8), end=at(MONDAY, 9)),))
    in_utc = at(MONDAY, 9).astimezone(UTC)

    assert is_offered(in_utc, 7, slots).practitioner_id == 7
    assert is_offered(at(MONDAY, 8), None, slots).practitioner_id == 3
    assert is_offered(at(MONDAY, 8), 7, slots) is None  # that practitioner is busy
    assert is_offered(at(MONDAY, 9, 5), None, slots) is None  # not on the offered grid


def test_submitted_autumn_time_is_told_apart_by_its_offset():
    working = open_on(6, (2, 3))
    slots = free_slots(
        practitioners=[PractitionerTime(practitioner_id=1, working=working)],
        rules=SlotRules(duration=minutes(30), step=minutes(30), horizon=timedelta(days=1)),
        now=at(AUTUMN_SUNDAY, 0),
    )
    second = datetime.fromisoformat(f"{AUTUMN_SUNDAY}T02:30:00+01:00")

    found = is_offered(second, 1, slots)

    assert found is not None
    assert found.start.utcoffset() == timedelta(hours=1)
    assert found is slots[-1]


# --- Earliest start for a blood-thinner pause, public holidays ---------------------------


def test_earliest_start_without_a_pause_is_the_minimum_notice():
    now = at(MONDAY, 14, 10)

    result = earliest_start(now=now, min_notice=timedelta(hours=24), pause_days=None, lead_days=2)

    assert result == at(MONDAY + timedelta(days=1), 14, 10)


def test_earliest_start_with_a_pause_is_local_midnight_after_lead_and_pause_days():
    now = at(MONDAY, 23, 30)

    result = earliest_start(now=now, min_notice=timedelta(hours=24), pause_days=5, lead_days=2)

    assert result == at(date(2027, 3, 29), 0)
    assert result.isoformat() == "2027-03-29T00:00:00+02:00"  # summer time by then


def test_earliest_start_is_the_notice_when_it_reaches_further_than_the_pause():
    now = at(date(2027, 3, 8), 10)

    result = earliest_start(now=now, min_notice=timedelta(days=8), pause_days=5, lead_days=2)

    assert result == at(date(2027, 3, 16), 10)


def test_earliest_start_counts_the_notice_in_real_hours_across_the_spring_change():
    now = at(MONDAY, 10)

    result = earliest_start(now=now, min_notice=timedelta(days=8), pause_days=None, lead_days=2)

    assert result == at(date(2027, 3, 30), 11)  # 8 x 24 real hours, one of them skipped


def test_earliest_start_uses_the_local_date_of_a_utc_now():
    # 23:30 UTC on Sunday is already Monday 00:30 in Copenhagen.
    now = datetime(2027, 3, 21, 23, 30, tzinfo=UTC)

    result = earliest_start(now=now, min_notice=timedelta(0), pause_days=1, lead_days=0)

    assert result == at(date(2027, 3, 23), 0)


def test_danish_public_holidays_include_good_friday_and_christmas_but_not_christmas_eve():
    holidays = dict(danish_public_holidays(years=[2027]))

    assert holidays[date(2027, 3, 26)] == "Langfredag"
    assert date(2027, 12, 25) in holidays
    assert date(2027, 12, 24) not in holidays
    assert list(holidays) == sorted(holidays)


# --- Properties ----------------------------------------------------------------------------

PROPERTIES = settings(max_examples=200, deadline=None, derandomize=True, database=None)
ANCHORS = [
    date(2026, 3, 29),
    date(2026, 10, 25),
    date(2027, 3, 28),
    date(2027, 10, 31),
    date(2027, 6, 13),  # an ordinary Sunday
]
WALL_TIMES = st.one_of(
    st.sampled_from([time(0), time(1), time(2), time(2, 30), time(3), time(4), time(8)]),
    st.integers(0, 24 * 12 - 1).map(lambda n: time(n // 12, n % 12 * 5)),
)


# Drawn as plain tuples and built afterwards: far fewer nested draws, so much faster.
INTERVAL_PARTS = st.tuples(
    st.just(6) | st.integers(0, 6),  # Sundays are when the clocks change
    st.lists(WALL_TIMES, min_size=2, max_size=2, unique=True),
    st.integers(-10, 3) | st.none() | st.none(),  # mostly unbounded, so there is time to offer
    st.integers(-3, 12) | st.none() | st.none(),
)
BUSY_PARTS = st.tuples(
    st.integers(-2 * 24 * 60, 12 * 24 * 60),
    st.integers(0, 240) | st.integers(0, 2 * 24 * 60),
    st.sampled_from([UTC, CPH]),
)


def working_interval(parts, anchor: date) -> WorkingInterval:
    weekday, walls, first_day, last_day = parts
    valid_from, valid_to = (
        None if days is None else anchor + timedelta(days=days) for days in (first_day, last_day)
    )
    if valid_from and valid_to and valid_to < valid_from:
        valid_from, valid_to = valid_to, valid_from
    start, end = sorted(walls)
    return WorkingInterval(
        weekday=weekday, start=start, end=end, valid_from=valid_from, valid_to=valid_to
    )


def busy_range(parts, origin: datetime) -> Busy:
    offset, length, zone = parts
    start = origin + minutes(offset)
    return Busy(start=start.astimezone(zone), end=(start + minutes(length)).astimezone(zone))


@st.composite
def scenarios(draw):
    anchor = draw(st.sampled_from(ANCHORS))
    origin = datetime.combine(anchor, time(), tzinfo=UTC)  # near the change, in UTC
    now = origin + minutes(draw(st.integers(-3 * 24 * 60, 6 * 60)))
    now = now.astimezone(draw(st.sampled_from([UTC, CPH])))
    practitioners = [
        PractitionerTime(
            practitioner_id=number,
            working=[
                working_interval(parts, anchor)
                for parts in draw(st.lists(INTERVAL_PARTS, min_size=1, max_size=3))
            ],
            busy=[busy_range(parts, origin) for parts in draw(st.lists(BUSY_PARTS, max_size=6))],
        )
        for number in range(1, draw(st.integers(1, 3)) + 1)
    ]
    rules = SlotRules(
        duration=minutes(draw(st.integers(5, 120))),
        buffer_before=minutes(draw(st.sampled_from([0, 5, 15, 30]))),
        buffer_after=minutes(draw(st.sampled_from([0, 10, 15, 45]))),
        min_notice=minutes(draw(st.just(0) | st.integers(0, 2 * 24 * 60))),
        horizon=minutes(draw(st.integers(24 * 60, 10 * 24 * 60))),
        step=minutes(draw(st.sampled_from([5, 10, 15, 20, 30, 45, 60]))),
    )
    later = st.integers(0, 3 * 24 * 60).map(lambda m: now + minutes(m))
    earliest = draw(st.none() | later)
    return practitioners, rules, now, earliest


@cache
def wall_to_instant(day: date, wall: time, *, first: bool) -> datetime:
    """The instant of a local wall time, found by reading the clock minute by minute.

    Copenhagen is one or two hours ahead of UTC, so the instant lies in the three hours
    before the wall time read as UTC. No match: the gap, so the first minute after it.
    """
    naive = datetime.combine(day, wall)
    readings = [naive.replace(tzinfo=UTC) - minutes(n) for n in range(180, -1, -1)]
    matches = [r for r in readings if r.astimezone(CPH).replace(tzinfo=None) == naive]
    if matches:
        return matches[0] if first else matches[-1]
    return next(r for r in readings if r.astimezone(CPH).replace(tzinfo=None) > naive)


def applies(interval: WorkingInterval, day: date) -> bool:
    return (
        interval.weekday == day.weekday()
        and (interval.valid_from is None or interval.valid_from <= day)
        and (interval.valid_to is None or day <= interval.valid_to)
    )


def interval_instants(interval: WorkingInterval, day: date) -> tuple[datetime, datetime]:
    return (
        wall_to_instant(day, interval.start, first=True),
        wall_to_instant(day, interval.end, first=False),
    )


def overlaps(start: datetime, end: datetime, busy: Busy) -> bool:
    busy_start, busy_end = busy.start.astimezone(UTC), busy.end.astimezone(UTC)
    return busy_start < busy_end and start < busy_end and busy_start < end  # empty: nothing


def reference_slots(practitioners, rules, now, earliest) -> set[tuple[datetime, datetime, int]]:
    """Every offered slot by brute force: each step of each interval, each condition checked."""
    lower = now.astimezone(UTC) + rules.min_notice
    if earliest is not None:
        lower = max(lower, earliest.astimezone(UTC))
    upper = now.astimezone(UTC) + rules.horizon
    expected = set()
    for practitioner in practitioners:
        day = lower.astimezone(CPH).date() - timedelta(days=2)
        while day <= upper.astimezone(CPH).date() + timedelta(days=1):
            for interval in practitioner.working:
                if not applies(interval, day):
                    continue
                start, end = interval_instants(interval, day)
                candidate = start
                while candidate + rules.duration <= end:
                    claim = (
                        candidate - rules.buffer_before,
                        candidate + rules.duration + rules.buffer_after,
                    )
                    if lower <= candidate < upper and not any(
                        overlaps(*claim, busy) for busy in practitioner.busy
                    ):
                        expected.add(
                            (candidate, candidate + rules.duration, practitioner.practitioner_id)
                        )
                    candidate += rules.step
            day += timedelta(days=1)
    return expected


def as_instants(slots: list[Slot]) -> list[tuple[datetime, datetime, int]]:
    return [(s.start.astimezone(UTC), s.end.astimezone(UTC), s.practitioner_id) for s in slots]


@PROPERTIES
@given(scenarios())
def test_every_offered_slot_keeps_every_rule(scenario):
    practitioners, rules, now, earliest = scenario
    slots = free_slots(practitioners=practitioners, rules=rules, now=now, earliest=earliest)
    by_id = {p.practitioner_id: p for p in practitioners}
    order = {p.practitioner_id: index for index, p in enumerate(practitioners)}
    now_utc = now.astimezone(UTC)

    for slot in slots:
        start, end = slot.start.astimezone(UTC), slot.end.astimezone(UTC)
        practitioner = by_id[slot.practitioner_id]
        # (a) notice, earliest and horizon
        assert now_utc + rules.min_notice <= start < now_utc + rules.horizon
        assert earliest is None or start >= earliest
        # (b) inside one working interval valid on the slot's local date
        day = slot.start.astimezone(CPH).date()
        assert any(
            interval_instants(interval, day)[0] <= start
            and end <= interval_instants(interval, day)[1]
            for interval in practitioner.working
            if applies(interval, day)
        )
        assert end - start == rules.duration
        # (c) the claim, buffers included, overlaps nothing busy
        claim = (start - rules.buffer_before, end + rules.buffer_after)
        assert (slot.claim_start.astimezone(UTC), slot.claim_end.astimezone(UTC)) == claim
        assert not any(overlaps(*claim, busy) for busy in practitioner.busy)
        # (f) a real local time, in the clinic's zone
        assert slot.start.tzinfo == CPH
        round_trip = start.astimezone(CPH)
        assert (round_trip.replace(tzinfo=None), round_trip.fold) == (
            slot.start.replace(tzinfo=None),
            slot.start.fold,
        )
    keys = [(slot.start.astimezone(UTC), order[slot.practitioner_id]) for slot in slots]
    assert len(set(keys)) == len(keys)  # (d) no start offered twice for one practitioner
    assert keys == sorted(keys)  # (e) by start, then by the practitioners' order


@PROPERTIES
@given(scenarios())
def test_free_slots_offer_exactly_what_a_brute_force_search_finds(scenario):
    practitioners, rules, now, earliest = scenario

    slots = free_slots(practitioners=practitioners, rules=rules, now=now, earliest=earliest)

    instants = as_instants(slots)
    assert len(instants) == len(set(instants))
    assert set(instants) == reference_slots(practitioners, rules, now, earliest)


@PROPERTIES
@given(scenarios())
def test_any_practitioner_choice_takes_the_first_free_practitioner_at_each_start(scenario):
    practitioners, rules, now, earliest = scenario
    slots = free_slots(practitioners=practitioners, rules=rules, now=now, earliest=earliest)
    order = {p.practitioner_id: index for index, p in enumerate(practitioners)}

    chosen = first_free(slots)

    free_at: dict[datetime, list[int]] = {}
    for slot in slots:
        free_at.setdefault(slot.start.astimezone(UTC), []).append(order[slot.practitioner_id])
    assert [s.start.astimezone(UTC) for s in chosen] == sorted(free_at)
    assert all(order[s.practitioner_id] == min(free_at[s.start.astimezone(UTC)]) for s in chosen)
