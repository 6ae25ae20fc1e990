"""Every demo page speaks its own language: inside `<main>`, no element's language (the `lang`
of its closest ancestor that has one) differs from the page's, in any of the five languages.

Testimonials are the exception: they are shown in the language they were written in, marked
with their own `lang` and labelled "Written in ..." (templates/testimonials/includes/card.html).
Content added later in one language only is still shown, marked with its language. And no
text stored in another language may be shown unmarked (a `lang` dropped from a template).
"""

from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from modeltranslation.translator import translator

from conditions.models import FAQ, Condition, FAQTopic, Treatment
from tests.conftest import axe_violations
from tests.site_walk import public_paths

LANGUAGES = [code for code, _name in settings.LANGUAGES]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
VOID |= {"track", "wbr"}
# A testimonial's own words, and the label that says which language they are in.
TESTIMONIAL = "testimonial-card"
TESTIMONIAL_WORDS = {"testimonial-title", "testimonial-text"}
TESTIMONIAL_LABEL = "testimonial-language"


class Element:
    def __init__(self, tag: str, lang: str | None, classes: set[str], parent: "Element | None"):
        self.tag = tag
        self.lang = lang or (parent.lang if parent else None)
        self.in_main = tag == "main" or bool(parent and parent.in_main)
        self.card = self if TESTIMONIAL in classes else (parent.card if parent else None)
        self.testimonial_words = bool(TESTIMONIAL_WORDS & classes) or bool(
            parent and parent.testimonial_words
        )
        self.foreign_words = False  # on a card: its words are in another language
        self.labelled = False  # on a card: it says which language


class LanguageWalk(HTMLParser):
    """The elements inside `<main>` whose language is not the page's."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[Element] = []
        self.page_language: str | None = None
        self.foreign: list[str] = []
        self.texts: list[tuple[str, str | None]] = []  # (text, its language) inside <main>

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.page_language = attrs.get("lang")
        parent = self.stack[-1] if self.stack else None
        classes = set((attrs.get("class") or "").split())
        element = Element(tag, attrs.get("lang"), classes, parent)
        if element.in_main and element.lang != self.page_language:
            if element.testimonial_words and element.card:
                element.card.foreign_words = True
            else:
                self.foreign.append(f'lang="{element.lang}": {self.get_starttag_text()}')
        if TESTIMONIAL_LABEL in classes and element.card:
            element.card.labelled = True
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_data(self, data):
        text = " ".join(data.split())
        if self.stack and self.stack[-1].in_main and text:
            self.texts.append((text, self.stack[-1].lang))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index].tag == tag:
                closed = self.stack[index]
                if closed.card is closed and closed.foreign_words and not closed.labelled:
                    self.foreign.append("a testimonial in another language without its label")
                del self.stack[index:]
                return


def walked(html: str) -> LanguageWalk:
    walk = LanguageWalk()
    walk.feed(html)
    walk.close()
    return walk


def foreign_elements(html: str) -> tuple[str | None, list[str]]:
    walk = walked(html)
    return walk.page_language, walk.foreign


# Long enough to belong to one language only (names and "Massage" are the same in several).
SENTENCE = 25


class TextNodes(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []

    def handle_data(self, data):
        self.texts += [" ".join(line.split()) for line in data.splitlines()]


def sentences(value: str) -> list[str]:
    """The pieces of a stored text (plain or rich) a page shows as separate text nodes."""
    parser = TextNodes()
    parser.feed(value)
    parser.close()
    return [text for text in parser.texts if len(text) >= SENTENCE]


def languages_of_stored_texts() -> dict[str, set[str]]:
    """Every translated text in the database, piece by piece, with the languages it is in."""
    found: dict[str, set[str]] = {}
    for model in translator.get_registered_models():
        fields = translator.get_options_for_model(model).all_fields
        for obj in model._default_manager.all():
            for field in fields:
                for code in LANGUAGES:
                    value = getattr(obj, f"{field}_{code}", None)
                    if isinstance(value, str):
                        for text in sentences(value):
                            found.setdefault(text, set()).add(code)
    return found


def unmarked_foreign_texts(walk: LanguageWalk, stored: dict[str, set[str]]) -> list[str]:
    """Texts in another language shown as if they were in the language they are marked with."""
    return [
        f"{sorted(stored[text])} shown as {language}: {text[:60]}"
        for text, language in walk.texts
        if text in stored and language not in stored[text]
    ]


@pytest.fixture
def demo_site(demo_for_the_module, db):
    """The whole demo, loaded once for the module's tests that only read it."""


@pytest.fixture
def committed_demo_site(transactional_db):
    """The whole demo, committed, for the live server the browser reads from."""
    call_command("load_demo")


# --- The parser itself --------------------------------------------------------------------


def test_the_walk_finds_text_in_another_language_and_lets_labelled_testimonials_be():
    page = '<html lang="nb"><body><header><a lang="da">Dansk</a></header><main>{}</main></html>'
    assert foreign_elements(page.format("<p>Norsk</p><img alt=''><br/>")) == ("nb", [])
    _lang, found = foreign_elements(page.format('<section><p lang="da">Dansk <b>tekst</b></p>'))
    assert found == ['lang="da": <p lang="da">', 'lang="da": <b>']
    card = (
        '<article class="testimonial-card"><blockquote class="testimonial-text" lang="sv">'
        "<p>Svensk</p></blockquote>{}</article>"
    )
    label = '<ul><li class="testimonial-language">Skrevet på svensk</li></ul>'
    assert foreign_elements(page.format(card.format(label)))[1] == []
    assert foreign_elements(page.format(card.format("")))[1] == [
        "a testimonial in another language without its label"
    ]
    # Only a testimonial's own words may be in another language, not the rest of its card.
    _lang, found = foreign_elements(page.format(card.format(label + '<p lang="da">x</p>')))
    assert found == ['lang="da": <p lang="da">']


def test_the_walk_finds_a_stored_text_of_another_language_shown_without_its_lang():
    danish = "Nakken bliver ofte stiv om morgenen."
    stored = {danish: {"da"}, "Den samme lange sætning på to sprog.": {"da", "nb"}}
    html = (
        f'<html lang="nb"><main><p>{danish}</p><p lang="da">{danish}</p>'
        "<p>Den samme lange sætning på to sprog.</p></main><p>{danish}</p></html>"
    )
    assert unmarked_foreign_texts(walked(html), stored) == [f"['da'] shown as nb: {danish}"]
    assert sentences("<p>Kort.</p><p>En lang nok sætning om nakken.\nOg endnu en linje.</p>") == [
        "En lang nok sætning om nakken."
    ]


# --- Every page of the demo, in every language ----------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_demo_page_is_in_its_own_language_inside_main(client, demo_site, language):
    paths = [path for path in public_paths(client) if path.startswith(f"/{language}/")]
    assert len(paths) >= 10, paths
    stored = languages_of_stored_texts()
    problems = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        walk = walked(response.content.decode())
        assert walk.page_language == language, path
        found = walk.foreign + unmarked_foreign_texts(walk, stored)
        if found:
            problems[path] = found[:5]
    assert problems == {}


@pytest.mark.django_db
def test_a_question_added_later_in_danish_only_shows_on_the_norwegian_page_marked_danish(
    client, demo_site
):
    neck = Condition.objects.get(slug_da="nakkesmerter")
    faq = FAQ.objects.create(
        question_da="Må jeg cykle dagen efter?",
        answer_da="<p>Ja, hvis nakken tillader det.</p>",
        topic=FAQTopic.objects.first(),
        published=True,
        order=99,
    )
    faq.conditions.add(neck)
    with translation.override("nb"):
        urls = [neck.get_absolute_url(), reverse("conditions:faq")]
    for url in urls:
        html = client.get(url).content.decode()
        assert '<summary lang="da">Må jeg cykle dagen efter?</summary>' in html, url
        assert '<div class="rich-text" lang="da"><p>Ja, hvis nakken tillader det.</p>' in html
        page_language, foreign = foreign_elements(html)
        assert page_language == "nb"
        assert 'lang="da": <summary lang="da">' in foreign, "the walk sees it"


# --- In a real browser: axe and the same rule, for the two pages patients read most --------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_neck_pain_and_gold_implantation_pass_axe_in_all_five_languages(visit, committed_demo_site):
    pages = [
        Condition.objects.get(slug_da="nakkesmerter"),
        Treatment.objects.get(slug_da="guldimplantation"),
    ]
    page = visit().page
    for language in LANGUAGES:
        for obj in pages:
            with translation.override(language):
                url = obj.get_absolute_url()
            response = page.goto(url)
            assert response.status == 200, url
            assert axe_violations(page) == [], url
            foreign = page.evaluate(
                """() => [...document.querySelectorAll('main *')]
                    .filter(e => !e.closest('.testimonial-card'))
                    .filter(e => e.closest('[lang]').lang !== document.documentElement.lang)
                    .map(e => e.outerHTML.slice(0, 80))"""
            )
            assert foreign == [], url
