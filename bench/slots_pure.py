"""Benchmark of booking.slots.free_slots, the pure calculation of free appointment times.

    .venv/bin/python bench/slots_pure.py [--runs 20]

Three practitioners working Monday to Friday 08:00-12:00 and 13:00-16:00, 500 existing
claims spread over the next 8 weeks, a 30-minute appointment type with buffers on a
15-minute step: times free_slots over the 8-week horizon and prints the best and median
wall time of the runs (target: well under 50 ms), the same for CPU time, and the number
of slots found. The claims are aware UTC datetimes, as the database returns them.
No Django setup and no database are needed.
"""

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from booking.slots import (  # noqa: E402
    COPENHAGEN,
    Busy,
    PractitionerTime,
    SlotRules,
    WorkingInterval,
    free_slots,
)

NOW = datetime(2027, 3, 1, 7, 0, tzinfo=COPENHAGEN)  # a Monday; the horizon spans the DST change
RULES = SlotRules(
    duration=timedelta(minutes=30),
    buffer_before=timedelta(minutes=5),
    buffer_after=timedelta(minutes=10),
    min_notice=timedelta(hours=24),
    horizon=timedelta(weeks=8),
    step=timedelta(minutes=15),
)
WORKING = tuple(
    WorkingInterval(weekday=weekday, start=clock(start), end=clock(end))
    for weekday in range(5)
    for start, end in ((8, 12), (13, 16))
)


def practitioners(claims: int, seed: int = 2027) -> list[PractitionerTime]:
    """Three practitioners sharing `claims` claims of 20-90 minutes, starting in working hours."""
    rng = random.Random(seed)
    busy: dict[int, list[Busy]] = {1: [], 2: [], 3: []}
    for _ in range(claims):
        day = NOW.date() + timedelta(days=rng.randrange(8 * 7))
        while day.weekday() >= 5:
            day += timedelta(days=1)
        start = datetime.combine(day, clock(8), tzinfo=COPENHAGEN) + timedelta(
            minutes=5 * rng.randrange(8 * 12)
        )
        length = timedelta(minutes=rng.choice([20, 30, 45, 60, 90]))
        start = start.astimezone(UTC)  # as the database returns them
        busy[rng.choice([1, 2, 3])].append(Busy(start=start, end=start + length))
    return [
        PractitionerTime(practitioner_id=number, working=WORKING, busy=tuple(ranges))
        for number, ranges in busy.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--claims", type=int, default=500)
    args = parser.parse_args()

    people = practitioners(args.claims)
    timings, cpu_timings = [], []
    for _ in range(args.runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        slots = free_slots(practitioners=people, rules=RULES, now=NOW)
        timings.append(time.perf_counter() - started)
        cpu_timings.append(time.process_time() - cpu_started)

    print(
        f"practitioners: {len(people)}, claims: {args.claims}, horizon: {RULES.horizon.days} days"
    )
    print(f"slots: {len(slots)}")
    for label, values in (("wall", timings), ("cpu", cpu_timings)):
        best, median = min(values) * 1000, statistics.median(values) * 1000
        print(f"{label}: best {best:.2f} ms, median {median:.2f} ms")
    print(f"runs: {args.runs}; CPU time is steadier than wall time on a busy machine")


if __name__ == "__main__":
    main()
