"""Background work for bookings: sending the e-mails, retried on SMTP errors."""

import logging
import smtplib

from django.conf import settings
from django_tasks import task

from booking.emails import KINDS, build_message
from booking.models import Booking
from clinic.models import ClinicDetails
from clinic.tasks import retry_later

logger = logging.getLogger(__name__)


@task()
def send_booking_email(booking_id: int, kind: str, site_url: str = "", attempt: int = 1) -> None:
    """Build the e-mail from the booking as it is now, and send it."""
    booking = Booking.objects.select_related("appointment_type").filter(pk=booking_id).first()
    if booking is None:
        return
    message = build_message(
        booking=booking, kind=kind, site_url=site_url, clinic=ClinicDetails.load()
    )
    if message is None:
        logger.warning("No address to send the %s e-mail of booking %s to", kind, booking_id)
        return
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        if not retry_later(
            send_booking_email, booking_id, kind, site_url=site_url, attempt=attempt, error=error
        ):
            raise


def send_booking_message(*, booking, kind: str, site_url: str = "") -> None:
    """Enqueue the e-mail of `kind` about `booking`.

    `site_url` ("https://host") makes the links absolute; without it settings.SITE_URL
    is used (e.g. when staff confirm a booking from the admin).
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown kind of booking e-mail: {kind!r}")
    send_booking_email.enqueue(booking.pk, kind, site_url=site_url or settings.SITE_URL)
