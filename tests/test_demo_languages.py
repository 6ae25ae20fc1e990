"""The demo in five real languages: the data files match the Danish ones, and the loaded demo
is filled in every language wherever it is filled in Danish.

Run one language with e.g. `-k "nb"`; the Danish files are the reference.
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

from booking.models import AppointmentType
from clinic import demo_data
from clinic.demo_data import DemoDataError
from clinic.models import ClinicDetails, ConsentText, Page, Practitioner, TrustMark
from clinic.translation_status import missing_translations
from conditions.models import (
    FAQ,
    Condition,
    ConditionSection,
    DiagnosisStep,
    FAQTopic,
    KeyFigure,
    RiskFactor,
    Source,
    Symptom,
    Treatment,
    TreatmentRecommendation,
)

ROOT = Path(__file__).resolve().parent.parent
# Every app's demo folder with per-language files (testimonials stay in the language written).
DEMO_FOLDERS = sorted({str(p.parent.relative_to(ROOT)) for p in ROOT.glob("*/demo/*.da.yaml")})
LANGUAGES = [code for code, _name in settings.LANGUAGES]
OTHER_LANGUAGES = [code for code in LANGUAGES if code != "da"]

# Keys a language file may leave out on purpose. `reviewed_on` is the day a doctor checked
# that language's version (conditions/demo: `_review`): a version nobody has checked yet has
# none, and its pages say so.
OPTIONAL_PER_LANGUAGE = {"reviewed_on"}


# --- (a) The data files -------------------------------------------------------------------


def parts() -> list[tuple[str, str]]:
    """(folder, part) for every part of every demo folder, e.g. ("conditions/demo", "faq")."""
    found = []
    for folder in DEMO_FOLDERS:
        names = {path.name.split(".")[0] for path in (ROOT / folder).glob("*.*.yaml")}
        found += [(folder, name) for name in sorted(names)]
    return found


def shape_differences(danish, other, where: str = "") -> list[str]:
    """Where `other` has not the shape of `danish`: keys, list lengths, kinds, empty texts."""
    if isinstance(danish, dict):
        if not isinstance(other, dict):
            return [f"{where or 'top'}: a mapping in Danish, {type(other).__name__} here"]
        differences = [
            f"{where}.{key}: missing"
            for key in danish.keys() - other.keys() - OPTIONAL_PER_LANGUAGE
            if danish[key] not in (None, "", [])
        ]
        differences += [
            f"{where}.{key}: not in the Danish file"
            for key in other.keys() - danish.keys() - OPTIONAL_PER_LANGUAGE
        ]
        for key in sorted(danish.keys() & other.keys(), key=str):
            differences += shape_differences(danish[key], other[key], f"{where}.{key}")
        return differences
    if isinstance(danish, list):
        if not isinstance(other, list):
            return [f"{where}: a list in Danish, {type(other).__name__} here"]
        if len(danish) != len(other):
            return [f"{where}: {len(other)} items, {len(danish)} in Danish"]
        return [
            difference
            for index, (first, second) in enumerate(zip(danish, other, strict=True))
            for difference in shape_differences(first, second, f"{where}[{index}]")
        ]
    if isinstance(other, dict | list):
        return [f"{where}: a text in Danish, {type(other).__name__} here"]
    if danish not in (None, "") and other in (None, ""):
        return [f"{where}: empty"]
    return []


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("folder", "part"), parts(), ids=lambda value: value.replace("/", "-"))
def test_every_part_has_a_file_in_every_language_shaped_like_the_danish_one(folder, part, language):
    danish_path = ROOT / folder / f"{part}.da.yaml"
    path = ROOT / folder / f"{part}.{language}.yaml"
    assert danish_path.exists(), f"{folder}/{part} has no Danish file"
    assert path.exists(), f"{folder}/{part}.{language}.yaml is missing"
    danish, other = demo_data.read(danish_path), demo_data.read(path)
    assert other, f"{path.name} is empty"
    assert shape_differences(danish, other) == [], path.name
    # And the loader folds it in with the Danish file without complaint.
    demo_data.merged({"da": danish, language: other})


def test_the_demo_folders_have_parts():
    assert DEMO_FOLDERS == ["booking/demo", "clinic/demo", "conditions/demo"]
    assert {part for _folder, part in parts()} >= {"clinic", "neck-pain", "faq", "treatments"}


def test_the_shape_comparison_finds_each_kind_of_difference():
    danish = {"name": "Nakke", "reviewed_on": "2026-10-01", "items": ["a", "b"], "x": {"y": "z"}}
    assert shape_differences(danish, {"name": "Neck", "items": ["a", "b"], "x": {"y": "z"}}) == []
    assert shape_differences(danish, {"items": ["a", "b"], "x": {"y": "z"}}) == [".name: missing"]
    assert shape_differences(danish, {"name": "N", "items": ["a"], "x": {"y": "z"}}) == [
        ".items: 1 items, 2 in Danish"
    ]
    assert shape_differences(danish, {"name": "", "items": ["a", "b"], "x": {"y": "z"}}) == [
        ".name: empty"
    ]
    assert shape_differences(danish, {"name": "N", "items": ["a", "b"], "x": ["z"]}) == [
        ".x: a mapping in Danish, list here"
    ]
    assert shape_differences(
        danish, {"name": "N", "items": ["a", "b"], "x": {"y": "z"}, "extra": 1}
    ) == [".extra: not in the Danish file"]


# --- (a) The reader: clinic.demo_data -----------------------------------------------------


def test_lists_of_different_lengths_are_refused():
    with pytest.raises(DemoDataError, match="lists of different lengths"):
        demo_data.merged({"da": {"symptoms": ["a", "b"]}, "nb": {"symptoms": ["a"]}})
    with pytest.raises(DemoDataError, match="structure"):
        demo_data.merged({"da": [{"name": "a"}]}, [{"key": 1}, {"key": 2}])


def test_equally_long_lists_are_matched_item_by_item():
    merged = demo_data.merged(
        {"da": {"symptoms": ["stiv", "øm"]}, "nb": {"symptoms": ["stiv", "øm "]}}
    )
    assert merged == {"symptoms": [{"da": "stiv", "nb": "stiv"}, {"da": "øm", "nb": "øm"}]}
    assert demo_data.rows(merged["symptoms"], "text")[1] == {"text_da": "øm", "text_nb": "øm"}


@pytest.mark.parametrize(
    "texts",
    [
        {"da": {"name": "Nakke"}, "nb": ["Nakke"]},
        {"da": {"items": ["a"]}, "nb": {"items": "a"}},
        {"da": {"items": [{"text": "a"}]}, "nb": {"items": [["a"]]}},
    ],
    ids=["mapping-and-list", "list-and-text", "mapping-and-list-in-a-list"],
)
def test_values_of_mixed_kinds_are_refused(texts):
    with pytest.raises(DemoDataError, match="not the same kind"):
        demo_data.merged(texts)


def test_a_missing_language_file_leaves_that_language_empty(tmp_path):
    (tmp_path / "part.da.yaml").write_text("name: Nakke\n", encoding="utf-8")
    (tmp_path / "part.en.yaml").write_text("name: Neck\n", encoding="utf-8")
    found = demo_data.per_language(tmp_path, "part")
    assert set(found) == {"da", "en"}
    assert demo_data.merged(found, {"order": 1}) == {
        "order": 1,
        "name_da": "Nakke",
        "name_en": "Neck",
    }


def test_an_empty_file_is_like_a_missing_one(tmp_path):
    (tmp_path / "part.da.yaml").write_text("name: Nakke\nitems: [a]\n", encoding="utf-8")
    (tmp_path / "part.nb.yaml").write_text("", encoding="utf-8")
    found = demo_data.per_language(tmp_path, "part")
    assert found["nb"] == {}
    assert demo_data.merged(found) == {"name_da": "Nakke", "items": [{"da": "a"}]}


def test_no_file_at_all_gives_the_structure_alone(tmp_path):
    assert demo_data.per_language(tmp_path, "part") == {}
    assert demo_data.merged({}, {"order": 1}) == {"order": 1}


def test_a_broken_file_names_itself(tmp_path):
    path = tmp_path / "part.sv.yaml"
    path.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(DemoDataError, match="part.sv.yaml"):
        demo_data.read(path)


# --- (b) The loaded demo --------------------------------------------------------------


def loaded_records():
    """Every record the demo loads whose words are translated (consents: current versions)."""
    consents = [ConsentText.objects.current(kind) for kind in ConsentText.Kind.values]
    models = [
        Condition,
        ConditionSection,
        KeyFigure,
        RiskFactor,
        DiagnosisStep,
        Symptom,
        TreatmentRecommendation,
        Treatment,
        FAQ,
        FAQTopic,
        Source,
        Page,
        AppointmentType,
        TrustMark,
        Practitioner,
        ClinicDetails,
    ]
    records = {model: list(model.objects.all()) for model in models}
    records[ConsentText] = [consent for consent in consents if consent]
    return records


@pytest.mark.django_db
@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_what_the_demo_has_in_danish_it_has_in_every_language(language):
    call_command("load_demo")
    records = loaded_records()
    empty = [model.__name__ for model, objects in records.items() if not objects]
    assert not empty, f"the demo has none of {empty}"
    missing = {
        f"{type(obj).__name__} {obj.pk} ({obj})": fields
        for objects in records.values()
        for obj in objects
        if (fields := missing_translations(obj, language))
    }
    assert missing == {}


SLUGGED = {Condition: "name", Treatment: "name", Page: "title"}


@pytest.mark.django_db
@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_each_language_has_its_own_unique_addresses(language):
    call_command("load_demo")
    for model, name in SLUGGED.items():
        slugs = []
        for obj in model.objects.all():
            slug = getattr(obj, f"slug_{language}")
            assert slug, f"{model.__name__} {obj} has no {language} address"
            slugs.append(slug)
            for other in ("da", "en"):
                if getattr(obj, f"{name}_{language}") != getattr(obj, f"{name}_{other}"):
                    assert slug != getattr(obj, f"slug_{other}"), (
                        f"{model.__name__} {obj}: the {language} address is the {other} one"
                    )
        assert len(slugs) == len(set(slugs)), f"{model.__name__}: {language} addresses repeat"


@pytest.mark.django_db
def test_the_german_neck_pain_page_has_a_german_address():
    call_command("load_demo")
    neck = Condition.objects.get(slug_da="nakkesmerter")
    with translation.override("de"):
        url = neck.get_absolute_url()
    assert url != "/de/beschwerden/neck-pain/"
    assert neck.slug_en not in url and url.startswith("/de/")


def test_a_data_file_is_parsed_once_per_version_and_each_reader_gets_its_own_copy(tmp_path):
    path = tmp_path / "part.da.yaml"
    path.write_text("name: Nakke\nrows: [a, b]\n", encoding="utf-8")
    first = demo_data.read(path)
    first["rows"].append("c")  # a loader pops and changes what it reads
    assert demo_data.read(path) == {"name": "Nakke", "rows": ["a", "b"]}
    path.write_text("name: Nakken\nrows: [a]\n", encoding="utf-8")  # another size: re-read
    assert demo_data.read(path) == {"name": "Nakken", "rows": ["a"]}
