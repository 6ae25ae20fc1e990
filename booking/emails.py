"""E-mails about bookings, in the patient's language, with no health details.

`build_message` builds one e-mail from the booking as it is when it is sent;
`booking.tasks.send_booking_message(booking=..., kind=...)` enqueues the sending as
a background task, so an SMTP failure is retried and never blocks the booking.

A message holds only the reference, the time once confirmed, the clinic's address
and phone, and the private link. Never the condition, the painful area, medicines,
images, or the appointment type (its name can reveal a treatment): those stay
behind the private link.
"""

from datetime import date

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from booking.access import private_path, private_url, site_base_url
from booking.calendar import booking_ics
from booking.models import Booking, MessageKind
from clinic.models import sender_address

Kind = MessageKind

KINDS = (
    "received",
    "confirmed",
    "cancelled",
    "news",
    "new_link",
    "clinic_new_request",
    "earlier_time",
)


def subject(kind: str, reference: str) -> str:
    """The subject line, in the active language."""
    subjects = {
        "received": _("We have received your appointment request (%(reference)s)"),
        "confirmed": _("Your appointment is confirmed (%(reference)s)"),
        "cancelled": _("Your appointment has been cancelled (%(reference)s)"),
        "news": _("There is news about your booking (%(reference)s)"),
        "new_link": _("Your link to your booking (%(reference)s)"),
        "clinic_new_request": _("New appointment request %(reference)s"),
        "earlier_time": _("An earlier time is free (%(reference)s)"),
        "plan_ready": _("Your plan for before the treatment is ready (%(reference)s)"),
        "pause_eve": _("A date in your plan (%(reference)s)"),
        "restart": _("A date in your plan (%(reference)s)"),
        "plan_cleared": _("We will agree a new plan with you (%(reference)s)"),
        "images_missing": _("We are waiting for your images (%(reference)s)"),
        "scan_too_old": _("About the age of your images (%(reference)s)"),
        "companion_missing": _("Who will drive you home? (%(reference)s)"),
        "day_before": _("Your appointment tomorrow (%(reference)s)"),
    }
    return subjects[kind] % {"reference": reference}


def long_date(day: date) -> str:
    """ "Tuesday 12 January 2027" in the active language."""
    return f"{formats.date_format(day, 'l')} {formats.date_format(day, 'DATE_FORMAT')}"


def paragraphs(booking: Booking, kind: str, about_date: date | None, clinic) -> list[str]:
    """The body of a planned message, in the active language."""
    when = long_date(about_date) if about_date else ""
    starts_at = timezone.localtime(booking.starts_at) if booking.starts_at else None
    if kind == Kind.PLAN_READY:
        return [
            _("Your plan for the days before the treatment is ready."),
            _(
                "Please read it on your booking's page and confirm there that you have "
                "read it. It has dates you need to follow."
            ),
        ]
    if kind == Kind.PAUSE_EVE:
        return [
            _("Tomorrow, %(date)s, is a date in your plan.") % {"date": when},
            _("Please read on your booking's page what to do."),
        ]
    if kind == Kind.RESTART:
        return [
            _("Today, %(date)s, is a date in your plan.") % {"date": when},
            _("Please read on your booking's page what to do."),
        ]
    if kind == Kind.PLAN_CLEARED:
        return [
            _("Your appointment has a new time, so the plan we agreed no longer applies."),
            _(
                "We will agree a new plan with you and tell you when it is ready. Until then, "
                "change nothing. If you are unsure, please call us."
            ),
        ]
    if kind == Kind.IMAGES_MISSING:
        lines = [_("We have not yet received the images we need before your appointment.")]
        if about_date:
            lines.append(_("Please send them by %(date)s.") % {"date": when})
        lines.append(_("Your booking's page shows how to send them."))
        return lines
    if kind == Kind.SCAN_TOO_OLD:
        return [
            _(
                "The images you told us about will be more than two years old on "
                "%(date)s. The doctor may need new ones."
            )
            % {"date": when},
            _("Please read on your booking's page what to do, or call us."),
        ]
    if kind == Kind.COMPANION_MISSING:
        return [
            _(
                "Please confirm on your booking's page who will come with you and drive "
                "you home after your appointment on %(date)s."
            )
            % {"date": when}
        ]
    if kind == Kind.DAY_BEFORE:
        lines = [
            _("Your appointment is tomorrow, %(date)s, at %(time)s.")
            % {"date": when, "time": formats.time_format(starts_at, "TIME_FORMAT")}
        ]
        if clinic:
            lines.append(
                _("Address: %(address)s")
                % {"address": f"{clinic.street_address}, {clinic.postal_code} {clinic.city}"}
            )
        if booking.appointment_type.companion_required:
            lines.append(_("Remember that an adult must come with you and drive you home."))
        return lines
    raise ValueError(f"No words for {kind!r}")


def admin_change_url(booking_id: int) -> str:
    try:
        return reverse("admin:booking_booking_change", args=[booking_id])
    except NoReverseMatch:  # the admin is not registered (yet)
        return f"{reverse('admin:index')}booking/booking/{booking_id}/change/"


def build_message(
    *, booking, kind: str, site_url: str, clinic, about_date=None
) -> EmailMultiAlternatives | None:
    """The e-mail, or None when there is nobody to send it to.

    Kinds with a template of their own (KINDS) use it; the planned messages share
    one template whose paragraphs come from booking.channels.
    """
    site_url = site_base_url(site_url)
    if kind == "clinic_new_request":
        recipient = clinic.email if clinic else ""
        language = settings.LANGUAGE_CODE
    else:
        recipient = booking.email
        language = booking.language
    if not recipient:
        return None
    with translation.override(language):
        context = {
            "booking": booking,
            "reference": booking.reference,
            "clinic": clinic,
            "site_url": site_url,
            "starts_at": timezone.localtime(booking.starts_at) if booking.starts_at else None,
            "private_url": private_url(booking, site_url, language=language),
            "reschedule_url": site_url + private_path(booking, language, name="private_reschedule"),
            "admin_url": site_url + admin_change_url(booking.pk),
            "LANGUAGE_CODE": language,
        }
        title = subject(kind, booking.reference)
        template = kind
        if kind not in KINDS:
            context["paragraphs"] = paragraphs(booking, kind, about_date, clinic)
            template = "message"
        text = render_to_string(f"email/booking/{template}.txt", context)
        html = render_to_string(f"email/booking/{template}.html", context | {"subject": title})
    message = EmailMultiAlternatives(title, text, sender_address(clinic), [recipient])
    if clinic and clinic.email and kind != "clinic_new_request":
        message.reply_to = [clinic.email]
    message.attach_alternative(html, "text/html")
    # The calendar file: the confirmed time, or the same event cancelled.
    was_confirmed = kind == "confirmed" or (
        kind == "cancelled" and booking.history.filter(status="confirmed").exists()
    )
    if was_confirmed and booking.starts_at:
        message.attach(
            f"appointment-{booking.reference}.ics",
            booking_ics(booking, site_url, clinic),
            "text/calendar",
        )
    return message
