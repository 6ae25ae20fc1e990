"""A confirmed appointment as an iCalendar (.ics) file, made with the `icalendar` library.

It holds the time, the clinic's address and a link back to the private page; no
health details and not the appointment type (a type's name can reveal a treatment).
Every version of one booking has the same UID and a higher SEQUENCE (raised at each
change of time), so a calendar moves the event instead of adding a second one; a
cancelled booking's file says METHOD:CANCEL.
"""

from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from booking.access import private_url, site_base_url
from booking.models import Booking
from clinic.models import ClinicDetails


def clinic_address(clinic: ClinicDetails | None) -> str:
    if clinic is None:
        return ""
    parts = [clinic.name, clinic.street_address, f"{clinic.postal_code} {clinic.city}".strip()]
    if clinic.country:
        parts.append(clinic.country)
    return ", ".join(part for part in parts if part)


def event_uid(booking: Booking) -> str:
    """The same for every file of one booking, whether e-mailed or downloaded from any host.

    It names the site by SITE_URL, never by the address a download was made from, so a
    patient who imports both files gets one event.
    """
    return f"booking-{booking.reference}@{urlsplit(site_base_url()).hostname or 'clinic'}"


def booking_ics(booking: Booking, site_url: str = "", clinic: ClinicDetails | None = None) -> bytes:
    """The .ics file of a confirmed booking, with texts in the patient's language."""
    if booking.starts_at is None:
        raise ValueError("Only a booking with a time can be put in a calendar.")
    clinic = clinic or ClinicDetails.load()
    zone = ZoneInfo(settings.TIME_ZONE)
    link = private_url(booking, site_url)
    with translation.override(booking.language):
        clinic_name = clinic.name if clinic else _("the clinic")
        summary = _("Appointment at %(clinic)s") % {"clinic": clinic_name}
        lines = [
            _("Reference: %(reference)s") % {"reference": booking.reference},
            _("See your booking and what to do before it:") + " " + link,
        ]
        if clinic and clinic.phone:
            lines.append(_("Phone: %(phone)s") % {"phone": clinic.phone_display})
        description = "\n".join(lines)
    calendar = Calendar()
    calendar.add("prodid", "-//Clinic website//Booking//EN")
    calendar.add("version", "2.0")
    cancelled = booking.status == Booking.Status.CANCELLED
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", event_uid(booking))
    event.add("dtstamp", timezone.now())
    event.add("sequence", booking.time_sequence)
    if cancelled:
        event.add("status", "CANCELLED")
    event.add("dtstart", booking.starts_at.astimezone(zone))
    ends_at: datetime = booking.ends_at or booking.starts_at + booking.appointment_type.duration
    event.add("dtend", ends_at.astimezone(zone))
    event.add("summary", summary)
    event.add("description", description)
    event.add("location", clinic_address(clinic))
    event.add("url", link)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
