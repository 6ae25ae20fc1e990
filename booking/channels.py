"""Turning a message row into words and handing it to its channel (e-mail or SMS).

The words follow the rules of booking/emails.py: the patient's language, absolute
dates ("tirsdag 12. januar 2027", never "tomorrow" alone), the private link signed
when the message is sent, and no condition, medicine, treatment, body part or image
names. A text message carries one short line and the link.
"""

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from booking import emails, sms
from booking.access import private_url
from booking.models import MessageKind, PlannedMessage
from clinic.models import ClinicDetails

Kind = MessageKind


class Undeliverable(Exception):
    """Nothing to send to (no address, a number that cannot take a text): no retry helps."""


def sms_text(message: PlannedMessage, clinic) -> str:
    """One short text: who writes, what it is about, and the private link."""
    booking = message.booking
    language = booking.language
    with translation.override(language):
        if message.kind in emails.KINDS:
            line = emails.subject(message.kind, booking.reference)
            if message.kind == Kind.CONFIRMED and booking.starts_at:
                starts_at = timezone.localtime(booking.starts_at)
                line += ": " + _("%(date)s at %(time)s") % {
                    "date": emails.long_date(starts_at.date()),
                    "time": formats.time_format(starts_at, "TIME_FORMAT"),
                }
        else:
            line = emails.paragraphs(booking, message.kind, message.about_date, clinic)[0]
        link = private_url(booking, message.site_url, language=language)
        sender = clinic.name if clinic else ""
    return f"{sender}: {line} {link}" if sender else f"{line} {link}"


def send(message: PlannedMessage) -> None:
    """Hand the message to its channel; raises on failure (see booking.outbox)."""
    clinic = ClinicDetails.load()
    booking = message.booking
    if message.channel == PlannedMessage.Channel.SMS:
        to = sms.normalise_phone(booking.phone)
        if not to:
            raise Undeliverable("The phone number cannot receive text messages.")
        sms.send_sms(to=to, text=sms_text(message, clinic))
        return
    email = emails.build_message(
        booking=booking,
        kind=message.kind,
        site_url=message.site_url,
        clinic=clinic,
        about_date=message.about_date,
    )
    if email is None:
        raise Undeliverable("No e-mail address.")
    email.send()
