"""Demo appointment types and blood-thinning medicines for the made-up clinic.

`manage.py load_demo` calls `load_demo_booking()` after the testimonials. Loading is
idempotent: an appointment type is found by its Danish name and a medicine by its
brand, and nothing is saved unless it differs.

The usual pauses of the medicines are ILLUSTRATIVE DEMO VALUES, not medical advice.
The software never decides a pause: it only suggests dates from these numbers, and
a doctor sets (agrees) each patient's plan. A real clinic enters its own values.
"""

from datetime import datetime, time, timedelta

from django.utils import timezone

from booking import scheduling
from booking.models import Absence, Anticoagulant, AppointmentType, Booking, WorkingHours
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

NOT_NEEDED = AppointmentType.Imaging.NOT_NEEDED
OPTIONAL = AppointmentType.Imaging.OPTIONAL
REQUIRED = AppointmentType.Imaging.REQUIRED

APPOINTMENT_TYPES = [
    {
        "order": 1,
        "name_da": "Uforpligtende telefonsamtale",
        "name_en": "Free non-binding phone talk",
        "description_da": "En kort, gratis snak med lægen om, hvorvidt behandlingen kan "
        "passe til dig.",
        "description_en": "A short, free talk with the doctor about whether the treatment "
        "could suit you.",
        "instructions_da": "Lægen ringer til dig på det aftalte tidspunkt. Du behøver ikke "
        "forberede noget.",
        "instructions_en": "The doctor calls you at the agreed time. You do not need to "
        "prepare anything.",
        "duration_minutes": 15,
        "booking_mode": AppointmentType.BookingMode.PICK_CONFIRMED,
        "min_notice_hours": 4,
        "max_weeks_ahead": 6,
        "imaging": NOT_NEEDED,
        "asks_about_blood_thinners": False,
        "companion_required": False,
    },
    {
        "order": 2,
        "name_da": "Konsultation",
        "name_en": "Consultation",
        "description_da": "Lægen undersøger dig og gennemgår dine smerter og eventuelle billeder.",
        "description_en": "The doctor examines you and goes through your pain and any images.",
        "instructions_da": "Har du røntgen- eller scanningsbilleder, så send dem gerne før "
        "konsultationen. Tag en liste over din medicin med.",
        "instructions_en": "If you have X-ray or scan images, please send them before the "
        "consultation. Bring a list of your medicines.",
        "duration_minutes": 30,
        "imaging": OPTIONAL,
        "asks_about_blood_thinners": False,
        "companion_required": False,
    },
    {
        "order": 3,
        "name_da": "Guldimplantation",
        "name_en": "Gold implantation",
        "description_da": "Behandling med små stykker guld ved det smertefulde område, "
        "i lokalbedøvelse.",
        "description_en": "Treatment with small pieces of gold near the painful area, under "
        "local anaesthesia.",
        "instructions_da": "Send dine røntgen- eller scanningsbilleder i god tid. Stop ikke "
        "blodfortyndende medicin, før vi har aftalt en plan med dig. Tag en voksen med, "
        "som kan køre dig hjem: bedøvelsen kan gøre dig døsig.",
        "instructions_en": "Send your X-ray or scan images in good time. Do not stop "
        "blood-thinning medicine until we have agreed a plan with you. Bring an adult who "
        "can drive you home: the anaesthetic can make you drowsy.",
        "duration_minutes": 45,
        "booking_mode": AppointmentType.BookingMode.PICK_TENTATIVE,
        "buffer_after_minutes": 15,
        "min_notice_hours": 48,
        "max_weeks_ahead": 12,
        "imaging": REQUIRED,
        "asks_about_blood_thinners": True,
        "companion_required": True,
    },
]

# Illustrative demo values (days); a doctor agrees each patient's plan.
MEDICINES = [
    ("Marevan", "warfarin", 5),
    ("Eliquis", "apixaban", 2),
    ("Xarelto", "rivaroxaban", 2),
    ("Pradaxa", "dabigatran", 3),
    ("Lixiana", "edoxaban", 2),
    ("Plavix", "clopidogrel", 5),
    ("Brilique", "ticagrelor", 5),
    ("Hjertemagnyl", "acetylsalicylsyre", 7),
]


def load_demo_booking(*, with_bookings: bool = False) -> None:
    """Create or update the demo appointment types, medicines and the doctor's week.

    With `with_bookings` (local development only, like the demo staff logins), a few
    made-up patients' bookings fill next week's calendar.
    """
    doctor = Practitioner.objects.filter(name=PRACTITIONER["name"]).first()
    for spec in APPOINTMENT_TYPES:
        existing = AppointmentType.objects.filter(name_da=spec["name_da"]).first()
        kind = upsert(existing or AppointmentType(), spec)
        if doctor is not None and kind.patient_picks_time and not kind.practitioners.exists():
            kind.practitioners.add(doctor)
    if doctor is not None:
        load_demo_schedule(doctor, with_bookings=with_bookings)
    for brand, substance, pause in MEDICINES:
        existing = Anticoagulant.objects.filter(brand=brand).first()
        upsert(
            existing or Anticoagulant(),
            {"brand": brand, "substance": substance, "default_pause_days": pause},
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
