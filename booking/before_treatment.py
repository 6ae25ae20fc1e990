"""The steps before treatment that the condition and treatment pages show.

Generated from an appointment type's checklist settings (`imaging`,
`asks_about_blood_thinners`, `companion_required`) and the scan age the checklist
judges by (booking/checklist.py), so the public pages never promise or ask more or
less than the booking flow and the private page will.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from booking import checklist
from booking.models import AppointmentType
from clinic import snapshots


@dataclass(frozen=True)
class Link:
    text: str
    url: str


@dataclass(frozen=True)
class Step:
    code: str  # "book", "scan", "radiology", "send_images", "blood_thinners", "companion"
    text: str
    links: tuple[Link, ...] = ()


def steps_heading(steps: list[Step]) -> str:
    return ngettext(
        "Before your treatment: %(count)s step",
        "Before your treatment: %(count)s steps",
        len(steps),
    ) % {"count": len(steps)}


def _weight(kind: AppointmentType) -> tuple[int, int, int, int]:
    """How much a type asks before treatment: required images count above optional ones."""
    imaging = {
        AppointmentType.Imaging.REQUIRED: 2,
        AppointmentType.Imaging.OPTIONAL: 1,
    }.get(kind.imaging, 0)
    return (
        (imaging > 0) + kind.asks_about_blood_thinners + kind.companion_required,
        imaging,
        kind.asks_about_blood_thinners,
        kind.companion_required,
    )


def treatment_appointment_type(
    online: list[AppointmentType] | None = None,
) -> AppointmentType | None:
    """The appointment type whose preparation the public pages describe (one query).

    A treatment has no link to an appointment type, so the pages describe the treatment
    patients can book online that asks the most before it: of the types that can be
    requested online (`online`, read now if not given), the one with the most checklist
    items (required images above optional ones), the first in the admin's order on a tie.
    In the demo clinic that is gold implantation. None when no such type asks for anything.
    """
    if online is None:
        online = online_types()
    kinds = [kind for kind in online if kind.has_checklist]
    if not kinds:
        return None
    # max() keeps the first of equals, and the list is in the admin's order.
    return max(kinds, key=_weight)


@snapshots.register("online-types", build_all=lambda: {"online-types": online_types()})
def online_types(_key: str = "") -> list[AppointmentType]:
    """The appointment types patients can request online, in the admin's order."""
    return list(AppointmentType.objects.filter(requestable_online=True))


def published_online_types() -> list[AppointmentType]:
    """`online_types()` as the public pages read them: from their snapshot."""
    return snapshots.read("online-types")


def published_appointment_type() -> AppointmentType | None:
    """`treatment_appointment_type()` as the public pages read it: from the snapshot."""
    return treatment_appointment_type(published_online_types())


def steps_before_treatment(
    kind: AppointmentType | None,
    *,
    booking_url: str,
    phone_uri: str = "",
    phone_display: str = "",
) -> list[Step]:
    """The steps in the order a patient takes them; empty when the type asks for nothing."""
    if kind is None or not kind.has_checklist:
        return []
    book_links = [Link(_("Book an appointment"), booking_url)]
    if phone_uri:
        book_links.append(Link(_("Call %(phone)s") % {"phone": phone_display}, phone_uri))
    steps = [
        Step(
            "book",
            _("Book a time. You can book online or call us."),
            tuple(book_links),
        )
    ]
    if kind.imaging != AppointmentType.Imaging.NOT_NEEDED:
        years = checklist.SCAN_MAX_AGE_YEARS
        age = ngettext(
            "A scan up to %(years)s year old can usually be used.",
            "A scan up to %(years)s years old can usually be used.",
            years,
        ) % {"years": years}
        if kind.imaging == AppointmentType.Imaging.REQUIRED:
            need = _("The doctor must see an X-ray or a scan of the painful area.")
        else:
            need = _(
                "If you have an X-ray or a scan of the painful area, the doctor would like "
                "to see it."
            )
        steps += [
            Step("scan", f"{need} {age}"),
            Step(
                "radiology",
                _(
                    "Ask the X-ray department (radiology) that made the scan to send the "
                    "images to us, or to give you a copy."
                ),
            ),
            Step(
                "send_images",
                _(
                    "Send us the images well before your appointment. You can upload them "
                    "online when you book, or later from the link we send you."
                ),
                (Link(_("Book and upload your images"), booking_url),),
            ),
        ]
    if kind.asks_about_blood_thinners:
        pause = _(
            "Do you take blood-thinning medicine? You may need a pause of a few days "
            "before the treatment, as agreed with us."
        )
        # The booking form's own warning, word for word.
        do_not_stop = _("Do not stop any medicine until we have agreed a plan with you.")
        steps.append(Step("blood_thinners", f"{pause} {do_not_stop}"))
    if kind.companion_required:
        steps.append(
            Step(
                "companion",
                _(
                    "Bring an adult who can drive you home after the treatment. "
                    "Do not drive yourself."
                ),
            )
        )
    return steps
