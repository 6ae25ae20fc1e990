"""The patient's side of a booking: the draft, sending the request, and later changes.

Keyword-only services called by booking/views.py. A draft Booking is made at the
first step and filled in step by step, so nothing is lost when the patient goes
back, makes a mistake or leaves for a while. Sending is idempotent: a double
click on "send" makes one request, not two.
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from booking import outbox, scheduling
from booking.models import Anticoagulant, AppointmentType, Booking
from booking.services import cancel_booking
from booking.tasks import send_booking_message
from clinic import ratelimit
from clinic.models import ConsentText
from conditions.models import Condition

DRAFT_FIELDS = {
    "condition",
    "painful_area",
    "earliest_date",
    "latest_date",
    "weekdays",
    "time_of_day",
    "time_wishes",
    "name",
    "email",
    "phone",
    "contact_channel",
    "birth_date",
    "language",
    "message",
    "imaging_status",
    "scan_date",
    "scan_body_area",
    "scan_modality",
    "takes_blood_thinners",
    "other_medicine",
    "companion_confirmed",
    "companion_name",
    "companion_phone",
}


def start_draft(
    *,
    appointment_type: AppointmentType,
    language: str,
    condition: Condition | None = None,
    painful_area: str = "",
) -> Booking:
    """A new draft booking; the view keeps its pk in the session."""
    return Booking.objects.create(
        status=Booking.Status.DRAFT,
        appointment_type=appointment_type,
        condition=condition,
        painful_area=painful_area,
        language=language,
    )


def update_draft(
    *,
    booking: Booking,
    appointment_type: AppointmentType | None = None,
    anticoagulants: list[Anticoagulant] | None = None,
    **fields,
) -> Booking:
    """Store one step's answers on the draft. Unknown field names are a programming error.

    Only the named fields are written: what the imaging worker fills in meanwhile (the
    scan's date and kind, from an uploaded study) is not overwritten by a stale copy.
    """
    if booking.status != Booking.Status.DRAFT:
        raise ValueError("Only a draft can be changed through the request flow.")
    unknown = set(fields) - DRAFT_FIELDS
    if unknown:
        raise TypeError(f"Not fields of the request flow: {sorted(unknown)}")
    if appointment_type is not None:
        stored = Booking.objects.filter(pk=booking.pk).values_list("appointment_type", flat=True)
        if booking.claim_starts_at and appointment_type.pk != stored.first():
            # A time held for another type (another duration) is given back. (A bound
            # form has already put the new type on `booking`: compare with the row.)
            scheduling.release_time(booking=booking)
        booking.appointment_type = appointment_type
    for name, value in fields.items():
        setattr(booking, name, value)
    changed = [*fields, "updated_at"] + (["appointment_type"] if appointment_type else [])
    booking.save(update_fields=changed)
    if anticoagulants is not None:
        booking.anticoagulants.set(anticoagulants)
    return booking


def pick_time(*, booking: Booking, value: str, now=None) -> Booking:
    """Hold the time the patient picked in the "When" step, so nobody else takes it.

    `value` is what the form sent; it must be one of the times offered right now to
    this patient (not tampered, not past, inside working hours, for this type).
    Raises TimeNotOffered or TimeTaken (both ValidationError, with the patient's
    message); the answers on the draft stay as they were.
    """
    now = now or timezone.now()
    slot = scheduling.offered_slot(booking=booking, value=value, now=now)
    return scheduling.claim_time(
        booking=booking,
        practitioner=slot.practitioner,
        starts_at=slot.start,
        as_=scheduling.HOLD,
        now=now,
    )


def _take_picked_time(booking: Booking) -> None:
    """On sending: the held time becomes tentative or confirmed, as the type says.

    A hold that expired while the patient typed is taken again if the time is
    still free; otherwise TimeTaken.
    """
    kind = booking.appointment_type
    as_ = (
        scheduling.CONFIRMED
        if kind.booking_mode == kind.BookingMode.PICK_CONFIRMED
        else scheduling.TENTATIVE
    )
    scheduling.claim_time(
        booking=booking,
        practitioner=booking.practitioner,
        starts_at=booking.starts_at,
        as_=as_,
        notify=False,
    )


def submit_request(
    *, booking: Booking, consent_text: ConsentText, site_url: str = ""
) -> tuple[Booking, bool]:
    """Send the draft to the clinic: record consent, mark it requested, send the e-mails.

    Returns (booking, sent_now). A booking that was already sent (a second click,
    a reloaded page) is returned unchanged with sent_now False, and no e-mail goes out.
    The row is locked while it is checked, so two simultaneous clicks send once.
    A picked time becomes tentative or confirmed here (TimeTaken when it has gone).
    """
    try:
        locked = _submit(booking, consent_text)
    except scheduling.TimeTaken:
        # The picked time has gone: give it up, so the patient picks another one.
        # Every other answer stays on the draft.
        scheduling.release_time(booking=Booking.objects.get(pk=booking.pk))
        raise
    if locked is None:
        return Booking.objects.get(pk=booking.pk), False
    first = "confirmed" if locked.status == Booking.Status.CONFIRMED else "received"
    send_booking_message(booking=locked, kind=first, site_url=site_url)
    send_booking_message(booking=locked, kind="clinic_new_request", site_url=site_url)
    outbox.replan(locked)
    return locked, True


def _submit(booking: Booking, consent_text: ConsentText) -> Booking | None:
    """The locked part of submit_request; None when the booking was already sent."""
    with transaction.atomic():
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        if locked.status != Booking.Status.DRAFT:
            return None
        picked = locked.appointment_type.patient_picks_time and locked.starts_at is not None
        if picked:
            _take_picked_time(locked)  # raises TimeTaken, and nothing is sent
            locked.refresh_from_db()
        now = timezone.now()
        if not picked:
            locked.status = Booking.Status.REQUESTED
        locked.consent_text = consent_text
        locked.consent_given_at = now
        locked.submitted_at = now
        locked.save()
    return locked


def confirm_companion(*, booking: Booking, name: str = "", phone: str = "") -> Booking:
    """The patient confirms an adult will come along and drive them home."""
    booking.companion_confirmed = True
    booking.companion_name = name
    booking.companion_phone = phone
    booking.save(
        update_fields=["companion_confirmed", "companion_name", "companion_phone", "updated_at"]
    )
    outbox.replan(booking)  # no more "who drives you home?" reminder
    return booking


CANCELLABLE = (Booking.Status.REQUESTED, Booking.Status.TENTATIVE, Booking.Status.CONFIRMED)


def confirm_plan_read(*, booking: Booking) -> bool:
    """The patient has read the agreed plan: no phone call is needed to chase it.

    False (nothing changes) for a plan not agreed by a doctor, one already read, or a
    booking that is over.
    """
    if not booking.plan_agreed or booking.plan_read_at or booking.status not in CANCELLABLE:
        return False
    booking.plan_read_at = timezone.now()
    booking.save(update_fields=["plan_read_at", "updated_at"])
    outbox.replan(booking)
    return True


def switch_reminders(*, booking: Booking, on: bool) -> bool:
    """Reminders on or off; the plan, its dates and time changes are sent regardless."""
    if booking.status not in CANCELLABLE:
        return False
    booking.reminders_off = not on
    booking.save(update_fields=["reminders_off", "updated_at"])
    outbox.replan(booking)
    return True


def cancel_by_patient(*, booking: Booking, reason: str) -> Booking:
    """The patient cancels from the private page (the same cancelling as staff do)."""
    if booking.status not in CANCELLABLE:
        return booking
    return cancel_booking(booking=booking, reason=reason) or booking


def send_new_links(*, email: str, site_url: str = "") -> int:
    """E-mail a fresh private link for each open booking made with this address.

    Returns how many were sent; the page that calls this says the same either way.
    """
    bookings = Booking.objects.sent().filter(email__iexact=email.strip(), status__in=CANCELLABLE)
    count = 0
    for booking in bookings[:5]:
        send_booking_message(booking=booking, kind="new_link", site_url=site_url)
        count += 1
    return count


# --- Rate limits per client address (clinic/ratelimit.py: counted first, atomically) ---


def allow_request(address: str) -> bool:
    """Count one attempt to send a request; False when the address is over the limit."""
    return ratelimit.allow(
        "booking-request",
        address,
        limit=settings.BOOKING_RATE_LIMIT,
        seconds=settings.BOOKING_RATE_LIMIT_SECONDS,
    )


def allow_new_link(address: str) -> bool:
    """Count one "send me a new link"; False when the address is over the limit."""
    return ratelimit.allow(
        "booking-new-link",
        address,
        limit=settings.BOOKING_RATE_LIMIT,
        seconds=settings.BOOKING_RATE_LIMIT_SECONDS,
    )


def allow_draft(address: str) -> bool:
    """Count one new draft; False when the address has started too many in the period."""
    return ratelimit.allow(
        "booking-draft",
        address,
        limit=settings.DRAFT_RATE_LIMIT,
        seconds=settings.DRAFT_RATE_LIMIT_SECONDS,
    )


def note_uploads(*, booking: Booking) -> None:
    """Images arrived: the imaging item now says so, whatever the patient chose before."""
    if booking.imaging_status != Booking.ImagingStatus.UPLOADED and booking.uploads.exists():
        booking.imaging_status = Booking.ImagingStatus.UPLOADED
        booking.save(update_fields=["imaging_status", "updated_at"])
        if booking.status != Booking.Status.DRAFT:
            outbox.replan(booking)  # no more "we are waiting for your images"
