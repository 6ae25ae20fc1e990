"""Demo appointment types and blood-thinning medicines for the made-up clinic.

`manage.py load_demo` calls `load_demo_booking()` after the testimonials. Loading is
idempotent: an appointment type is found by its Danish name and a medicine by its
brand, and nothing is saved unless it differs. The words are in the data files beside
this module (see `clinic.demo_data`): `structure.yaml` with the settings and the
medicines, and `appointment-types.<language>.yaml` for each language.

The usual pauses of the medicines are ILLUSTRATIVE DEMO VALUES, not medical advice.
The software never decides a pause: it only suggests dates from these numbers, and
a doctor sets (agrees) each patient's plan. A real clinic enters its own values.
"""

from datetime import datetime, time, timedelta
from pathlib import Path

from django.utils import timezone

from booking import scheduling
from booking.models import Absence, Anticoagulant, AppointmentType, Booking, WorkingHours
from clinic import demo_data
from clinic.demo import PRACTITIONER, upsert
from clinic.models import Practitioner

# The demo doctor's week: (weekday, from, until); Friday mornings only.
WORKING_HOURS = [
    *[(day, time(8), time(12)) for day in range(4)],
    *[(day, time(12, 30), time(15, 30)) for day in range(4)],
    (4, time(8), time(12)),
]
COURSE = "Kursus (demo)"
DEMO_PATIENT_DOMAIN = "patient.example"

DATA = Path(__file__).parent


def load_demo_booking(*, with_bookings: bool = False) -> None:
    """Create or update the demo appointment types, medicines and the doctor's week.

    With `with_bookings` (local development only, like the demo staff logins), a few
    made-up patients' bookings fill next week's calendar.
    """
    structure = demo_data.read(DATA / "structure.yaml")
    texts = demo_data.merged(demo_data.per_language(DATA, "appointment-types"))
    doctor = Practitioner.objects.filter(name=PRACTITIONER["name"]).first()
    for spec in structure["appointment_types"]:
        values = {key: value for key, value in spec.items() if key != "key"} | texts[spec["key"]]
        existing = AppointmentType.objects.filter(name_da=values["name_da"]).first()
        kind = upsert(existing or AppointmentType(), values)
        if doctor is not None and kind.patient_picks_time and not kind.practitioners.exists():
            kind.practitioners.add(doctor)
    if doctor is not None:
        load_demo_schedule(doctor, with_bookings=with_bookings)
    for medicine in structure["medicines"]:
        existing = Anticoagulant.objects.filter(brand=medicine["brand"]).first()
        upsert(
            existing or Anticoagulant(),
            {
                "brand": medicine["brand"],
                "substance": medicine["substance"],
                "default_pause_days": medicine["pause_days"],
                "languages": ",".join(medicine["languages"]),
            },
        )


def load_demo_schedule(doctor: Practitioner, *, with_bookings: bool = False) -> None:
    """The doctor's working hours, public holidays as closures, one course, a few bookings.

    Made once: what exists already (perhaps edited by staff) is left as it is.
    """
    if not doctor.working_hours.exists():
        WorkingHours.objects.bulk_create(
            WorkingHours(practitioner=doctor, weekday=day, starts=start, ends=end)
            for day, start, end in WORKING_HOURS
        )
    today = timezone.localdate()
    scheduling.add_public_holidays(years=[today.year, today.year + 1])
    if not Absence.objects.filter(reason=COURSE).exists():
        monday = today + timedelta(days=21 - today.weekday())
        Absence.objects.create(
            practitioner=doctor,
            starts_at=local(monday, time(0)),
            ends_at=local(monday + timedelta(days=2), time(0)),
            reason=COURSE,
        )
    demo_patients = Booking.objects.filter(email__endswith="@" + DEMO_PATIENT_DOMAIN)
    if with_bookings and not demo_patients.exists():
        load_demo_bookings(doctor, today)


def local(day, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))


def load_demo_bookings(doctor: Practitioner, today) -> None:
    """Four made-up patients next week, so the calendar and the free times look real."""
    kinds = {kind.order: kind for kind in AppointmentType.objects.all()}
    monday = today + timedelta(days=7 - today.weekday())
    plans = [
        (1, monday, time(9), Booking.Status.CONFIRMED, "Anna Demo"),
        (3, monday + timedelta(days=1), time(10), Booking.Status.TENTATIVE, "Bent Demo"),
        (2, monday + timedelta(days=2), time(13), Booking.Status.CONFIRMED, "Carla Demo"),
        (3, monday + timedelta(days=3), time(8, 30), Booking.Status.CONFIRMED, "Dennis Demo"),
    ]
    for order, day, at, status, name in plans:
        kind = kinds.get(order)
        if kind is None:
            continue
        starts_at = local(day, at)
        ends_at = starts_at + kind.duration
        Booking.objects.create(
            appointment_type=kind,
            status=status,
            name=name,
            email=f"{name.split()[0].lower()}@{DEMO_PATIENT_DOMAIN}",
            phone="+4587654321",
            practitioner=doctor,
            starts_at=starts_at,
            ends_at=ends_at,
            claim_starts_at=starts_at - kind.buffer_before,
            claim_ends_at=ends_at + kind.buffer_after,
            submitted_at=timezone.now(),
        )
