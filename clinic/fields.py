"""Model fields shared by the apps."""

import json

from django.contrib.admin.widgets import AdminTextareaWidget
from django.forms import Script
from django.utils.translation import pgettext_lazy
from django_prose_editor.fields import ProseEditorField, ProseEditorFormField
from django_prose_editor.widgets import AdminProseEditorWidget, ProseEditorWidget

# What staff may use in rich text: headings, paragraphs, lists, links, bold, italic.
RICH_TEXT_EXTENSIONS = {
    "Heading": {"levels": [2, 3]},
    "Bold": True,
    "Italic": True,
    "BulletList": True,
    "OrderedList": True,
    "ListItem": True,
    "Link": {"enableTarget": False, "protocols": ["http", "https", "mailto", "tel"]},
}


# The editor's own English words (keys, exactly as django-prose-editor writes them in
# its menu's tooltips, its block types and its dialogs), and what staff read instead;
# static/js/prose-editor-labels.js puts them in their place.
EDITOR_WORDS = {
    "paragraph": pgettext_lazy("rich-text editor", "Paragraph"),
    "Paragraph": pgettext_lazy("rich-text editor", "Paragraph"),
    "question_mark": pgettext_lazy("rich-text editor", "Text style"),
    "unordered list": pgettext_lazy("rich-text editor", "Bulleted list"),
    "ordered list": pgettext_lazy("rich-text editor", "Numbered list"),
    "bold": pgettext_lazy("rich-text editor", "Bold"),
    "italic": pgettext_lazy("rich-text editor", "Italic"),
    "insert link": pgettext_lazy("rich-text editor", "Add or change a link"),
    "remove link": pgettext_lazy("rich-text editor", "Remove the link"),
    "undo": pgettext_lazy("rich-text editor", "Undo"),
    "redo": pgettext_lazy("rich-text editor", "Redo"),
    # The link's dialog
    "Edit Link": pgettext_lazy("rich-text editor", "Link"),
    "URL": pgettext_lazy("rich-text editor", "Web address"),
    "Title": pgettext_lazy("rich-text editor", "Text shown when pointing at the link"),
    "Update": pgettext_lazy("rich-text editor", "Save"),
    # The numbered list's dialog
    "List properties": pgettext_lazy("rich-text editor", "Numbering"),
    "List type": pgettext_lazy("rich-text editor", "Numbered with"),
    "Start at": pgettext_lazy("rich-text editor", "Start at"),
    "Decimal numbers": pgettext_lazy("rich-text editor", "Numbers"),
    "Lowercase letters": pgettext_lazy("rich-text editor", "Small letters"),
    "Uppercase letters": pgettext_lazy("rich-text editor", "Capital letters"),
    "Lowercase Roman numerals": pgettext_lazy("rich-text editor", "Small Roman numerals"),
    "Uppercase Roman numerals": pgettext_lazy("rich-text editor", "Capital Roman numerals"),
    "Bullets": pgettext_lazy("rich-text editor", "Bullets"),
}
HEADING = pgettext_lazy("rich-text editor", "Heading %(level)d")


def editor_labels() -> dict[str, str]:
    """EDITOR_WORDS in the active language, with a name for each heading level."""
    labels = {word: str(label) for word, label in EDITOR_WORDS.items()}
    for level in RICH_TEXT_EXTENSIONS["Heading"]["levels"]:
        labels[f"heading {level}"] = labels[f"Heading {level}"] = str(HEADING) % {"level": level}
    return labels


class LabelledEditorMixin:
    """The editor's menu and dialogs in the page's language (static/js/prose-editor-labels.js)."""

    @property
    def media(self):
        editor = super().media
        labels = json.dumps(editor_labels(), ensure_ascii=False, sort_keys=True)
        # A classic script, first: it must run before the editor's modules.
        own = type(editor)(js=[Script("js/prose-editor-labels.js", **{"data-labels": labels})])
        return own + editor


class LabelledProseEditorWidget(LabelledEditorMixin, ProseEditorWidget):
    pass


class LabelledAdminProseEditorWidget(LabelledEditorMixin, AdminProseEditorWidget):
    pass


class RichTextFormField(ProseEditorFormField):
    """The library's form field, with the widgets that speak the page's language."""

    def __init__(self, *args, **kwargs):
        widget = kwargs.get("widget")
        if widget and _is_widget(widget, AdminTextareaWidget):
            kwargs["widget"] = LabelledAdminProseEditorWidget
        elif not widget or not _is_widget(widget, ProseEditorWidget):
            kwargs["widget"] = LabelledProseEditorWidget
        super().__init__(*args, **kwargs)


def _is_widget(widget, widget_class) -> bool:
    if isinstance(widget, type):
        return issubclass(widget, widget_class)
    return isinstance(widget, widget_class)


class RichTextField(ProseEditorField):
    """Rich text edited with ProseMirror and sanitised with nh3 on every save.

    The editor's own sanitising runs only through forms; cleaning again in
    `pre_save` means text written by code (demo content, imports) is safe too.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("extensions", RICH_TEXT_EXTENSIONS)
        kwargs.setdefault("sanitize", True)
        super().__init__(*args, **kwargs)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": RichTextFormField, **kwargs})

    def pre_save(self, model_instance, add):
        value = super().pre_save(model_instance, add)
        if not value:
            return value
        value = self.sanitize(value)
        # With modeltranslation, the untranslated field (`body`) reads and writes the
        # current language's field (`body_en`) with fallbacks: writing the sanitised
        # fallback text back would copy Danish into English. The language fields
        # (`body_da`, ...) are saved, and sanitised, on their own.
        if not is_translated_original(model_instance, self.name):
            setattr(model_instance, self.attname, value)
        return value


def is_translated_original(instance, field_name: str) -> bool:
    from modeltranslation.translator import NotRegistered, translator

    try:
        options = translator.get_options_for_model(type(instance))
    except NotRegistered:
        return False
    return field_name in options.all_fields
