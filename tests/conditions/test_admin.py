"""The content admin: language tabs, sortable inlines, clear errors and the translation status."""

import io
import os
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from clinic.models import Page
from conditions.models import FAQ, Condition, ConditionSection, Treatment
from tests.conditions.factories import (
    ConditionFactory,
    FAQFactory,
    KeyFigureFactory,
    RecommendationFactory,
    SectionFactory,
    TreatmentFactory,
)
from tests.conftest import screenshot
from tests.factories import ConsentTextFactory, PageFactory, PractitionerFactory, UserFactory

pytestmark = pytest.mark.django_db

LANGUAGES = [code for code, _name in settings.LANGUAGES]
INLINE_PREFIXES = [
    "sections",
    "figures",
    "recommendations",
    "symptoms",
    "risk_factors",
    "diagnosis_steps",
]


@pytest.fixture
def editor(client):
    """The test client, logged in as an editor whose admin speaks English."""
    client.force_login(UserFactory(groups=["Editors"]))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


# --- Reading and posting the real admin forms -------------------------------------


class FormInputs(HTMLParser):
    """The values a browser would submit from the admin's change form."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.in_form = False
        self.data: dict[str, list[str]] = {}
        self.select: tuple[str, bool, list, list] | None = None  # name, multiple, chosen, all
        self.textarea: str | None = None

    def add(self, name, value):
        if name and "__prefix__" not in name:
            self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.in_form = attrs.get("id") == self.form_id
        if not self.in_form:
            return
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self.add(attrs.get("name"), attrs.get("value") or "on")
                return
            self.add(attrs.get("name"), attrs.get("value") or "")
        elif tag == "select":
            self.select = (attrs.get("name"), "multiple" in attrs, [], [])
        elif tag == "option" and self.select:
            value = attrs.get("value") or ""
            self.select[3].append(value)
            if "selected" in attrs:
                self.select[2].append(value)
        elif tag == "textarea":
            self.textarea = attrs.get("name")
            self.add(self.textarea, "")

    def handle_data(self, data):
        if self.textarea and "__prefix__" not in self.textarea:
            self.data[self.textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False
        elif tag == "textarea" and self.textarea:
            if "__prefix__" not in self.textarea:
                # The browser drops the newline that follows <textarea>.
                self.data[self.textarea][-1] = self.data[self.textarea][-1].removeprefix("\n")
            self.textarea = None
        elif tag == "select" and self.select:
            name, multiple, chosen, options = self.select
            for value in chosen or ([] if multiple or not options else options[:1]):
                self.add(name, value)
            self.select = None


def form_data(response) -> dict[str, list[str]]:
    assert response.status_code == 200
    parser = FormInputs(f"{response.context['opts'].model_name}_form")
    parser.feed(response.content.decode())
    assert parser.data, "the change form was not found"
    return parser.data


def submit(client, url, changes=None, files=None):
    """GET the admin page, change some values like an editor would, and POST it."""
    data = form_data(client.get(url))
    for name, value in (changes or {}).items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value if isinstance(value, list) else [str(value)]
    data.update(files or {})
    return client.post(url, data)


def add_inline_rows(changes: dict, prefix: str, rows: list[dict]) -> dict:
    changes[f"{prefix}-TOTAL_FORMS"] = len(rows)
    for index, row in enumerate(rows):
        for name, value in row.items():
            changes[f"{prefix}-{index}-{name}"] = value
    return changes


def form_errors(response) -> dict:
    assert response.status_code == 200, "expected the form again, with errors"
    return response.context["adminform"].form.errors


def inline_errors(response, prefix: str) -> list[dict]:
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.prefix == prefix:
            return [form.errors for form in inline.formset.forms]
    raise AssertionError(f"no inline {prefix}")


def an_image(name="photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def fully_translated(factory, **fields):
    """An object with every translated text filled in every language."""
    from clinic.translation_status import translated_text_fields

    obj = factory(**fields)
    for name in translated_text_fields(type(obj)):
        for code in LANGUAGES:
            localized = f"{name}_{code}"
            if not getattr(obj, localized):
                base = getattr(obj, f"{name}_da") or name
                setattr(obj, localized, f"{base}-{code}" if name == "slug" else f"{base} {code}")
    obj.save()
    return obj


CONDITION_ADD = "/admin/conditions/condition/add/"
TREATMENT_ADD = "/admin/conditions/treatment/add/"
FAQ_ADD = "/admin/conditions/faq/add/"


def change_url(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


# --- The pages render, with language tabs and drag-and-drop ------------------------


def test_the_change_page_of_a_condition_renders_with_sortable_translated_inlines(editor):
    condition = ConditionFactory()
    SectionFactory.create_batch(2, condition=condition)
    KeyFigureFactory(condition=condition)
    RecommendationFactory(condition=condition)

    response = editor.get(change_url(condition))

    assert response.status_code == 200
    html = response.content.decode()
    classes = {i.formset.prefix: i.classes for i in response.context["inline_admin_formsets"]}
    assert list(classes) == INLINE_PREFIXES
    for prefix in INLINE_PREFIXES:
        assert "sortable" in classes[prefix].split()
        assert re.search(
            rf'<fieldset class="module[^"]*\bsortable\b[^"]*"[^>]*{prefix}-heading', html
        )
    # Each row carries the hidden order the drag and drop writes to ...
    assert 'name="sections-1-order"' in html and 'class="_reorder_"' in html
    assert 'class="sort"' in html  # ... and the buttons to move it first or last
    # ... and its texts in language tabs.
    for code in LANGUAGES:
        assert f"mt-field-heading-{code}" in html
        assert f"mt-field-value-{code}" in html
    assert "adminsortable2/js/adminsortable2" in html
    assert "modeltranslation/js/tabbed_translation_fields.js" in html


def test_view_on_site_opens_the_public_page_as_a_preview(editor):
    condition = ConditionFactory(status=Condition.Status.DRAFT)
    treatment = TreatmentFactory()
    for obj in (condition, treatment):
        html = editor.get(change_url(obj)).content.decode()
        with translation.override("en"):
            assert f'href="{obj.get_absolute_url()}?preview=1"' in html


@pytest.mark.parametrize(
    "url",
    [
        "/admin/conditions/condition/",
        "/admin/conditions/treatment/",
        "/admin/conditions/faq/",
        "/admin/conditions/faqtopic/",
        "/admin/conditions/source/",
        CONDITION_ADD,
        TREATMENT_ADD,
        FAQ_ADD,
        "/admin/conditions/faqtopic/add/",
        "/admin/conditions/source/add/",
    ],
)
def test_every_content_admin_page_opens(editor, url):
    FAQFactory(conditions=[ConditionFactory()])
    assert editor.get(url).status_code == 200


def test_the_questions_are_put_in_order_by_drag_and_drop_in_the_list(editor):
    first, second = FAQFactory(order=1), FAQFactory(order=2)
    response = editor.get("/admin/conditions/faq/")
    html = response.content.decode()
    assert 'id="admin_sortable2_config"' in html
    assert f'class="drag handle" pk="{first.pk}"' in html

    response = editor.post(
        reverse("admin:conditions_faq_sortable_update"),
        {"updatedItems": [[second.pk, 1], [first.pk, 2]]},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert list(FAQ.objects.values_list("pk", flat=True)) == [second.pk, first.pk]


# --- An editor builds a condition's page --------------------------------------------


def test_an_editor_creates_a_condition_with_two_sections_and_a_question(editor):
    changes = {"name_da": "Nakkesmerter", "slug_da": "nakkesmerter", "name_en": "Neck pain"}
    add_inline_rows(
        changes,
        "sections",
        [
            {"kind": "about", "heading_da": "Hvad er nakkesmerter?", "body_da": "<p>Ondt.</p>"},
            {"kind": "symptoms", "heading_da": "Symptomer", "body_da": "<p>Stiv nakke.</p>"},
        ],
    )
    add_inline_rows(changes, "symptoms", [{"text_da": "Stivhed"}])

    response = submit(editor, CONDITION_ADD, changes)

    assert response.status_code == 302, form_errors(response)
    condition = Condition.objects.get(slug_da="nakkesmerter")
    assert condition.status == Condition.Status.DRAFT
    assert [s.heading_da for s in condition.sections.all()] == [
        "Hvad er nakkesmerter?",
        "Symptomer",
    ]
    assert [s.order for s in condition.sections.all()] == [1, 2]
    assert condition.symptoms.get().text_da == "Stivhed"

    response = submit(
        editor,
        FAQ_ADD,
        {
            "question_da": "Går det over af sig selv?",
            "answer_da": "<p>Oftest, ja.</p>",
            "conditions": [condition.pk],
        },
    )

    assert response.status_code == 302, form_errors(response)
    assert FAQ.objects.get().conditions.get() == condition


def test_editing_a_condition_keeps_its_sections_and_their_order(editor):
    condition = ConditionFactory()
    first = SectionFactory(condition=condition, order=1)
    second = SectionFactory(condition=condition, order=2)
    # As after dragging the second section above the first.
    response = submit(editor, change_url(condition), {"sections-0-order": 2, "sections-1-order": 1})
    assert response.status_code == 302, form_errors(response)
    assert list(condition.sections.all()) == [second, first]


# --- Bad input gives a clear error on the right field and saves nothing ---------------


@pytest.mark.parametrize(
    ("url", "model", "factory"),
    [
        (CONDITION_ADD, Condition, ConditionFactory),
        (TREATMENT_ADD, Treatment, TreatmentFactory),
    ],
)
def test_an_address_used_in_the_same_language_is_refused(editor, url, model, factory):
    factory(slug_da="nakke", slug_en="neck")
    response = submit(
        editor, url, {"name_da": "Ny", "slug_da": "ny", "name_en": "New", "slug_en": "neck"}
    )
    assert form_errors(response)["slug_en"] == ["This address is already used in this language."]
    assert model.objects.count() == 1


def test_an_address_used_in_another_language_is_allowed(editor):
    ConditionFactory(slug_da="nakke", slug_en="neck")
    response = submit(editor, CONDITION_ADD, {"name_da": "Ny", "slug_da": "neck"})
    assert response.status_code == 302, form_errors(response)


def test_a_section_image_needs_a_description(editor):
    changes = add_inline_rows(
        {"name_da": "Nakkesmerter", "slug_da": "nakkesmerter"},
        "sections",
        [{"kind": "about", "heading_da": "Hvad er det?"}],
    )
    response = submit(editor, CONDITION_ADD, changes, files={"sections-0-image": an_image()})

    errors = inline_errors(response, "sections")[0]
    assert errors["image_alt_da"] == [
        "Describe the image in every language the section has a heading in."
    ]
    assert not Condition.objects.exists() and not ConditionSection.objects.exists()


def test_a_medical_review_date_in_the_future_is_refused(editor):
    doctor = PractitionerFactory()
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = submit(
        editor,
        CONDITION_ADD,
        {
            "name_da": "Nakkesmerter",
            "slug_da": "nakkesmerter",
            "reviewed_on_da": tomorrow.isoformat(),
            "reviewed_by_da": doctor.pk,
        },
    )
    assert form_errors(response)["reviewed_on_da"] == ["The review date cannot be in the future."]
    assert not Condition.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name_en", "<b>Neck pain</b>"),
        ("summary_da", '<p style="color:red">Ondt i nakken.</p>'),
        ("meta_description_de", "<script>alert(1)</script>"),
    ],
)
def test_html_in_a_plain_text_field_is_refused(editor, field, value):
    changes = {"name_da": "Nakkesmerter", "slug_da": "nakkesmerter", field: value}
    response = submit(editor, CONDITION_ADD, changes)
    assert form_errors(response)[field] == [
        "This field takes plain text. Please remove the HTML tags."
    ]
    assert not Condition.objects.exists()


def test_html_in_a_plain_text_field_of_an_inline_is_refused(editor):
    changes = add_inline_rows(
        {"name_da": "Nakkesmerter", "slug_da": "nakkesmerter"},
        "symptoms",
        [{"text_da": "<em>Stivhed</em>"}],
    )
    response = submit(editor, CONDITION_ADD, changes)
    assert "text_da" in inline_errors(response, "symptoms")[0]
    assert not Condition.objects.exists()


def test_a_question_must_be_linked_to_a_condition_or_a_treatment(editor):
    response = submit(editor, FAQ_ADD, {"question_da": "Hvorfor?", "answer_da": "<p>Derfor.</p>"})
    assert form_errors(response)["conditions"] == [
        "Link the question to at least one condition or treatment: it is shown on their pages."
    ]
    assert not FAQ.objects.exists()

    treatment = TreatmentFactory()
    response = submit(
        editor,
        FAQ_ADD,
        {"question_da": "Hvorfor?", "answer_da": "<p>Derfor.</p>", "treatments": [treatment.pk]},
    )
    assert response.status_code == 302, form_errors(response)


def test_an_existing_question_cannot_be_unlinked_from_everything(editor):
    faq = FAQFactory(conditions=[ConditionFactory()])
    response = submit(editor, change_url(faq), {"conditions": None})
    assert "conditions" in form_errors(response)
    assert faq.conditions.exists()


# --- The error summary names the language of each field -------------------------------


def test_the_error_summary_names_the_language_of_a_field_in_a_hidden_tab(editor):
    ConditionFactory(slug_en="neck-pain")
    changes = add_inline_rows(
        {"name_da": "Nakkesmerter", "slug_da": "nakkesmerter", "slug_en": "neck-pain"},
        "sections",
        [{"kind": "about", "heading_da": "Hvad er det?", "heading_sv": "<b>Vad</b>"}],
    )

    response = submit(editor, CONDITION_ADD, changes)

    assert response.status_code == 200
    html = response.content.decode()
    summary = re.search(r'<div[^>]*role="alert"[^>]*>(.*?)</div>', html, re.S)
    assert summary, "no error summary with role=alert"
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", summary.group(1)))
    assert "Address (EN): This address is already used in this language." in text
    assert "Section 1: Heading (SV): This field takes plain text." in text
    assert '<a href="#id_slug_en">' in summary.group(1)
    assert '<a href="#id_sections-0-heading_sv">' in summary.group(1)
    assert 'id="id_slug_en"' in html and 'id="id_sections-0-heading_sv"' in html


def test_there_is_no_error_summary_without_errors(editor):
    html = editor.get(CONDITION_ADD).content.decode()
    assert 'role="alert"' not in html


def test_the_clinic_admins_have_the_error_summary_too(editor):
    PageFactory(slug_en="about")
    response = submit(
        editor, "/admin/clinic/page/add/", {"title_da": "Om", "slug_da": "om", "slug_en": "about"}
    )
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert "Address (EN)" in response.content.decode()
    assert not Page.objects.filter(slug_da="om").exists()


# --- Translation status in the lists --------------------------------------------------


def test_the_list_has_a_column_per_language(editor):
    done = fully_translated(ConditionFactory)
    missing = ConditionFactory(summary_en="")

    response = editor.get("/admin/conditions/condition/")

    html = response.content.decode()
    for code in ["en", "nb", "sv", "de"]:
        assert re.search(
            rf'<th scope="col" class="column-translated_{code}">.*?{code.upper()}', html, re.S
        )
    assert "column-translated_da" not in html
    admin = response.context["cl"].model_admin
    assert admin.translated_en(done) and admin.translated_de(done)
    assert not admin.translated_en(missing)
    rows = re.findall(r"<tr[^>]*>.*?</tr>", html.split("<tbody>")[1], re.S)

    def row(obj):
        return next(r for r in rows if change_url(obj) in r)

    assert re.search(r'class="field-translated_en"><img src="[^"]*icon-yes', row(done))
    assert re.search(r'class="field-translated_en"><img src="[^"]*icon-no', row(missing))


@pytest.mark.parametrize(
    ("url", "make"),
    [
        ("/admin/conditions/condition/", lambda **kw: ConditionFactory(**kw)),
        ("/admin/conditions/treatment/", lambda **kw: TreatmentFactory(**kw)),
        ("/admin/conditions/faq/", lambda **kw: FAQFactory(**kw)),
        ("/admin/clinic/page/", lambda **kw: PageFactory(**kw)),
    ],
)
def test_the_missing_a_translation_filter_finds_exactly_the_untranslated(editor, url, make):
    done = fully_translated(make)
    # Missing English in one field; another has no Danish either, so it is not missing.
    text_field = {
        "/admin/conditions/condition/": "summary",
        "/admin/conditions/treatment/": "summary",
        "/admin/conditions/faq/": "answer",
        "/admin/clinic/page/": "body",
    }[url]
    empty = fully_translated(make)
    model = type(done)
    model.objects.filter(pk=empty.pk).update(**{f"{text_field}_{c}": "" for c in LANGUAGES})
    missing_en = fully_translated(make)
    model.objects.filter(pk=missing_en.pk).update(**{f"{text_field}_en": None})
    missing_sv = fully_translated(make)
    model.objects.filter(pk=missing_sv.pk).update(**{f"{text_field}_sv": ""})

    def listed(language):
        response = editor.get(url, {"missing_translation": language})
        assert response.status_code == 200
        return set(response.context["cl"].result_list)

    assert listed("en") == {missing_en}
    assert listed("sv") == {missing_sv}
    assert listed("de") == set()
    assert set(editor.get(url).context["cl"].result_list) == {done, empty, missing_en, missing_sv}


# --- The overview of missing translations ---------------------------------------------


def overview_items(response, code):
    for language, _name, groups in response.context["languages"]:
        if language == code:
            return {item.url: item for group in groups for item in group.objects}
    raise AssertionError(code)


def test_the_overview_lists_what_is_missing_per_language(editor):
    done = fully_translated(ConditionFactory)
    missing = fully_translated(ConditionFactory)
    Condition.objects.filter(pk=missing.pk).update(introduction_en="")
    section = fully_translated(SectionFactory, condition=done)
    ConditionSection.objects.filter(pk=section.pk).update(heading_nb=None)
    page = PageFactory(body_en="<p>Text</p>")  # Danish and English only

    response = editor.get("/admin/translations/")

    assert response.status_code == 200
    english = overview_items(response, "en")
    assert change_url(missing) in english
    assert english[change_url(missing)].missing == ["Introduction"]
    assert change_url(done) not in english
    norwegian = overview_items(response, "nb")
    # The section is edited on its condition's page.
    assert norwegian[change_url(done)].missing == ["Heading"]
    assert change_url(page) in norwegian and change_url(page) not in english
    html = response.content.decode()
    assert f'href="{change_url(missing)}"' in html
    assert f'href="{change_url(done)}"' in html  # for its section, in Norwegian


def test_the_overview_checks_only_the_consent_text_in_use(editor):
    old = ConsentTextFactory(text_nb="")
    old.mark_shown()
    current = old.new_version()
    response = editor.get("/admin/translations/")
    assert change_url(current) in overview_items(response, "nb")
    assert change_url(old) not in overview_items(response, "nb")


def test_the_overview_makes_one_query_per_model(editor):
    ConditionFactory(summary_en="")
    with CaptureQueriesContext(connection) as few:
        editor.get("/admin/translations/")
    for _ in range(5):
        condition = ConditionFactory(summary_en="")
        SectionFactory(condition=condition, heading_en="")
        FAQFactory(conditions=[condition], answer_en="")
    with CaptureQueriesContext(connection) as many:
        editor.get("/admin/translations/")
    assert len(many) == len(few)


def test_the_overview_is_for_staff_only(client):
    response = client.get("/admin/translations/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    client.force_login(UserFactory(is_staff=False))
    assert client.get("/admin/translations/").status_code == 302


def test_the_admin_index_links_to_the_overview(editor):
    html = editor.get("/admin/").content.decode()
    assert f'href="{reverse("admin:translation_status")}"' in html


# --- In a real browser: the tabs and the drag and drop work together ------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_sections_are_reordered_by_dragging_in_a_browser(visit):
    condition = ConditionFactory()
    SectionFactory(condition=condition, order=1, heading_da="Første")
    SectionFactory(condition=condition, order=2, heading_da="Anden")
    KeyFigureFactory(condition=condition, order=1)
    KeyFigureFactory(condition=condition, order=2)
    UserFactory(username="eva", groups=["Editors"])
    # Tall enough that the whole form is in view for the mouse.
    page = visit(viewport={"width": 1280, "height": 4200}).page
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/admin/login/")
    page.fill("#id_username", "eva")
    page.fill("#id_password", "correct-horse-battery")
    with page.expect_navigation():
        page.locator("input[type=submit]").click()
    page.goto(change_url(condition))
    page.wait_for_load_state("load")

    assert page.locator("#sections-group .ui-tabs").count() == 8  # 4 texts x 2 sections
    assert page.locator("#figures-group .ui-tabs").count() == 4  # 2 texts x 2 rows
    # The language tabs must not cover a row's drag handle.
    covered = page.evaluate(
        """() => Array.from(document.querySelectorAll('.tabular tr.has_original td.original p'))
        .flatMap(p => { const r = p.getBoundingClientRect();
          return [0.1, 0.3, 0.5, 0.9].map(f => document.elementFromPoint(r.x + r.width * f,
            r.y + r.height / 2)).filter(el => !p.contains(el)).map(el => el.className); })"""
    )
    assert covered == []

    handles = page.locator("#sections-group .inline-related.has_original > h3")
    source, target = handles.nth(1).bounding_box(), handles.nth(0).bounding_box()
    page.mouse.move(source["x"] + 100, source["y"] + 5)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(
            source["x"] + 100, source["y"] + 5 + (target["y"] - source["y"]) * step / 20
        )
    page.mouse.up()
    with page.expect_navigation():
        page.locator("input[name=_continue]").click()
    screenshot(page, "admin-condition-sections-reordered")

    assert page.locator(".errornote").count() == 0
    assert [s.heading_da for s in condition.sections.all()] == ["Anden", "Første"]
    assert errors == []


def noise_png(width: int, height: int) -> bytes:
    """A real PNG that does not compress: random pixels."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xff\xd8\xff\xe0 this is not really a JPEG", "Upload a valid image"),
        (noise_png(2000, 1850), "The image is too large"),
    ],
    ids=["corrupt", "over-10-MB"],
)
def test_a_corrupt_or_oversized_section_image_gets_a_form_error(editor, content, expected):
    changes = add_inline_rows(
        {"name_da": "Nakkesmerter", "slug_da": "nakkesmerter"},
        "sections",
        [{"kind": "about", "heading_da": "Hvad er det?", "image_alt_da": "Billede"}],
    )
    upload = SimpleUploadedFile("scan.png", content)
    response = submit(editor, CONDITION_ADD, changes, files={"sections-0-image": upload})
    assert response.status_code == 200
    assert any(expected in message for message in inline_errors(response, "sections")[0]["image"])
    assert not Condition.objects.exists()


def test_a_decompression_bomb_image_gets_a_form_error(editor):
    buffer = io.BytesIO()
    # 20000 x 20000 pixels of one colour: a few hundred kB on disk, 1.2 GB decoded.
    Image.new("L", (20_000, 20_000)).save(buffer, "PNG", optimize=True)
    changes = add_inline_rows(
        {"name_da": "Nakkesmerter", "slug_da": "nakkesmerter"},
        "sections",
        [{"kind": "about", "heading_da": "Hvad er det?", "image_alt_da": "Billede"}],
    )
    upload = SimpleUploadedFile("bomb.png", buffer.getvalue())
    response = submit(editor, CONDITION_ADD, changes, files={"sections-0-image": upload})
    assert response.status_code == 200
    assert inline_errors(response, "sections")[0]["image"]
    assert not Condition.objects.exists()
