"""Languages: which language a translated value really comes from, and per-language URLs."""

import functools
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import get_script_prefix, get_urlconf, reverse, translate_url
from django.utils import translation
from django.utils.html import format_html
from modeltranslation.settings import FALLBACK_LANGUAGES
from modeltranslation.utils import build_localized_fieldname, resolution_order


def site_languages() -> list[str]:
    """The site's language codes, in settings.LANGUAGES order."""
    return [code for code, _name in settings.LANGUAGES]


@functools.cache
def fallback_order(language: str) -> tuple[str, ...]:
    """The language itself first, then the languages modeltranslation falls back to.

    Fixed when the site starts (modeltranslation reads its settings once), so kept.
    """
    return resolution_order(language, FALLBACK_LANGUAGES)


# A field's column in a language ("name", "da" -> "name_da"); pages ask hundreds of times.
localized_name = functools.cache(build_localized_fieldname)


def field_language(obj, field: str, language: str | None = None) -> str:
    """The language whose text is shown for `obj.field` in `language`.

    With fallbacks, a Norwegian page may show Danish text; the template marks it
    with its own `lang` attribute so screen readers pronounce it right.
    """
    language = language or translation.get_language()
    for code in fallback_order(language):
        if getattr(obj, localized_name(field, code), None) not in (None, ""):
            return code
    return language


def in_own_language(obj, field: str):
    """The field's text, in a `<span lang>` when it is shown in a fallback language."""
    text = getattr(obj, field)
    code = field_language(obj, field)
    if code != translation.get_language():
        return format_html('<span lang="{}">{}</span>', code, text)
    return text


def translated_slug(obj, language: str) -> str:
    """The object's slug in `language`, or in the language it falls back to."""
    for code in fallback_order(language):
        if slug := getattr(obj, build_localized_fieldname("slug", code), ""):
            return slug
    return ""


# A slug no page has, standing in for the real one in a memoised address.
_SLUG_STANDIN = "0slug0"


@functools.lru_cache(maxsize=512)
def _address_with_standin(url_name: str, language: str, urlconf: str, prefix: str) -> str:
    return reverse(url_name, kwargs={"slug": _SLUG_STANDIN}, urlconf=urlconf)


def slug_address(url_name: str, slug: str) -> str:
    """`reverse(url_name, kwargs={"slug": slug})` in the active language, without its cost.

    A page lists dozens of links; the address around the slug is the same for each, so
    it is reversed once per name, language and URL configuration and the slug put in.
    Slugs are letters, digits, hyphens and underscores: nothing in them needs quoting.
    """
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    template = _address_with_standin(
        url_name, translation.get_language(), urlconf, get_script_prefix()
    )
    return template.replace(_SLUG_STANDIN, slug, 1)


def get_by_translated_slug(queryset: QuerySet, slug: str, language: str | None = None):
    """Find the object whose slug in `language` (or its fallback) is `slug`.

    Returns None when nothing matches. A page without a Norwegian slug is found at
    its Danish slug under /nb/, just as its text falls back to Danish.
    """
    language = language or translation.get_language()
    order = fallback_order(language)
    condition = Q()
    empty_so_far = Q()
    for code in order:
        field = build_localized_fieldname("slug", code)
        condition |= empty_so_far & Q(**{field: slug})
        empty_so_far &= Q(**{field: ""}) | Q(**{f"{field}__isnull": True})
    return queryset.filter(condition).first()


@dataclass(frozen=True)
class Alternate:
    code: str
    name: str
    url: str


def alternates_for_object(obj) -> dict[str, str]:
    """The URL of an object's page in every language (each with its own slug)."""
    urls = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            urls[code] = obj.get_absolute_url()
    return urls


@functools.lru_cache(maxsize=1024)
def _translated_url(path: str, code: str, current: str, urlconf: str, prefix: str) -> str:
    """`translate_url`, which resolves and reverses: the same path gives the same answer."""
    return translate_url(path, code)


def language_alternates(request, urls: dict[str, str] | None = None) -> list[Alternate]:
    """One link per language to the same page; views with translated slugs pass `urls`."""
    path = request.get_full_path() if request else "/"
    current = translation.get_language()
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    prefix = get_script_prefix()
    result = []
    for code, _name in settings.LANGUAGES:
        if urls and code in urls:
            url = urls[code]
        else:
            url = _translated_url(path, code, current, urlconf, prefix)
            if url == path and code != current and path.startswith(f"/{current}/"):
                # A path that does not resolve (a 404 page): swap the prefix, so the
                # visitor at least reads the error page in the language chosen.
                url = f"/{code}/" + path[len(current) + 2 :]
        result.append(
            Alternate(code=code, name=translation.get_language_info(code)["name_local"], url=url)
        )
    return result
