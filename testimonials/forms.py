"""The public form on which patients send a testimonial."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout, Submit
from django import forms
from django.core.validators import MaxValueValidator
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from clinic.i18n import in_own_language
from clinic.models import ConsentText, validate_plain_text
from conditions.models import Condition
from testimonials.models import MAX_TEXT_LENGTH

FIRST_YEAR = 1950


class PlainTextField(forms.CharField):
    """Text that may span lines; a line break counts as one character, as the browser counts."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n")


class TestimonialForm(forms.Form):
    title = forms.CharField(
        label=_("Title"),
        max_length=120,
        validators=[validate_plain_text],
        help_text=_("A few words that sum up your experience."),
        error_messages={"required": _("Please give your testimonial a title.")},
    )
    text = PlainTextField(
        label=_("Your experience"),
        max_length=MAX_TEXT_LENGTH,
        validators=[validate_plain_text],
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Tell other patients about your treatment in your own words. At most 2000 characters."
        ),
        error_messages={
            "required": _("Please write about your experience."),
            "max_length": _(
                "Please shorten your text to at most %(limit_value)d characters "
                "(it has %(show_value)d)."
            ),
        },
    )
    rating = forms.TypedChoiceField(
        label=_("Your rating"),
        coerce=int,
        widget=forms.RadioSelect,
        help_text=_("From 1 star (poor) to 5 stars (very good)."),
        error_messages={
            "required": _("Please choose a rating from 1 to 5 stars."),
            "invalid_choice": _("Please choose a rating from 1 to 5 stars."),
        },
    )
    condition = forms.ModelChoiceField(
        label=_("What were you treated for?"),
        queryset=Condition.objects.none(),
        required=False,
        empty_label=_("Choose (optional)"),
        help_text=_("Optional."),
    )
    treatment_year = forms.IntegerField(
        label=_("Year of treatment"),
        required=False,
        min_value=FIRST_YEAR,
        help_text=_("Optional. For example 2024."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "invalid": _("Please write the year with four digits, for example 2024."),
            "min_value": _("Please write a year from %(limit_value)s onwards."),
        },
    )
    display_name = forms.CharField(
        label=_("Name shown with your testimonial"),
        max_length=60,
        validators=[validate_plain_text],
        help_text=_("Your first name or initials only, for example 'Anders' or 'J.F.'."),
        error_messages={"required": _("Please write the name to show, e.g. your first name.")},
    )
    age = forms.IntegerField(
        label=_("Your age"),
        required=False,
        min_value=1,
        max_value=120,
        help_text=_("Optional. Shown with your testimonial."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"invalid": _("Please write your age as a number.")},
    )
    email = forms.EmailField(
        label=_("Your e-mail address"),
        help_text=_(
            "Only for the clinic's staff, in case we need to ask you something. "
            "It is never shown on the website."
        ),
        error_messages={
            "required": _("Please write your e-mail address."),
            "invalid": _("Please write a valid e-mail address, for example name@example.com."),
        },
    )
    consent = forms.BooleanField(
        error_messages={
            "required": _("Please tick the box to allow us to publish your testimonial."),
        },
    )
    # The version of the consent text the patient was shown.
    consent_version = forms.IntegerField(widget=forms.HiddenInput)
    # A trap for robots: hidden from people, filled in by spam scripts.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args, consent_text: ConsentText, **kwargs):
        super().__init__(*args, **kwargs)
        self.consent_text = consent_text
        self.fields["rating"].choices = [
            (
                n,
                format_html(
                    '<span class="rating-choice-stars" aria-hidden="true">{}</span> {}',
                    "★" * n + "☆" * (5 - n),
                    ngettext("%(count)d star", "%(count)d stars", n) % {"count": n},
                ),
            )
            for n in range(1, 6)
        ]
        self.fields["condition"].queryset = Condition.objects.published()
        this_year = timezone.localdate().year
        year = self.fields["treatment_year"]
        year.validators.append(
            MaxValueValidator(this_year, message=_("The year cannot be in the future."))
        )
        year.widget.attrs.update(min=FIRST_YEAR, max=this_year)
        self.fields["consent"].label = self._consent_label()
        self.fields["consent_version"].initial = consent_text.pk
        if self.is_bound and self.data.get("consent_version") != str(consent_text.pk):
            # The consent text changed since the form was shown: ask again.
            self.data = self.data.copy()
            self.data["consent_version"] = str(consent_text.pk)
            self.data.pop("consent", None)
            self.consent_changed = True
        else:
            self.consent_changed = False
        self.helper = FormHelper()
        self.helper.form_class = "testimonial-form"
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            "title",
            "text",
            "rating",
            "condition",
            "treatment_year",
            "display_name",
            "age",
            "email",
            "consent",
            "consent_version",
            Div(
                Field("website"),
                css_class="hp-field",
                aria_hidden="true",
            ),
            Submit("send", _("Send testimonial"), css_class="btn-lg"),
        )

    def _consent_label(self):
        return in_own_language(self.consent_text, "text")

    def clean(self):
        cleaned = super().clean()
        if self.consent_changed:
            self.errors.pop("consent", None)
            self.add_error(
                "consent",
                _(
                    "The consent text was changed while you were writing. "
                    "Please read it and tick the box again."
                ),
            )
        return cleaned

    def error_summary(self) -> list[tuple[str, str, str]]:
        """(id of the input, short field name, message) for each error, in the form's order."""
        summary = []
        for field in self:
            name = _("Consent to publish") if field.name == "consent" else field.label
            target = f"{field.auto_id}_0" if field.use_fieldset else field.auto_id
            summary += [(target, name, error) for error in field.errors]
        return summary

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get("website", "").strip())
