"""The booking app's models, one module per topic; all importable from `booking.models`."""

from booking.models.audit import BookingView, ImagingAccess
from booking.models.bookings import (
    SCAN_MAX_AGE_YEARS,
    Anticoagulant,
    AppointmentType,
    Booking,
    BookingQuerySet,
    new_reference,
)
from booking.models.imaging import ImagingReview, Instance, Report, Series, Study
from booking.models.messages import (
    REMINDER_KINDS,
    SAFETY_KINDS,
    MessageKind,
    MessagePass,
    PhoneTask,
    PlannedMessage,
)
from booking.models.plans import PlanLine
from booking.models.schedule import WEEKDAY_CHOICES, Absence, WorkingHours
from booking.models.uploads import Upload

__all__ = [
    "REMINDER_KINDS",
    "SAFETY_KINDS",
    "MessageKind",
    "MessagePass",
    "PhoneTask",
    "PlanLine",
    "PlannedMessage",
    "WEEKDAY_CHOICES",
    "Absence",
    "WorkingHours",
    "SCAN_MAX_AGE_YEARS",
    "Anticoagulant",
    "AppointmentType",
    "Booking",
    "BookingQuerySet",
    "BookingView",
    "ImagingAccess",
    "ImagingReview",
    "Instance",
    "Report",
    "Series",
    "Study",
    "Upload",
    "new_reference",
]
