"""Demo content for a made-up clinic, so a first run shows a real-looking site.

The clinic, its doctor, address (postal code 9999 does not exist in Denmark),
phone number and CVR number are invented: a demo must never send a patient to a
real clinic or name a real person. The site accepts only phone numbers that can exist,
so the demo's has a valid Danish form; it is written in E.164, the form it is saved in,
so a rerun finds nothing changed. Loading is idempotent: records are found by a stable
key and updated, never duplicated.
"""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured

from clinic import staff_groups, two_factor
from clinic.models import ClinicDetails, ConsentText, Page, Practitioner, TrustMark

CLINIC = {
    "name": "Egebæk Smerteklinik",
    "phone": "+4598765432",
    "email": "kontakt@egebaek-smerteklinik.example",
    "street_address": "Ahornvej 12",
    "postal_code": "9999",
    "city": "Egebæk",
    "cvr_number": "12345678",
    "country_da": "Danmark",
    "country_en": "Denmark",
    "country_nb": "Danmark",
    "country_sv": "Danmark",
    "country_de": "Dänemark",
    "tagline_da": "Behandling af langvarige smerter i led, ryg og nakke med guldimplantation",
    "tagline_en": "Treatment of long-lasting pain in joints, back and neck with gold implantation",
    "tagline_nb": "Behandling av langvarige smerter i ledd, rygg og nakke med gullimplantasjon",
    "tagline_sv": "Behandling av långvarig smärta i leder, rygg och nacke med guldimplantation",
    "tagline_de": "Behandlung langanhaltender Schmerzen in Gelenken, Rücken und Nacken "
    "mit Goldimplantation",
    "introduction_da": (
        "<p>Egebæk Smerteklinik hjælper mennesker, der har haft ondt i lang tid. Vi behandler "
        "kroniske smerter i nakke, ryg og led med guldimplantation: små stykker 24 karat guld, "
        "som lægen placerer ved det smertefulde område, mens du er lokalbedøvet.</p>"
        "<p>Du kan altid ringe og få en uforpligtende snak om, hvorvidt behandlingen kan "
        "passe til dig.</p>"
    ),
    "introduction_en": (
        "<p>Egebæk Pain Clinic helps people who have been in pain for a long time. We treat "
        "chronic pain in the neck, back and joints with gold implantation: small pieces of "
        "24-carat gold that the doctor places near the painful area under local "
        "anaesthesia.</p>"
        "<p>You are always welcome to call for a non-binding talk about whether the treatment "
        "could suit you.</p>"
    ),
    "opening_hours_da": "Mandag-torsdag 8.00-16.00\nFredag 8.00-13.00",
    "opening_hours_en": "Monday-Thursday 8:00-16:00\nFriday 8:00-13:00",
    "opening_hours_nb": "Mandag-torsdag 8.00-16.00\nFredag 8.00-13.00",
    "opening_hours_sv": "Måndag-torsdag 8.00-16.00\nFredag 8.00-13.00",
    "opening_hours_de": "Montag-Donnerstag 8:00-16:00\nFreitag 8:00-13:00",
}

TRUST_MARKS = [
    {
        "order": 1,
        "title_da": "Registreret hos Styrelsen for Patientsikkerhed",
        "title_en": "Registered with the Danish Patient Safety Authority",
        "description_da": "Klinikken er registreret som behandlingssted og fører tilsyn "
        "efter sundhedslovens regler.",
        "description_en": "The clinic is registered as a healthcare provider and follows the "
        "Danish Health Act's rules on supervision.",
    },
    {
        "order": 2,
        "title_da": "Erfaring siden 1996",
        "title_en": "Experience since 1996",
        "description_da": "Vores læge har behandlet kroniske smerter med guld i mange år.",
        "description_en": "Our doctor has treated chronic pain with gold for many years.",
    },
]

PRACTITIONER = {
    "name": "Mette Egelund Brask",
    "title_da": "Læge, speciallæge i almen medicin",
    "title_en": "Doctor, specialist in general practice",
    "title_de": "Ärztin, Fachärztin für Allgemeinmedizin",
    "bio_da": (
        "Mette har arbejdet med smertebehandling i næsten 30 år og har behandlet tusindvis af "
        "patienter med guldimplantation. Hun lægger vægt på god tid til samtalen før "
        "behandlingen."
    ),
    "bio_en": (
        "Mette has worked with pain treatment for almost 30 years and has treated thousands of "
        "patients with gold implantation. She makes sure there is plenty of time to talk "
        "before the treatment."
    ),
    "treating_since": 1996,
    "languages": ["da", "en", "nb", "sv", "de"],
    "order": 1,
}

PAGES = [
    {
        "kind": Page.Kind.ABOUT,
        "order": 1,
        "in_navigation": True,
        "slugs": {
            "da": "om-klinikken",
            "en": "about",
            "nb": "om-klinikken",
            "sv": "om-kliniken",
            "de": "ueber-uns",
        },
        "title_da": "Om klinikken",
        "title_en": "About the clinic",
        "title_nb": "Om klinikken",
        "title_sv": "Om kliniken",
        "title_de": "Über die Klinik",
        "meta_description_da": "Mød Egebæk Smerteklinik: hvem vi er, og hvordan vi behandler "
        "langvarige smerter med guldimplantation.",
        "meta_description_en": "Meet Egebæk Pain Clinic: who we are and how we treat "
        "long-lasting pain with gold implantation.",
        "body_da": (
            "<p>Egebæk Smerteklinik er en lille klinik med én læge og et fast team af "
            "sekretærer. Vi kender vores patienter, og du møder den samme læge fra første "
            "samtale til opfølgningen.</p>"
            "<h2>Sådan arbejder vi</h2>"
            "<ul><li>Først en samtale om dine smerter og din sygehistorie.</li>"
            "<li>Derefter ser lægen dine røntgen- eller scanningsbilleder.</li>"
            "<li>Passer behandlingen til dig, aftaler vi en tid til guldimplantation.</li></ul>"
        ),
        "body_en": (
            "<p>Egebæk Pain Clinic is a small clinic with one doctor and a permanent team of "
            "secretaries. We know our patients, and you see the same doctor from the first "
            "talk to the follow-up.</p>"
            "<h2>How we work</h2>"
            "<ul><li>First, a talk about your pain and your medical history.</li>"
            "<li>Then the doctor looks at your X-ray or scan images.</li>"
            "<li>If the treatment suits you, we agree a time for gold implantation.</li></ul>"
        ),
    },
    {
        "kind": Page.Kind.CONTACT,
        "order": 2,
        "in_navigation": True,
        "slugs": {
            "da": "kontakt",
            "en": "contact",
            "nb": "kontakt",
            "sv": "kontakt",
            "de": "kontakt",
        },
        "title_da": "Kontakt",
        "title_en": "Contact",
        "title_nb": "Kontakt",
        "title_sv": "Kontakt",
        "title_de": "Kontakt",
        "meta_description_da": "Ring eller skriv til Egebæk Smerteklinik for en "
        "uforpligtende vurdering af dine smerter.",
        "meta_description_en": "Call or write to Egebæk Pain Clinic for a non-binding "
        "assessment of your pain.",
        "body_da": (
            "<p>Ring til os på hverdage, så finder vi sammen ud af, om en behandling kan "
            "hjælpe dig. Samtalen er gratis og forpligter dig ikke til noget.</p>"
            "<p>Skriv gerne en mail, hvis det passer dig bedre. Send ikke helbredsoplysninger "
            "eller billeder med almindelig mail.</p>"
        ),
        "body_en": (
            "<p>Call us on a weekday and we will find out together whether a treatment could "
            "help you. The talk is free and does not commit you to anything.</p>"
            "<p>You are welcome to write an e-mail if that suits you better. Please do not "
            "send health details or images by ordinary e-mail.</p>"
        ),
    },
    {
        "kind": Page.Kind.PRIVACY,
        "order": 3,
        "in_navigation": False,
        "slugs": {
            "da": "privatlivspolitik",
            "en": "privacy-policy",
            "nb": "personvern",
            "sv": "integritetspolicy",
            "de": "datenschutz",
        },
        "title_da": "Privatlivspolitik",
        "title_en": "Privacy policy",
        "title_nb": "Personvernerklæring",
        "title_sv": "Integritetspolicy",
        "title_de": "Datenschutzerklärung",
        "meta_description_da": "Sådan behandler Egebæk Smerteklinik dine personoplysninger.",
        "meta_description_en": "How Egebæk Pain Clinic handles your personal data.",
        "body_da": (
            "<p>Vi behandler kun de oplysninger, vi har brug for for at kunne behandle dig, "
            "og vi opbevarer dem sikkert efter sundhedslovens regler om patientjournaler.</p>"
            "<h2>Hjemmesiden</h2>"
            "<p>Hjemmesiden bruger ingen statistik- eller reklamecookies og henter intet fra "
            "andre hjemmesider. Der sættes kun de cookies, som er nødvendige for, at en "
            "formular kan sendes sikkert.</p>"
            "<h2>Dine rettigheder</h2>"
            "<p>Du kan altid bede om at se, rette eller få slettet de oplysninger, vi har om "
            "dig, i det omfang loven tillader det. Kontakt os på telefon eller mail.</p>"
        ),
        "body_en": (
            "<p>We only process the information we need to treat you, and we keep it safely "
            "under the Danish Health Act's rules on patient records.</p>"
            "<h2>This website</h2>"
            "<p>The website uses no statistics or advertising cookies and loads nothing from "
            "other websites. It only sets the cookies needed to send a form securely.</p>"
            "<h2>Your rights</h2>"
            "<p>You can always ask to see, correct or delete the information we hold about "
            "you, as far as the law allows. Contact us by phone or e-mail.</p>"
        ),
    },
]

CONSENT_TEXTS = [
    {
        # Names the SMS gateway: a data processor that sees phone numbers, not health data.
        "kind": ConsentText.Kind.HEALTH_DATA,
        "text_da": "Jeg giver Egebæk Smerteklinik lov til at behandle de helbredsoplysninger "
        "og billeder, jeg sender, for at forberede min konsultation og behandling. Hvis jeg "
        "vælger sms, sender klinikken beskederne gennem en sms-udbyder, som er databehandler "
        "for klinikken: den får kun mit telefonnummer og beskedens tekst, aldrig mine "
        "helbredsoplysninger.",
        "text_nb": "Jeg gir Egebæk Smerteklinik lov til å behandle helseopplysningene og "
        "bildene jeg sender, for å forberede konsultasjonen og behandlingen min. Hvis jeg "
        "velger SMS, sender klinikken meldingene gjennom en SMS-leverandør som er "
        "databehandler for klinikken: den får bare telefonnummeret mitt og teksten i "
        "meldingen, aldri helseopplysningene mine.",
        "text_sv": "Jag ger Egebæk Smerteklinik tillåtelse att behandla de hälsouppgifter och "
        "bilder jag skickar för att förbereda min konsultation och behandling. Om jag väljer "
        "sms skickar kliniken meddelandena via en sms-leverantör som är personuppgiftsbiträde "
        "åt kliniken: den får bara mitt telefonnummer och meddelandets text, aldrig mina "
        "hälsouppgifter.",
        "text_de": "Ich erlaube der Egebæk Smerteklinik, die Gesundheitsdaten und Bilder, die "
        "ich sende, zu verarbeiten, um meine Konsultation und Behandlung vorzubereiten. Wenn "
        "ich SMS wähle, verschickt die Klinik die Nachrichten über einen SMS-Anbieter, der "
        "als Auftragsverarbeiter für die Klinik tätig ist: Er erhält nur meine Telefonnummer "
        "und den Text der Nachricht, niemals meine Gesundheitsdaten.",
        "text_en": "I allow Egebæk Pain Clinic to process the health information and images I "
        "send in order to prepare my consultation and treatment. If I choose text messages, "
        "the clinic sends them through an SMS gateway that is a data processor for the "
        "clinic: it receives only my phone number and the text of the message, never my "
        "health information.",
    },
    {
        "kind": ConsentText.Kind.TESTIMONIAL,
        "text_da": "Jeg giver Egebæk Smerteklinik lov til at vise min udtalelse på "
        "hjemmesiden med det navn, jeg har skrevet. Jeg kan altid trække den tilbage.",
        "text_en": "I allow Egebæk Pain Clinic to show my testimonial on its website with the "
        "name I have given. I can withdraw it at any time.",
    },
]

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


def load_demo() -> ClinicDetails:
    """Create or update the demo clinic's records."""
    clinic = upsert(ClinicDetails.load() or ClinicDetails(), CLINIC)

    for mark in TRUST_MARKS:
        existing = TrustMark.objects.filter(clinic=clinic, order=mark["order"]).first()
        upsert(existing or TrustMark(clinic=clinic), mark)

    existing = Practitioner.objects.filter(name=PRACTITIONER["name"]).first()
    upsert(existing or Practitioner(), PRACTITIONER)

    for spec in PAGES:
        data = dict(spec)
        data.update({f"slug_{code}": slug for code, slug in data.pop("slugs").items()})
        upsert(Page.objects.filter(kind=data["kind"]).first() or Page(), data)

    for spec in CONSENT_TEXTS:
        ensure_consent_text(spec)
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
