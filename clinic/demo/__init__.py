"""Demo content for a made-up clinic, so a first run shows a real-looking site.

The clinic, its doctor, address, phone number and CVR number are invented: a demo must
never send a patient to a real clinic or name a real person. The words are in the data
files beside this module (see `clinic.demo_data`): `structure.yaml`, and
`clinic.<language>.yaml` for each language. Loading is idempotent: records are found by a
stable key and updated, never duplicated.
"""

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile

from clinic import demo_data, staff_groups, two_factor
from clinic.models import ClinicDetails, ConsentText, Page, Practitioner, TrustMark

DATA = Path(__file__).parent
STRUCTURE = demo_data.read(DATA / "structure.yaml")
PRACTITIONER = STRUCTURE["practitioner"]

DEMO_ACCOUNTS = [
    ("editor", "Eva", "Redaktør", staff_groups.EDITORS),
    ("reception", "Rikke", "Reception", staff_groups.RECEPTION),
    ("doctor", "Mette", "Egelund Brask", staff_groups.DOCTORS),
]


def upsert(instance, values: dict):
    """Set `values` on `instance` and save only if something differs (a rerun changes nothing)."""
    changed = instance.pk is None
    for field, value in values.items():
        if getattr(instance, field) != value:
            setattr(instance, field, value)
            changed = True
    if changed:
        instance.full_clean()
        instance.save()
    return instance


def attach_file(instance, field: str, path: Path) -> None:
    """Give an empty file field the demo's file once; a file set later is left alone.

    When the storage already holds the very same file under the name the field would
    give it (the demo loaded again into an emptied database), that copy is reused: no
    duplicate in the storage, and its thumbnails need not be made again.
    """
    file = getattr(instance, field)
    if file or not path.exists():
        return
    content = path.read_bytes()
    name = file.field.generate_filename(instance, path.name)
    if file.storage.exists(name):
        with file.storage.open(name, "rb") as stored:
            if stored.read() == content:
                setattr(instance, field, name)
                instance.save(update_fields=[field])
                return
    file.save(path.name, ContentFile(content), save=False)
    instance.save(update_fields=[field])


def load_demo() -> ClinicDetails:
    """Create or update the demo clinic's records."""
    texts = demo_data.merged(demo_data.per_language(DATA, "clinic"), STRUCTURE)
    clinic = upsert(ClinicDetails.load() or ClinicDetails(), texts["clinic"])

    for mark in texts["trust_marks"]:
        existing = TrustMark.objects.filter(clinic=clinic, order=mark["order"]).first()
        upsert(existing or TrustMark(clinic=clinic), mark)

    values = dict(texts["practitioner"])
    photo = values.pop("photo", None)
    existing = Practitioner.objects.filter(name=values["name"]).first()
    practitioner = upsert(existing or Practitioner(), values)
    if photo:
        attach_file(practitioner, "photo", DATA / photo)

    for kind, page in texts["pages"].items():
        upsert(Page.objects.filter(kind=kind).first() or Page(), page | {"kind": kind})

    for kind, consent in texts["consent_texts"].items():
        ensure_consent_text(consent | {"kind": kind})
    return clinic


def ensure_consent_text(spec: dict) -> ConsentText:
    """Make the demo's wording the current version of its kind.

    A version that patients have seen is never edited (consents point at its exact
    words), so changed wording then becomes a new version; an unseen one is edited.
    """
    current = ConsentText.objects.current(spec["kind"])
    if current and current.locked and any(getattr(current, f) != v for f, v in spec.items()):
        current = None
    return upsert(current or ConsentText(), spec)


def ensure_demo_accounts() -> list[tuple[str, str, str]]:
    """Demo staff logins; passwords and authenticator secrets are made once and kept under var/.

    Returns (username, password, otpauth URI) triples. Every demo member comes with
    an authenticator app already set up, so a newcomer can add the URI (or its QR
    code) to an app and log in at once. Only for local development: the secrets
    are printed and written to a file, which must never happen for real staff.
    """
    if not settings.DEMO_ACCOUNTS:
        raise ImproperlyConfigured("Demo staff logins exist only with DEMO_ACCOUNTS on.")
    passwords_file = settings.VAR_DIR / "demo-passwords.txt"
    known = {}
    if passwords_file.exists():
        for line in passwords_file.read_text().splitlines():
            username, _sep, rest = line.partition(" ")
            known[username] = rest.split(" ")[0]
    User = get_user_model()
    result = []
    for username, first_name, last_name, group_name in DEMO_ACCOUNTS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first_name, "last_name": last_name, "is_staff": True},
        )
        password = known.get(username)
        if created or not password or not user.check_password(password):
            password = password or secrets.token_urlsafe(9)
            user.set_password(password)
            user.save()
        user.groups.add(Group.objects.get(name=group_name))
        result.append((username, password, two_factor.demo_device(user).config_url))
    passwords_file.write_text("".join(f"{u} {p} {uri}\n" for u, p, uri in result))
    passwords_file.chmod(0o600)

    doctor = User.objects.get(username="doctor")
    Practitioner.objects.filter(name=PRACTITIONER["name"], user__isnull=True).update(user=doctor)
    return result
