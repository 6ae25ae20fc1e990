"""Model fields shared by the apps."""

from django_prose_editor.fields import ProseEditorField

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


class RichTextField(ProseEditorField):
    """Rich text edited with ProseMirror and sanitised with nh3 on every save.

    The editor's own sanitising runs only through forms; cleaning again in
    `pre_save` means text written by code (demo content, imports) is safe too.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("extensions", RICH_TEXT_EXTENSIONS)
        kwargs.setdefault("sanitize", True)
        super().__init__(*args, **kwargs)

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
