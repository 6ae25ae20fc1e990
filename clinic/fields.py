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
        if value:
            value = self.sanitize(value)
            setattr(model_instance, self.attname, value)
        return value
