"""Background work for bookings: sending a message row as soon as it is due.

A message is a row (booking.models.PlannedMessage) before it is sent: the task only
tries it once. A failed try is retried from the row by the periodic pass
(`manage.py send_messages`), never by a second task-level retry, so a mail server
that is down for hours loses nothing and nothing is sent twice.
"""

from django.conf import settings

from booking import outbox
from booking.models import MessageKind


def send_booking_message(*, booking, kind: str, site_url: str = "") -> None:
    """Record a message of `kind` about `booking` and send it as soon as it may go out.

    `site_url` ("https://host") makes the links absolute; without it settings.SITE_URL
    is used (e.g. when staff confirm a booking from the admin).
    """
    if kind not in MessageKind.values:
        raise ValueError(f"Unknown kind of booking message: {kind!r}")
    ids = outbox.record_event(booking=booking, kind=kind, site_url=site_url or settings.SITE_URL)
    for message_id in ids:
        outbox.deliver_message.enqueue(message_id)
