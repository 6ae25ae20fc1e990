"""Template helpers for languages and the site's layout."""

import json

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from clinic.i18n import field_language, language_alternates, localized_name
from clinic.images import renditions_of
from clinic.models import format_phone

register = template.Library()


@register.simple_tag
def lang_of(obj, field: str):
    """` lang="da"` when the field's text falls back to another language, else nothing.

    Use inside a tag: `<p{% lang_of practitioner "bio" %}>`.
    """
    if obj is None:
        return ""
    language = get_language()
    if getattr(obj, localized_name(field, language), None) not in (None, ""):
        return ""  # the page's own language: its text is there (most calls end here)
    code = field_language(obj, field, language)
    if code == language:
        return ""
    return format_html(' lang="{}"', code)


@register.filter
def citation(source) -> str:
    """A question's source, as its list names it: the "[n]" link to the page's list of
    sources when numbered, then the title (with its own `lang` when it falls back), the
    publisher and the year. Made in Python: a page may name dozens."""
    number = (
        format_html('<a href="#source-{}">[{}]</a>', source.pk, source.number)
        if getattr(source, "number", None)
        else ""
    )
    publisher = format_html(", {}", source.publisher) if source.publisher else ""
    year = format_html(" ({})", source.year) if source.year else ""
    title = format_html("<cite{}>{}</cite>", lang_of(source, "title"), source.title)
    return format_html("{} {}{}{}", number, title, publisher, year)


_JSON_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@register.filter
def jsonld(nodes) -> str:
    """schema.org nodes as one JSON-LD graph, safe inside a <script> element."""
    from clinic.seo import graph

    data = graph(*nodes) if isinstance(nodes, list | tuple) else nodes
    return mark_safe(json.dumps(data, ensure_ascii=False).translate(_JSON_ESCAPES))  # noqa: S308


@register.simple_tag
def responsive_image(
    image,
    alt: str,
    sizes: str = "(min-width: 800px) 720px, 100vw",
    eager: bool = False,
    renditions: dict | None = None,
):
    """<picture> with WebP and JPEG copies at several widths (clinic/images.py).

    `renditions` are the copies the model stored when the image was saved; without
    them (or when they were made from another image) they are looked up now.
    """
    found = renditions_of(image, renditions)
    url = image.storage.url

    def srcset(fmt):
        return ", ".join(f"{url(name)} {width}w" for name, width, _height in found[fmt])

    largest_name, largest_width, largest_height = found["jpeg"][-1]
    return format_html(
        '<picture><source type="image/webp" srcset="{}" sizes="{}">'
        '<img src="{}" srcset="{}" sizes="{}" width="{}" height="{}" alt="{}" loading="{}"'
        ' decoding="async" class="img-fluid"></picture>',
        srcset("webp"),
        sizes,
        url(largest_name),
        srcset("jpeg"),
        sizes,
        largest_width,
        largest_height,
        alt,
        "eager" if eager else "lazy",
    )


@register.filter
def phone(value: str) -> str:
    """A stored number (+4520123456) as people write it: +45 20 12 34 56."""
    return format_phone(value)


@register.filter
def nowrap(value) -> str:
    """The text in a span that never breaks across lines, e.g. a phone number in a sentence."""
    return format_html('<span class="text-nowrap">{}</span>', value)


@register.simple_tag(takes_context=True)
def alternates(context):
    """The same page in every language, for the switcher and hreflang links."""
    return language_alternates(context.get("request"), context.get("alternate_urls"))
