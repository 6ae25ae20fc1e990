"""Form fields shared by the apps: a phone number as people write it.

Numbers are stored in E.164 ("+4522334455", clinic.models.normalise_phone) so that
text messages reach them; a form shows the stored number grouped ("+45 22 33 44 55")
and stores what is sent back in E.164 again, so an unchanged number is not a change.
"""

import phonenumbers
from django import forms

from clinic.models import PHONE_REGION, format_phone, stored_phone


def readable_phone(value) -> str:
    """A valid number grouped as people read it; anything else exactly as it is."""
    if not value:
        return value
    try:
        number = phonenumbers.parse(str(value), PHONE_REGION)
    except phonenumbers.NumberParseException:
        return value
    return format_phone(value) if phonenumbers.is_valid_number(number) else value


class PhoneInput(forms.TextInput):
    """A text box that shows the number grouped, e.g. "+45 22 33 44 55"."""

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "tel", **(attrs or {})})

    def format_value(self, value):
        return super().format_value(readable_phone(value))


class PhoneField(forms.CharField):
    """A phone number kept in E.164 when it is a valid number, else as typed."""

    widget = PhoneInput

    def to_python(self, value):
        value = super().to_python(value)
        return stored_phone(value) if value else value
