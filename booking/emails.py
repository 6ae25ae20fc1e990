"""E-mails about bookings, in the patient's language, with no health details.

`build_message` builds one e-mail from the booking as it is when it is sent;
`booking.tasks.send_booking_message(booking=..., kind=...)` enqueues the sending as
a background task, so an SMTP failure is retried and never blocks the booking.

A message holds only the reference, the time once confirmed, the clinic's address
and phone, and the private link. Never the condition, the painful area, medicines,
images, or the appointment type (its name can reveal a treatment): those stay
behind the private link.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from booking.access import private_path, private_url
from booking.calendar import booking_ics

KINDS = (
    "received",
    "confirmed",
    "cancelled",
    "news",
    "new_link",
    "clinic_new_request",
    "earlier_time",
)


def _subject(kind: str, reference: str) -> str:
    subjects = {
        "received": _("We have received your appointment request (%(reference)s)"),
        "confirmed": _("Your appointment is confirmed (%(reference)s)"),
        "cancelled": _("Your appointment has been cancelled (%(reference)s)"),
        "news": _("There is news about your booking (%(reference)s)"),
        "new_link": _("Your link to your booking (%(reference)s)"),
        "clinic_new_request": _("New appointment request %(reference)s"),
        "earlier_time": _("An earlier time is free (%(reference)s)"),
    }
    return subjects[kind] % {"reference": reference}


def admin_change_url(booking_id: int) -> str:
    try:
        return reverse("admin:booking_booking_change", args=[booking_id])
    except NoReverseMatch:  # the admin is not registered (yet)
        return f"{reverse('admin:index')}booking/booking/{booking_id}/change/"


def build_message(*, booking, kind: str, site_url: str, clinic) -> EmailMultiAlternatives | None:
    """The e-mail, or None when there is nobody to send it to."""
    site_url = (site_url or settings.SITE_URL).rstrip("/")
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
        subject = _subject(kind, booking.reference)
        text = render_to_string(f"email/booking/{kind}.txt", context)
        html = render_to_string(f"email/booking/{kind}.html", context | {"subject": subject})
    message = EmailMultiAlternatives(subject, text, None, [recipient])
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
