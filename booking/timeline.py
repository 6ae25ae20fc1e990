"""The checklist over time: what the patient does and when, from today to the appointment.

The private page shows it as one dated list, so the patient never has to piece the
dates together from several sections. A pure function of the booking, its checklist
and its prefetched plan lines: no query per step, and testable without a request.
Dates of the blood-thinner pause appear only once a doctor has agreed the plan:
prepared dates are not an agreement.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from booking import checklist as checklist_module
from booking.checklist import Item
from booking.models import Booking, PlanLine

DONE = "done"
TO_DO = "to_do"
WAITING = "waiting"
LATE = "late"

STATE_LABELS = {
    DONE: gettext_lazy("Done"),
    TO_DO: gettext_lazy("To do"),
    WAITING: gettext_lazy("Waiting for the clinic"),
    LATE: gettext_lazy("Late"),
}

# Images should reach the doctor this many days before the appointment.
IMAGES_DAYS_BEFORE = 7

# The order of steps on the same day, and of steps without a date yet.
RANK = {
    "images": 10,
    "plan": 20,
    "last_dose": 30,
    "companion": 40,
    "appointment": 50,
    "restart": 60,
}

FROM_CHECKLIST = {
    checklist_module.DONE: DONE,
    checklist_module.MISSING: TO_DO,
    checklist_module.NEEDS_STAFF: WAITING,
}


@dataclass(frozen=True)
class Step:
    code: str  # a key of RANK
    title: str
    state: str  # DONE, TO_DO, WAITING or LATE
    date: dt.date | None = None
    detail: str = ""
    warning: str = ""
    starts_at: dt.datetime | None = None  # the appointment's own time
    medicines: tuple[str, ...] = field(default=())

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])


def images_due(booking: Booking) -> dt.date | None:
    """A week before the appointment; without a time, a week before the patient's period ends."""
    day = booking.appointment_day or booking.latest_date
    return day - dt.timedelta(days=IMAGES_DAYS_BEFORE) if day else None


def timeline(
    booking: Booking,
    *,
    today: dt.date | None = None,
    items: list[Item] | None = None,
    upload_count: int | None = None,
) -> list[Step]:
    """The booking's steps, ordered by date; steps without a date in a fixed order.

    `items` is the checklist as the patient sees it (with the doctor's advice); without
    it the checklist is worked out from the booking and `upload_count`.
    """
    today = today or timezone.localdate()
    if booking.status == Booking.Status.COMPLETED:
        return after_the_visit(booking, today)
    if items is None:
        items = checklist_module.checklist(booking, upload_count)
    by_code = {item.code: item for item in items}
    steps = []
    if "imaging" in by_code:
        steps.append(images_step(booking, by_code["imaging"], today))
    if "blood_thinners" in by_code:
        steps += blood_thinner_steps(booking, by_code["blood_thinners"], today)
    if "companion" in by_code:
        steps.append(companion_step(booking, by_code["companion"]))
    steps.append(appointment_step(booking))
    last_day = booking.appointment_day or dt.date.max
    return sorted(steps, key=lambda step: (step.date or last_day, RANK[step.code]))


def after_the_visit(booking: Booking, today: dt.date) -> list[Step]:
    """Once the appointment is over, only starting the medicine again is left to do."""
    restarts = [step for step in _pause_steps(booking, today) if step.code == "restart"]
    return [appointment_step(booking)] + restarts


def images_step(booking: Booking, item: Item, today: dt.date) -> Step:
    due = images_due(booking)
    state = FROM_CHECKLIST[item.state]
    if state == TO_DO and due and today > due:
        state = LATE
    title = _("Send your images by this day") if due else _("Send your images")
    return Step("images", title, state, due, item.detail, item.warning)


def blood_thinner_steps(booking: Booking, item: Item, today: dt.date) -> list[Step]:
    """Before agreement one undated step; afterwards the last-dose and restart days."""
    if booking.takes_blood_thinners == Booking.Answer.NO:
        return []
    if not booking.plan_agreed:
        title = _("A plan for your blood-thinning medicine")
        return [Step("plan", title, FROM_CHECKLIST[item.state], detail=item.detail)]
    return _pause_steps(booking, today)


def _pause_steps(booking: Booking, today: dt.date) -> list[Step]:
    """The agreed plan's last-dose and restart days (none before a doctor agreed it)."""
    if not booking.plan_agreed:
        return []
    lines = list(booking.plan_lines.all())
    paused = [line for line in lines if line.action == PlanLine.Action.PAUSE]
    last_doses = _by_day(paused, "last_dose_date") if lines else _summary(booking.last_dose_date)
    restarts = _by_day(paused, "restart_date") if lines else _summary(booking.restart_date)
    title = _("Last day to take your blood-thinning medicine")
    steps = [
        Step("last_dose", title, _passed(day, today), day, medicines=names)
        for day, names in last_doses
    ]
    title = _("Start taking your blood-thinning medicine again")
    steps += [
        Step("restart", title, _passed(day, today), day, medicines=names) for day, names in restarts
    ]
    return steps


def _by_day(lines: list[PlanLine], attribute: str) -> list[tuple[dt.date, tuple[str, ...]]]:
    """(day, medicine names) for each distinct day, so two medicines paused alike share a step."""
    days: dict[dt.date, list[str]] = {}
    for line in lines:
        day = getattr(line, attribute)
        if day:
            days.setdefault(day, []).append(line.name)
    return [(day, tuple(names)) for day, names in sorted(days.items())]


def _summary(day: dt.date | None) -> list[tuple[dt.date, tuple[str, ...]]]:
    """A plan agreed without lines per medicine: the booking's own dates."""
    return [(day, ())] if day else []


def _passed(day: dt.date, today: dt.date) -> str:
    return DONE if day < today else TO_DO


def companion_step(booking: Booking, item: Item) -> Step:
    """On the appointment day: the companion drives the patient home afterwards."""
    title = _("Someone to drive you home")
    day = booking.appointment_day
    if item.state != checklist_module.DONE:
        return Step("companion", title, TO_DO, day, item.detail)
    if booking.companion_name:
        detail = _("%(name)s will drive you home.") % {"name": booking.companion_name}
    else:
        detail = _("You have confirmed that an adult will drive you home.")
    return Step("companion", title, DONE, day, detail)


def appointment_step(booking: Booking) -> Step:
    """Waiting for the clinic until the time is confirmed; the page's top block says why."""
    states = {Booking.Status.COMPLETED: DONE, Booking.Status.CONFIRMED: TO_DO}
    state = states.get(booking.status, WAITING) if booking.starts_at else WAITING
    return Step(
        "appointment",
        _("Your appointment"),
        state,
        booking.appointment_day,
        starts_at=booking.starts_at,
    )
