"""Template helpers for languages and the site's layout."""

from django import template
from django.utils.html import format_html
from django.utils.translation import get_language

from clinic.i18n import field_language, language_alternates

register = template.Library()


@register.simple_tag
def lang_of(obj, field: str):
    """` lang="da"` when the field's text falls back to another language, else nothing.

    Use inside a tag: `<p{% lang_of practitioner "bio" %}>`.
    """
    if obj is None:
        return ""
    code = field_language(obj, field)
    if code == get_language():
        return ""
    return format_html(' lang="{}"', code)


@register.simple_tag(takes_context=True)
def alternates(context):
    """The same page in every language, for the switcher and hreflang links."""
    return language_alternates(context.get("request"), context.get("alternate_urls"))
