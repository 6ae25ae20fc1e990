"""Demo appointment types and blood-thinning medicines for the made-up clinic.

`manage.py load_demo` calls `load_demo_booking()` after the testimonials. Loading is
idempotent: an appointment type is found by its Danish name and a medicine by its
brand, and nothing is saved unless it differs.

The usual pauses of the medicines are ILLUSTRATIVE DEMO VALUES, not medical advice.
The software never decides a pause: it only suggests dates from these numbers, and
a doctor sets (agrees) each patient's plan. A real clinic enters its own values.
"""

from booking.models import Anticoagulant, AppointmentType
from clinic.demo import upsert

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


def load_demo_booking() -> None:
    """Create or update the demo appointment types and medicine list."""
    for spec in APPOINTMENT_TYPES:
        existing = AppointmentType.objects.filter(name_da=spec["name_da"]).first()
        upsert(existing or AppointmentType(), spec)
    for brand, substance, pause in MEDICINES:
        existing = Anticoagulant.objects.filter(brand=brand).first()
        upsert(
            existing or Anticoagulant(),
            {"brand": brand, "substance": substance, "default_pause_days": pause},
        )
