"""What needs a person today: the staff work list, by role.

Reception (who take bookings on the phone) confirm tentative times, make the phone
calls a message could not replace, send failed safety messages again and chase
plans the patient has not read. Doctors agree prepared plans, and make phone calls
too. The admin page (booking/admin.py, `worklist_view`) only shows these lists.
"""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from booking.models import SAFETY_KINDS, Booking, PhoneTask, PlannedMessage
from booking.services import AGREE_PERMISSION, OPEN

# Reception add bookings for patients who phone; doctors do not.
RECEPTION_PERMISSION = "booking.add_booking"

TO_CONFIRM = "to_confirm"
PHONE_TASKS = "phone_tasks"
FAILED_MESSAGES = "failed_messages"
UNREAD_PLANS = "unread_plans"
PLANS_TO_AGREE = "plans_to_agree"

RECEPTION_SECTIONS = [TO_CONFIRM, PHONE_TASKS, FAILED_MESSAGES, UNREAD_PLANS]
DOCTOR_SECTIONS = [PLANS_TO_AGREE, PHONE_TASKS]


@dataclass
class Section:
    key: str
    title: str
    items: list = field(default_factory=list)


def tentative_to_confirm() -> QuerySet:
    return (
        Booking.objects.tentative().select_related("appointment_type", "practitioner")
    ).order_by("starts_at", "pk")


def open_phone_tasks() -> QuerySet:
    return PhoneTask.objects.filter(done_at__isnull=True).select_related("booking", "message")


def failed_safety_messages() -> QuerySet:
    """Plan messages that failed or may not have gone out: the patient may not know."""
    return (
        PlannedMessage.objects.filter(
            kind__in=SAFETY_KINDS,
            status__in=[PlannedMessage.Status.FAILED, PlannedMessage.Status.UNKNOWN],
        )
        .select_related("booking")
        .order_by("due_at", "pk")
    )


def unread_plans() -> QuerySet:
    """Agreed plans the patient has not confirmed reading, the nearest last dose first."""
    return Booking.objects.filter(
        status__in=OPEN, plan_agreed_at__isnull=False, plan_read_at__isnull=True
    ).order_by("last_dose_date", "starts_at", "pk")


def plans_to_agree() -> QuerySet:
    """Plans reception prepared that no doctor has agreed yet."""
    return (
        Booking.objects.filter(
            status__in=OPEN, plan_prepared_by__isnull=False, plan_agreed_at__isnull=True
        )
        .select_related("plan_prepared_by")
        .order_by("starts_at", "pk")
    )


SECTIONS = {
    TO_CONFIRM: (_("Times to confirm"), tentative_to_confirm),
    PHONE_TASKS: (_("Phone calls to make"), open_phone_tasks),
    FAILED_MESSAGES: (
        _("Safety messages that failed or may not have been sent"),
        failed_safety_messages,
    ),
    UNREAD_PLANS: (_("Agreed plans the patient has not read"), unread_plans),
    PLANS_TO_AGREE: (_("Plans to agree"), plans_to_agree),
}


def sections_for(user) -> list[str]:
    """The sections this user's role sees, in order; PermissionDenied for neither role."""
    keys: list[str] = []
    if user.has_perm(RECEPTION_PERMISSION):
        keys += RECEPTION_SECTIONS
    if user.has_perm(AGREE_PERMISSION):
        keys = [PLANS_TO_AGREE, *keys] if keys else list(DOCTOR_SECTIONS)
    if not keys:
        raise PermissionDenied
    return keys


def worklist(user) -> list[Section]:
    return [
        Section(key=key, title=SECTIONS[key][0], items=list(SECTIONS[key][1]()))
        for key in sections_for(user)
    ]
