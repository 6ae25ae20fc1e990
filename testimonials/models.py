"""Patients' testimonials, submitted with consent and moderated by staff.

A testimonial is written in one language (`language`) and stored in that
language's fields (`title_nb`, `text_nb`, ...); staff may add translations in the
other languages' fields. Nothing is public until a member of staff approves it.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from modeltranslation.utils import build_localized_fieldname

from clinic.models import ConsentText, validate_plain_text
from conditions.models import Condition, Treatment

MAX_TEXT_LENGTH = 2000


class TestimonialQuerySet(models.QuerySet):
    def approved(self):
        return self.filter(status=Testimonial.Status.APPROVED)

    def featured(self):
        return self.approved().filter(featured=True)


class Testimonial(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Awaiting review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Origin(models.TextChoices):
        ONLINE = "online", _("Submitted online")
        STAFF = "staff", _("Entered by staff")

    title = models.CharField(
        _("title"), max_length=120, blank=True, validators=[validate_plain_text]
    )
    text = models.TextField(
        _("text"), max_length=MAX_TEXT_LENGTH, blank=True, validators=[validate_plain_text]
    )
    language = models.CharField(
        _("written in"),
        max_length=10,
        choices=settings.LANGUAGES,
        default="da",
        help_text=_("The language the patient wrote in; the other languages are translations."),
    )
    display_name = models.CharField(
        _("name shown"),
        max_length=60,
        validators=[validate_plain_text],
        help_text=_("First name or initials only, e.g. 'Anders' or 'J.F.'."),
    )
    age = models.PositiveSmallIntegerField(
        _("age"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    rating = models.PositiveSmallIntegerField(
        _("rating"),
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("1 to 5 stars. A low rating is never a reason to reject a testimonial."),
    )
    conditions = models.ManyToManyField(
        Condition, blank=True, related_name="testimonials", verbose_name=_("conditions")
    )
    treatment = models.ForeignKey(
        Treatment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="testimonials",
        verbose_name=_("treatment"),
    )
    treatment_year = models.PositiveSmallIntegerField(
        _("year of treatment"), null=True, blank=True, validators=[MinValueValidator(1950)]
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SUBMITTED
    )
    rejection_reason = models.TextField(
        _("reason for rejecting"),
        blank=True,
        help_text=_("Required when rejecting: privacy, abuse or off-topic text."),
    )
    featured = models.BooleanField(
        _("featured"), default=False, help_text=_("Featured testimonials appear on the home page.")
    )
    order = models.PositiveIntegerField(_("order"), default=0, db_index=True)
    origin = models.CharField(
        _("origin"), max_length=10, choices=Origin.choices, default=Origin.ONLINE
    )
    email = models.EmailField(
        _("e-mail address"),
        blank=True,
        help_text=_("For staff only, to contact the patient. Never shown on the site."),
    )
    consent_given_at = models.DateTimeField(
        _("consent to publish given"),
        help_text=_("When the patient agreed to publication (for a letter: the date on it)."),
    )
    consent_text = models.ForeignKey(
        ConsentText,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("consent text"),
        help_text=_("The exact version of the consent text the patient agreed to."),
    )
    is_demo = models.BooleanField(_("demo content"), default=False, editable=False)
    created_at = models.DateTimeField(_("received"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = TestimonialQuerySet.as_manager()

    class Meta:
        ordering = ["order", "-created_at"]
        verbose_name = _("testimonial")
        verbose_name_plural = _("testimonials")
        permissions = [("view_testimonial_email", _("Can see the e-mail address of testimonials"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="rating_1_to_5"
            )
        ]

    def __str__(self):
        return f"{self.original('title') or self.original('text')[:40]} ({self.display_name})"

    def original(self, field: str) -> str:
        """The field in the language the patient wrote in."""
        return getattr(self, build_localized_fieldname(field, self.language)) or ""

    def clean(self):
        super().clean()
        errors = {}
        if not self.original("text").strip():
            errors[build_localized_fieldname("text", self.language)] = _(
                "Enter the testimonial's text in the language it was written in."
            )
        if self.status == self.Status.REJECTED and not self.rejection_reason.strip():
            errors["rejection_reason"] = _("Write why the testimonial is rejected.")
        if self.treatment_year and self.treatment_year > timezone.localdate().year:
            errors["treatment_year"] = _("The year cannot be in the future.")
        if errors:
            raise ValidationError(errors)

    def shown_in(self, language: str | None = None) -> "ShownTestimonial":
        """What a page in `language` shows: a translation if there is one, else the original."""
        language = language or translation.get_language()
        title = getattr(self, build_localized_fieldname("title", language)) or ""
        text = getattr(self, build_localized_fieldname("text", language)) or ""
        if language == self.language or not text:
            return ShownTestimonial(
                self.original("title"), self.original("text"), self.language, self.language
            )
        return ShownTestimonial(title, text, language, self.language)


@dataclass(frozen=True)
class ShownTestimonial:
    """A testimonial's title and text as shown on one page.

    `language` is the language of the text shown; `original_language` the one the
    patient wrote in. They differ for a translation; a page in a third language
    shows the original and labels it "written in ...".
    """

    title: str
    text: str
    language: str
    original_language: str

    @property
    def translated(self) -> bool:
        return self.language != self.original_language

    @property
    def original_language_name(self) -> str:
        return str(dict(settings.LANGUAGES)[self.original_language])
