"""The patient's private link to a booking: a signed, expiring token.

The token signs the booking's random `access_key` with a timestamp
(django.core.signing.TimestampSigner), so it cannot be guessed or altered and
stops working after settings.BOOKING_LINK_MAX_AGE. An expired token and a forged
one are treated alike, so a visitor learns nothing about whether a booking exists.
"""

import uuid

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import translation

from booking.models import Booking

SALT = "booking.private-link"
# '.' is not in the URL-safe base64 alphabet, so the token needs no escaping.
SEPARATOR = "."


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT, sep=SEPARATOR)


def make_token(booking: Booking) -> str:
    return _signer().sign(booking.access_key.hex)


def booking_for_token(token: str) -> Booking | None:
    """The sent booking the token opens, or None when it is forged, expired or unknown."""
    try:
        key = _signer().unsign(token, max_age=settings.BOOKING_LINK_MAX_AGE)
        access_key = uuid.UUID(hex=key)
    except (signing.BadSignature, ValueError):
        return None
    return (
        Booking.objects.sent()
        .select_related("appointment_type", "consent_text")
        .prefetch_related("studies")  # the checklist's scan age reads them
        .filter(access_key=access_key)
        .first()
    )


def private_path(booking: Booking, language: str | None = None, name: str = "private") -> str:
    """The path of the booking's private page (or of one of its actions) in `language`."""
    with translation.override(language or booking.language):
        return reverse(f"booking:{name}", kwargs={"token": make_token(booking)})


def site_base_url(request_url: str = "") -> str:
    """The base of every absolute link in e-mails, text messages and calendar files.

    A patient's own request gives its address ("https://host"); everything else (the
    admin, the task workers, the periodic message pass) uses settings.SITE_URL, so one
    setting points them all at the running site.
    """
    return (request_url or settings.SITE_URL).rstrip("/")


def private_url(booking: Booking, site_url: str = "", language: str | None = None) -> str:
    """The absolute private link, in the patient's language unless `language` says otherwise."""
    return site_base_url(site_url) + private_path(booking, language)
