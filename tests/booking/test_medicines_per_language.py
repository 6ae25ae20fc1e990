"""Blood-thinning medicines per country: each language's booking form lists its own brands.

Brand names are never translated: Marcumar (phenprocoumon, Germany) is not Marevan (warfarin,
Denmark and Norway), and each has its own usual pause. English shows the Danish list.
"""

import re
from pathlib import Path

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from booking import scheduling
from booking.demo import load_demo_booking
from booking.models import Anticoagulant, Booking
from tests.booking.factories import AnticoagulantFactory, AppointmentTypeFactory, BookingFactory
from tests.booking.test_flow import about_data, checklist_data, images_data, when_data
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STRUCTURE = Path(__file__).resolve().parents[2] / "booking" / "demo" / "structure.yaml"
LANGUAGES = ["da", "en", "nb", "sv", "de"]


def demo_medicines() -> list[dict]:
    return yaml.safe_load(STRUCTURE.read_text(encoding="utf-8"))["medicines"]


def brands(language: str) -> set[str]:
    return set(
        Anticoagulant.objects.filter(active=True)
        .for_language(language)
        .values_list("brand", flat=True)
    )


@pytest.fixture
def medicines():
    load_demo_booking()


# --- The list each language gets ------------------------------------------------------


def test_a_medicine_is_listed_for_the_languages_it_names_and_one_naming_none_everywhere():
    everywhere = AnticoagulantFactory(brand="Eliquis", languages="")
    danish = AnticoagulantFactory(brand="Hjertemagnyl", languages="da,en")
    german = AnticoagulantFactory(brand="Marcumar", languages="de")
    middle = AnticoagulantFactory(brand="Albyl-E", languages="da,nb,sv")
    expected = {
        "da": {everywhere, danish, middle},
        "en": {everywhere, danish},
        "nb": {everywhere, middle},
        "sv": {everywhere, middle},
        "de": {everywhere, german},
    }
    for code, medicines in expected.items():
        assert set(Anticoagulant.objects.for_language(code)) == medicines, code


def test_an_unknown_language_code_is_refused():
    medicine = AnticoagulantFactory.build(brand="Falithrom", languages="de,at")
    with translation.override("en"):
        with pytest.raises(ValidationError) as error:
            medicine.full_clean()
        assert error.value.message_dict["languages"] == ["Unknown language code: at."]
    AnticoagulantFactory.build(brand="Falithrom", languages="de,sv").full_clean()


def test_the_demo_lists_each_countrys_brands(medicines):
    assert brands("da") == brands("en")
    assert {"Marevan", "Hjertemagnyl"} <= brands("da")
    assert {"Marevan", "Albyl-E"} <= brands("nb")
    assert {"Waran", "Trombyl"} <= brands("sv")
    assert {"Marcumar", "ASS 100", "Aspirin protect"} <= brands("de")
    assert not brands("de") & {"Marevan", "Waran", "Hjertemagnyl", "Albyl-E", "Trombyl"}
    assert not brands("sv") & {"Marevan", "Hjertemagnyl", "Albyl-E", "Marcumar"}
    assert not brands("da") & {"Waran", "Albyl-E", "Trombyl", "Marcumar", "Aspirin protect"}
    shared = {"Eliquis", "Xarelto", "Pradaxa", "Lixiana", "Plavix", "Brilique"}
    assert all(shared <= brands(code) for code in LANGUAGES)
    # Every language lists a vitamin K antagonist and low-dose aspirin of its own country.
    for code in LANGUAGES:
        substances = {m.substance.lower() for m in Anticoagulant.objects.for_language(code)}
        assert substances & {"warfarin", "phenprocoumon"}, code
        assert any(s.startswith("acetylsalic") or s.startswith("acetylsalis") for s in substances)


def test_phenprocoumon_has_a_longer_usual_pause_than_warfarin(medicines):
    pauses = dict(Anticoagulant.objects.values_list("brand", "default_pause_days"))
    assert pauses["Marcumar"] > pauses["Marevan"] == pauses["Waran"]
    load_demo_booking()
    assert Anticoagulant.objects.count() == len(demo_medicines()), "a rerun adds nothing"


# --- The booking form -------------------------------------------------------------------


def step(name: str, language: str, part2: bool = False) -> str:
    with translation.override(language):
        return reverse(f"booking:{name}") + ("?part=2" if part2 else "")


def medicine_screen(client, language: str) -> str:
    """Walk the request in `language` to the screen asking which medicine."""
    gold = AppointmentTypeFactory()
    first = Anticoagulant.objects.order_by("pk").first()
    what = {"appointment_type": gold.pk, "painful_area": "Neck"}
    assert client.post(step("what", language), what).status_code == 302
    assert client.post(step("when", language), when_data()).status_code == 302
    assert client.post(step("about", language), about_data(language=language)).status_code == 302
    client.post(step("images", language), images_data())
    client.post(step("images", language, part2=True), images_data())
    client.post(step("checklist", language), checklist_data(first))
    response = client.get(step("checklist", language, part2=True))
    assert response.status_code == 200
    return response.content.decode()


def offered(html: str) -> set[str]:
    """The brands the form's medicine tick boxes offer."""
    ids = set(re.findall(r'name="anticoagulants" value="(\d+)"', html))
    return set(Anticoagulant.objects.filter(pk__in=ids).values_list("brand", flat=True))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_booking_form_offers_the_medicines_of_its_language(client, medicines, language):
    html = medicine_screen(client, language)
    assert offered(html) == brands(language)
    assert len(offered(html)) >= 8


def test_a_medicine_of_another_countrys_list_cannot_be_sent(client, medicines):
    medicine_screen(client, "da")
    marcumar = Anticoagulant.objects.get(brand="Marcumar")
    answers = checklist_data(marcumar)
    response = client.post(step("checklist", "da", part2=True), answers)
    assert response.status_code == 200, "the form comes back with an error"
    assert not Booking.objects.get().anticoagulants.exists()


def test_a_patient_who_does_not_know_gets_the_longest_pause_of_their_languages_list(medicines):
    kind = AppointmentTypeFactory(asks_about_blood_thinners=True)
    longest = {
        code: max(
            m["pause_days"]
            for m in demo_medicines()
            if not m["languages"] or code in m["languages"]
        )
        for code in LANGUAGES
    }
    assert longest["de"] > longest["da"]
    for code in LANGUAGES:
        booking = BookingFactory(
            appointment_type=kind, language=code, takes_blood_thinners=Booking.Answer.DONT_KNOW
        )
        assert scheduling.blood_thinner_pause_days(booking) == longest[code] + 1, code


# --- The admin ----------------------------------------------------------------------------


@pytest.fixture
def reception(client):
    client.force_login(UserFactory(groups=["Reception"]))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_staff_tick_the_languages_of_a_medicine(reception):
    add = reverse("admin:booking_anticoagulant_add")
    page = reception.get(add).content.decode()
    assert page.count('name="languages"') == 5
    assert "None ticked: listed in every language." in page
    data = {"brand": "Marcumar", "substance": "Phenprocoumon", "default_pause_days": "10"}
    response = reception.post(add, data | {"active": "on", "languages": ["de", "da"]})
    assert response.status_code == 302, response.content.decode()[:2000]
    marcumar = Anticoagulant.objects.get()
    assert marcumar.languages == "da,de" and marcumar.language_codes == ["da", "de"]

    change = reverse("admin:booking_anticoagulant_change", args=[marcumar.pk])
    assert re.search(
        r'name="languages" value="de"[^>]*checked', reception.get(change).content.decode()
    )
    assert reception.post(change, data | {"active": "on"}).status_code == 302
    marcumar.refresh_from_db()
    assert marcumar.languages == "", "none ticked: every language"


def test_the_list_shows_and_filters_by_language(reception):
    AnticoagulantFactory(brand="Marcumar", languages="de")
    AnticoagulantFactory(brand="Eliquis", languages="")
    AnticoagulantFactory(brand="Waran", languages="sv")
    AnticoagulantFactory(brand="Xarelto", languages="da,en,nb,sv,de")
    AnticoagulantFactory(brand="Hjertemagnyl", languages="da,en")
    changelist = reverse("admin:booking_anticoagulant_changelist")
    html = reception.get(changelist).content.decode()
    assert '<td class="field-listed_in">DE</td>' in html
    assert html.count('<td class="field-listed_in">every language</td>') == 2
    assert '<td class="field-listed_in">DA, EN</td>' in html
    html = reception.get(changelist, {"listed_in": "de"}).content.decode()
    assert "Marcumar" in html and "Eliquis" in html and "Waran" not in html
