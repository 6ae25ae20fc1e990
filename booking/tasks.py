"""Background work for bookings: sending a message row as soon as it is due.

A message is a row (booking.models.PlannedMessage) before it is sent: the task only
tries it once. A failed try is retried from the row by the periodic pass
(`manage.py send_messages`), never by a second task-level retry, so a mail server
that is down for hours loses nothing and nothing is sent twice.
"""

from booking import outbox
from booking.models import MessageKind


def send_booking_message(*, booking, kind: str, site_url: str = "") -> None:
    """Record a message of `kind` about `booking` and send it as soon as it may go out.

    `site_url` is the address of the patient's own request ("https://host"); without
    one (staff in the admin, the workers) the links are made when the message is sent,
    from settings.SITE_URL (booking.access.site_base_url).
    """
    if kind not in MessageKind.values:
        raise ValueError(f"Unknown kind of booking message: {kind!r}")
    ids = outbox.record_event(booking=booking, kind=kind, site_url=site_url)
    for message_id in ids:
        outbox.deliver_message.enqueue(message_id)
