"""E-mails about bookings, in the patient's language, with no health details.

`send_booking_message(booking=..., kind=...)` enqueues the sending as a
background task; an SMTP failure is retried and never blocks the booking.
"""

KINDS = ("received", "confirmed", "cancelled", "news", "new_link", "clinic_new_request")


def send_booking_message(*, booking, kind: str) -> None:
    """Enqueue the e-mail of `kind` about `booking` (implemented with the patient's pages)."""
    raise NotImplementedError
