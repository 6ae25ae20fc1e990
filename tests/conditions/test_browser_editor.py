"""In a real Chromium: an editor writes a condition page, previews the draft and publishes it.

Elements are found by id, name and CSS, never by their visible text in the admin,
so the test holds whichever language the interface speaks.
"""

import re

import pytest

from conditions.models import FAQ, Condition
from tests.conftest import screenshot
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECTIONS = [
    # kind, Danish heading, English heading, Danish body
    ("about", "Hvad er skuldersmerter?", "What is shoulder pain?", "Ondt i skulderen."),
    ("symptoms", "Symptomer", "Symptoms", "Stiv og øm skulder."),
]
QUESTION_DA = "Går skuldersmerter over af sig selv?"
QUESTION_EN = "Does shoulder pain go away by itself?"


def show_tab(page, field_id: str) -> None:
    """Click the language tab (django-modeltranslation) that holds the field."""
    page.locator(f'a[href="#tab_{field_id}"]').click()


def fill_translated(page, field_id: str, value: str) -> None:
    show_tab(page, field_id)
    field = page.locator(f"#{field_id}")
    field.wait_for(state="visible")
    field.fill(value)


def type_rich_text(page, field_id: str, text: str) -> None:
    """Type into the django-prose-editor that stands in for the hidden textarea."""
    show_tab(page, field_id)
    editor = page.locator(f".prose-editor:has(#{field_id}) [contenteditable=true]")
    editor.click()
    page.keyboard.type(text)
    # The editor writes its HTML back to the textarea the form submits.
    page.wait_for_function(
        "([id, text]) => document.getElementById(id).value.includes(text)",
        arg=[field_id, text],
    )


def save(page, button: str) -> None:
    with page.expect_navigation():
        page.locator(f"input[name={button}]").click()
    errors = page.locator(".errornote, .errorlist").all_inner_texts()
    assert errors == [], f"{page.url}: {errors}"
    assert page.locator(".messagelist .success").count() == 1, page.url


def log_in(page, username: str) -> None:
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "correct-horse-battery")
    with page.expect_navigation():
        page.locator("#login-form [type=submit]").click()
    assert not page.url.endswith("/admin/login/"), "the editor could not log in"


def switch_language(page, name: str, path: str) -> None:
    page.locator(".language-switcher summary").click()
    page.locator(".language-switcher a", has_text=re.compile(rf"^{name}$")).click()
    page.wait_for_url(f"**{path}")


def h2_texts(page) -> list[str]:
    return [text.strip() for text in page.locator("main h2, article h2").all_inner_texts()]


def test_an_editor_writes_previews_and_publishes_a_condition_in_a_browser(visit, demo):
    # `demo` gives the clinic's record, which every public page shows.
    UserFactory(username="eva", groups=["Editors"])
    editor = visit(viewport={"width": 1280, "height": 1600})
    page = editor.page
    js_errors = []
    page.on("pageerror", lambda error: js_errors.append(str(error)))
    log_in(page, "eva")

    # 1. The condition, with two sections, saved as a draft.
    page.goto("/admin/conditions/condition/add/")
    fill_translated(page, "id_name_da", "Skuldersmerter")
    fill_translated(page, "id_slug_da", "skuldersmerter")
    fill_translated(page, "id_summary_da", "Smerter i skulderen, og hvad du kan gøre ved dem.")
    fill_translated(page, "id_name_en", "Shoulder pain")
    fill_translated(page, "id_slug_en", "shoulder-pain")
    fill_translated(page, "id_summary_en", "Pain in the shoulder, and what you can do about it.")
    assert page.locator("select[name=status]").input_value() == "draft"

    add_section = page.locator("#sections-group .add-row a")
    for index, (kind, heading_da, heading_en, body_da) in enumerate(SECTIONS):
        prefix = f"id_sections-{index}"
        if page.locator(f"#{prefix}-heading_da").count() == 0:
            add_section.click()
        page.locator(f"#{prefix}-kind").select_option(kind)
        fill_translated(page, f"{prefix}-heading_da", heading_da)
        fill_translated(page, f"{prefix}-heading_en", heading_en)
        type_rich_text(page, f"{prefix}-body_da", body_da)
    assert page.locator("#id_sections-TOTAL_FORMS").input_value() == "2"
    screenshot(page, "editor-flow-condition-filled")

    save(page, "_continue")
    condition = Condition.objects.get(slug_da="skuldersmerter")
    change_path = f"/admin/conditions/condition/{condition.pk}/change/"
    assert page.url.endswith(change_path)
    assert condition.status == Condition.Status.DRAFT
    assert (condition.name_en, condition.slug_en) == ("Shoulder pain", "shoulder-pain")
    sections = list(condition.sections.all())
    assert [(s.kind, s.heading_da, s.heading_en) for s in sections] == [
        (kind, da, en) for kind, da, en, _body in SECTIONS
    ]
    assert [s.order for s in sections] == [1, 2]
    for section, (*_texts, body_da) in zip(sections, SECTIONS, strict=True):
        assert body_da in section.body_da

    # 2. A question and answer linked to it through the autocomplete widget.
    page.goto("/admin/conditions/faq/add/")
    fill_translated(page, "id_question_da", QUESTION_DA)
    type_rich_text(page, "id_answer_da", "Oftest, ja.")
    fill_translated(page, "id_question_en", QUESTION_EN)
    type_rich_text(page, "id_answer_en", "Usually, yes.")
    page.locator("#id_conditions + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill("Skulder")
    # The option reads in the admin's language; the search matches every language.
    page.locator(
        "#select2-id_conditions-results [role=option]",
        has_text=re.compile("^(Skuldersmerter|Shoulder pain)$"),
    ).click()
    assert page.locator("#id_conditions").evaluate(
        "select => Array.from(select.selectedOptions, option => option.value)"
    ) == [str(condition.pk)]
    save(page, "_save")
    faq = FAQ.objects.get(question_da=QUESTION_DA)
    assert faq.question_en == QUESTION_EN
    assert list(faq.conditions.all()) == [condition]

    # 3. The editor previews the draft; nobody else can see it.
    page.goto("/da/lidelser/skuldersmerter/?preview=1")
    assert page.locator(".preview-banner").is_visible()
    assert page.locator("h1").inner_text().strip() == "Skuldersmerter"
    headings = h2_texts(page)
    for _kind, heading_da, _heading_en, _body in SECTIONS:
        assert heading_da in headings
    assert page.locator(".faq summary", has_text=QUESTION_DA).count() == 1
    screenshot(page, "editor-flow-preview")

    anonymous = visit().page
    response = anonymous.goto("/da/lidelser/skuldersmerter/")
    assert response.status == 404
    response = anonymous.goto("/da/lidelser/skuldersmerter/?preview=1")
    assert response.status == 404, "only staff may preview"

    # 4. The editor publishes it.
    page.goto(change_path)
    page.locator("select[name=status]").select_option("published")
    save(page, "_continue")
    condition.refresh_from_db()
    assert condition.status == Condition.Status.PUBLISHED
    assert condition.is_public

    # 5. Everybody sees it, in Danish and in English.
    response = anonymous.goto("/da/lidelser/skuldersmerter/")
    assert response.status == 200
    assert anonymous.locator(".preview-banner").count() == 0
    assert anonymous.locator("h1").inner_text().strip() == "Skuldersmerter"
    headings = h2_texts(anonymous)
    for _kind, heading_da, _heading_en, _body in SECTIONS:
        assert heading_da in headings
    assert anonymous.locator(".faq summary", has_text=QUESTION_DA).count() == 1
    screenshot(anonymous, "editor-flow-published-da")

    switch_language(anonymous, "English", "/en/conditions/shoulder-pain/")
    assert anonymous.locator("html").get_attribute("lang") == "en"
    assert anonymous.locator("h1").inner_text().strip() == "Shoulder pain"
    headings = h2_texts(anonymous)
    for _kind, _heading_da, heading_en, _body in SECTIONS:
        assert heading_en in headings
    assert anonymous.locator(".faq summary", has_text=QUESTION_EN).count() == 1
    # The section bodies were written in Danish only: shown as Danish, marked as such.
    for _kind, _heading_da, _heading_en, body_da in SECTIONS:
        assert anonymous.locator('.rich-text[lang="da"]', has_text=body_da).count() == 1
    screenshot(anonymous, "editor-flow-published-en")

    switch_language(anonymous, "Dansk", "/da/lidelser/skuldersmerter/")
    assert anonymous.locator("h1").inner_text().strip() == "Skuldersmerter"

    assert js_errors == []
