"""Conditions, treatments, FAQs and their sources: the public medical content."""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from clinic.fields import RichTextField
from clinic.i18n import (
    fallback_order,
    field_language,
    site_languages,
    slug_address,
    translated_slug,
)
from clinic.images import renditions_of
from clinic.models import Practitioner, validate_image_size, validate_plain_text


@dataclass(frozen=True)
class Review:
    """Who medically reviewed one language version of a page, and when (or that nobody has).

    `page_language` is the language of the page it is shown on: a Norwegian page whose
    text falls back to Danish shows the Danish version's review, marked `lang="da"`.
    """

    language: str
    reviewed_on: date | None = None
    reviewed_by: Practitioner | None = None
    page_language: str = ""

    def __bool__(self) -> bool:
        return self.reviewed_on is not None and self.reviewed_by is not None

    @property
    def lang(self) -> str:
        """The version's language for a `lang` attribute, when the page is in another one."""
        return self.language if self.page_language and self.language != self.page_language else ""


def review_errors(page, code: str) -> dict:
    """The review of one language version: a date not in the future, doctor and date together."""
    reviewed_on = getattr(page, f"reviewed_on_{code}")
    doctor_id = getattr(page, f"reviewed_by_{code}_id")
    errors = {}
    if reviewed_on and reviewed_on > timezone.localdate():
        errors[f"reviewed_on_{code}"] = _("The review date cannot be in the future.")
    if reviewed_on and not doctor_id:
        errors[f"reviewed_by_{code}"] = _("Choose the doctor who reviewed the text.")
    if doctor_id and not reviewed_on:
        errors[f"reviewed_on_{code}"] = _("Enter the day the text was reviewed.")
    return errors


# The medical review is recorded for each language version (conditions/translation.py
# makes `reviewed_on_da`, `reviewed_by_da` ...). The fields are made for each page model
# rather than inherited from Publishable: modeltranslation's per-language copies of one
# inherited relation compare equal across models, which confuses Django's deletion code.
def reviewed_on_field():
    return models.DateField(
        _("medically reviewed on"),
        null=True,
        blank=True,
        help_text=_(
            "The day a doctor last checked the text in this language. Leave it empty until "
            "then: the page says that this language version has not been checked yet."
        ),
    )


def reviewed_by_field():
    return models.ForeignKey(
        Practitioner,
        # A review is a record: a doctor named on a page stays until the page names another.
        # (Clearing it on delete cannot work either: modeltranslation would rewrite the query
        # that clears the original column to the current language's.)
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviewed_%(class)ss",
        verbose_name=_("medically reviewed by"),
        help_text=_("The doctor who checked the text in this language."),
    )


class PublishableQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Publishable.Status.PUBLISHED, published_at__lte=timezone.now())

    def with_review(self):
        """With the reviewing doctors a page in the current language may show, in one query:
        its own language's and those its text falls back to."""
        language = translation.get_language()
        return self.select_related(*(f"reviewed_by_{code}" for code in fallback_order(language)))


class Publishable(models.Model):
    """Draft/published state, publish date and the medical review shown on the page.

    A page model adds `reviewed_on = reviewed_on_field()` and `reviewed_by =
    reviewed_by_field()` (translated, one review per language) and names in
    `main_text_fields` the text whose language decides which review a visitor sees.
    """

    main_text_fields: tuple[str, ...] = ("name",)

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    status = models.CharField(
        _("status"),
        max_length=10,
        choices=Status.choices,
        default=Status.DRAFT,
        help_text=_("Drafts are only visible to staff, through the preview."),
    )
    published_at = models.DateTimeField(
        _("publish from"),
        default=timezone.now,
        help_text=_("A published page appears on the site from this moment."),
    )
    meta_description = models.CharField(
        _("search description"),
        max_length=160,
        blank=True,
        validators=[validate_plain_text],
        help_text=_("One or two sentences that search engines show under the title."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = PublishableQuerySet.as_manager()

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        errors = {}
        for code in site_languages():
            errors.update(review_errors(self, code))
        errors.update(unique_slug_errors(self))
        if errors:
            raise ValidationError(errors)

    def reviewed_languages(self) -> list[str]:
        """The languages whose version a doctor has reviewed (date and doctor recorded)."""
        return [
            code
            for code in site_languages()
            if getattr(self, f"reviewed_on_{code}") and getattr(self, f"reviewed_by_{code}_id")
        ]

    def review_in(self, language: str, page_language: str = "") -> Review:
        """The medical review of the version in `language`, or an empty one."""
        if language not in self.reviewed_languages():
            return Review(language, page_language=page_language)
        return Review(
            language,
            getattr(self, f"reviewed_on_{language}"),
            getattr(self, f"reviewed_by_{language}"),
            page_language,
        )

    def text_language(self, language: str | None = None) -> str:
        """The language of the main text a visitor reads in `language` (it may fall back)."""
        language = language or translation.get_language()
        for field in self.main_text_fields:
            if any(getattr(self, f"{field}_{code}", "") for code in site_languages()):
                return field_language(self, field, language)
        return language

    def shown_review(self) -> Review:
        """The review belonging to the text shown: the page language's, or its fallback's."""
        page_language = translation.get_language()
        return self.review_in(self.text_language(page_language), page_language)

    @property
    def is_public(self) -> bool:
        return self.status == self.Status.PUBLISHED and self.published_at <= timezone.now()

    def get_absolute_url(self):
        return slug_address(self.url_name, translated_slug(self, translation.get_language()))


def unique_slug_errors(obj) -> dict:
    """Each language's slug must be unique among objects of the same model."""
    errors = {}
    for code, _name in settings.LANGUAGES:
        field = f"slug_{code}"
        value = getattr(obj, field, "")
        if (
            value
            and type(obj)._default_manager.exclude(pk=obj.pk).filter(**{field: value}).exists()
        ):
            errors[field] = _("This address is already used in this language.")
    return errors


class Source(models.Model):
    """A reference that backs a statement or a figure."""

    title = models.CharField(_("title"), max_length=300, validators=[validate_plain_text])
    publisher = models.CharField(
        _("publisher"),
        max_length=200,
        blank=True,
        validators=[validate_plain_text],
        help_text=_("E.g. 'Sundhedsstyrelsen' (the Danish Health Authority)."),
    )
    year = models.PositiveSmallIntegerField(
        _("year"), null=True, blank=True, validators=[MinValueValidator(1800)]
    )
    url = models.URLField(_("link"), blank=True, help_text=_("Where the source can be read."))

    class Meta:
        ordering = ["title"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")

    def __str__(self):
        parts = [self.title, self.publisher, str(self.year) if self.year else ""]
        return ", ".join(part for part in parts if part)

    def clean(self):
        super().clean()
        if self.year and self.year > timezone.localdate().year:
            raise ValidationError({"year": _("The year cannot be in the future.")})


class Treatment(Publishable):
    """A therapy, e.g. gold implantation or acupuncture."""

    url_name = "conditions:treatment"
    main_text_fields = ("body", "summary", "name")

    name = models.CharField(_("name"), max_length=120, validators=[validate_plain_text])
    slug = models.SlugField(
        _("address"),
        max_length=80,
        help_text=_("The last part of the web address, e.g. 'gold-implantation'."),
    )
    summary = models.TextField(
        _("summary"),
        blank=True,
        validators=[validate_plain_text],
        help_text=_("One or two sentences shown in lists and at the top of the page."),
    )
    body = RichTextField(_("about the treatment"), blank=True)
    how_it_is_done = RichTextField(_("how it is done"), blank=True)
    anaesthesia = RichTextField(
        _("anaesthesia"), blank=True, help_text=_("Whether and how the area is numbed.")
    )
    aftercare = RichTextField(
        _("aftercare"), blank=True, help_text=_("What the patient should do and expect after.")
    )
    offered_by_clinic = models.BooleanField(
        _("offered by the clinic"),
        default=False,
        help_text=_("Tick for treatments the clinic gives itself; they get a call to action."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    reviewed_on = reviewed_on_field()
    reviewed_by = reviewed_by_field()

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("treatment")
        verbose_name_plural = _("treatments")

    def __str__(self):
        return self.name


class Condition(Publishable):
    """A pain condition with its own public page, modelled on the neck-pain page."""

    url_name = "conditions:condition"
    main_text_fields = ("introduction", "summary", "name")

    name = models.CharField(_("name"), max_length=120, validators=[validate_plain_text])
    slug = models.SlugField(
        _("address"),
        max_length=80,
        help_text=_("The last part of the web address, e.g. 'neck-pain'."),
    )
    summary = models.TextField(
        _("short description"),
        blank=True,
        validators=[validate_plain_text],
        help_text=_("One or two sentences shown in the list of conditions."),
    )
    introduction = RichTextField(
        _("introduction"), blank=True, help_text=_("The first paragraphs, above the contents.")
    )
    new_phase_text = RichTextField(
        _("about the new phase"),
        blank=True,
        help_text=_("Shown above the treatments for newly started pain (under 3-6 months)."),
    )
    chronic_phase_text = RichTextField(
        _("about the chronic phase"),
        blank=True,
        help_text=_("Shown above the treatments for chronic pain (over 6 months)."),
    )
    conclusion = RichTextField(
        _("summary"), blank=True, help_text=_("The closing summary near the end of the page.")
    )
    treatments = models.ManyToManyField(
        Treatment,
        through="TreatmentRecommendation",
        related_name="conditions",
        verbose_name=_("treatments"),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    reviewed_on = reviewed_on_field()
    reviewed_by = reviewed_by_field()

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("condition")
        verbose_name_plural = _("conditions")

    def __str__(self):
        return self.name


class Ordered(models.Model):
    order = models.PositiveIntegerField(_("order"), default=0, db_index=True)

    class Meta:
        abstract = True
        ordering = ["order", "pk"]


class ConditionSection(Ordered):
    """A heading with text (and optionally an image) on a condition's page."""

    class Kind(models.TextChoices):
        ABOUT = "about", _("What it is")
        PREVALENCE = "prevalence", _("How common it is")
        CAUSES = "causes", _("Causes and risk factors")
        CHRONIC = "chronic", _("Why it becomes chronic")
        DIAGNOSIS = "diagnosis", _("How it is diagnosed")
        SYMPTOMS = "symptoms", _("Symptoms")
        PROGNOSIS = "prognosis", _("Course and prognosis")
        SELF_HELP = "self_help", _("What you can do yourself")
        OTHER = "other", _("Other")

    condition = models.ForeignKey(Condition, on_delete=models.CASCADE, related_name="sections")
    kind = models.CharField(
        _("part of the page"),
        max_length=20,
        choices=Kind.choices,
        default=Kind.OTHER,
        help_text=_(
            "Where the section belongs; figures, risk factors, diagnosis steps and symptoms "
            "are shown with the section of their kind."
        ),
    )
    heading = models.CharField(_("heading"), max_length=200, validators=[validate_plain_text])
    body = RichTextField(_("text"), blank=True)
    image = models.ImageField(
        _("image"),
        upload_to="conditions/",
        blank=True,
        validators=[validate_image_size],
        help_text=_("Optional. JPEG or PNG, under 10 MB, at least 1200 pixels wide."),
    )
    image_alt = models.CharField(
        _("image description"),
        max_length=250,
        blank=True,
        validators=[validate_plain_text],
        help_text=_(
            "What the image shows, for visitors who cannot see it. Required with an image."
        ),
    )
    image_caption = models.CharField(
        _("image caption"), max_length=300, blank=True, validators=[validate_plain_text]
    )
    # The image's WebP and JPEG copies, made when it is saved (clinic/images.py).
    image_renditions = models.JSONField(
        _("image renditions"),
        default=dict,
        blank=True,
        editable=False,
        help_text=_("Made from the image when it is saved."),
    )

    class Meta(Ordered.Meta):
        verbose_name = _("section")
        verbose_name_plural = _("sections")

    def __str__(self):
        return self.heading

    def save(self, *args, **kwargs):
        """Save, then make the copies of a new image once its file is stored."""
        super().save(*args, **kwargs)
        wanted = renditions_of(self.image, self.image_renditions) if self.image else {}
        if wanted != self.image_renditions:
            self.image_renditions = wanted
            type(self).objects.filter(pk=self.pk).update(image_renditions=wanted)

    def clean(self):
        super().clean()
        if self.image:
            missing = [
                code
                for code, _name in settings.LANGUAGES
                if getattr(self, f"heading_{code}", "")
                and not getattr(self, f"image_alt_{code}", "")
            ]
            if missing:
                raise ValidationError(
                    {
                        f"image_alt_{code}": _(
                            "Describe the image in every language the section has a heading in."
                        )
                        for code in missing
                    }
                )

    @property
    def anchor(self) -> str:
        return f"section-{self.pk}"


class TreatmentRecommendation(Ordered):
    """A treatment recommended for a condition in one phase."""

    class Phase(models.TextChoices):
        NEW = "new", _("Newly started (under 3-6 months)")
        CHRONIC = "chronic", _("Chronic (over 6 months)")

    condition = models.ForeignKey(
        Condition, on_delete=models.CASCADE, related_name="recommendations"
    )
    treatment = models.ForeignKey(
        Treatment,
        on_delete=models.CASCADE,
        related_name="recommendations",
        verbose_name=_("treatment"),
    )
    phase = models.CharField(_("phase"), max_length=10, choices=Phase.choices)
    note = models.CharField(
        _("note"),
        max_length=250,
        blank=True,
        validators=[validate_plain_text],
        help_text=_("E.g. 'especially paracetamol and NSAIDs'."),
    )

    class Meta(Ordered.Meta):
        verbose_name = _("recommended treatment")
        verbose_name_plural = _("recommended treatments")

    def __str__(self):
        return f"{self.treatment} ({self.get_phase_display()})"


class KeyFigure(Ordered):
    """A figure with its label and source, e.g. '13 %' of the population have neck pain now."""

    condition = models.ForeignKey(Condition, on_delete=models.CASCADE, related_name="figures")
    value = models.CharField(
        _("figure"), max_length=30, validators=[validate_plain_text], help_text=_("E.g. '13 %'.")
    )
    label = models.CharField(
        _("what it means"),
        max_length=250,
        validators=[validate_plain_text],
        help_text=_("E.g. 'of the population have neck pain at any given time'."),
    )
    source = models.ForeignKey(
        Source,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("source"),
        help_text=_("Leave empty when the figure has no published source."),
    )

    class Meta(Ordered.Meta):
        verbose_name = _("key figure")
        verbose_name_plural = _("key figures")

    def __str__(self):
        return f"{self.value} {self.label}"


class ConditionListItem(Ordered):
    text = models.CharField(_("text"), max_length=400, validators=[validate_plain_text])

    class Meta(Ordered.Meta):
        abstract = True

    def __str__(self):
        return self.text


class Symptom(ConditionListItem):
    condition = models.ForeignKey(Condition, on_delete=models.CASCADE, related_name="symptoms")

    class Meta(ConditionListItem.Meta):
        verbose_name = _("symptom")
        verbose_name_plural = _("symptoms")


class RiskFactor(ConditionListItem):
    condition = models.ForeignKey(Condition, on_delete=models.CASCADE, related_name="risk_factors")

    class Meta(ConditionListItem.Meta):
        verbose_name = _("risk factor")
        verbose_name_plural = _("risk factors")


class DiagnosisStep(ConditionListItem):
    condition = models.ForeignKey(
        Condition, on_delete=models.CASCADE, related_name="diagnosis_steps"
    )

    class Meta(ConditionListItem.Meta):
        verbose_name = _("diagnosis step")
        verbose_name_plural = _("diagnosis steps")


class FAQTopic(Ordered):
    """A heading the FAQ page groups questions under."""

    name = models.CharField(_("name"), max_length=120, validators=[validate_plain_text])

    class Meta(Ordered.Meta):
        verbose_name = _("FAQ topic")
        verbose_name_plural = _("FAQ topics")

    def __str__(self):
        return self.name


class FAQQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published=True)


class FAQ(Ordered):
    """A question with its answer, linked to the conditions and treatments it is about."""

    question = models.CharField(_("question"), max_length=300, validators=[validate_plain_text])
    answer = RichTextField(_("answer"))
    topic = models.ForeignKey(
        FAQTopic,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="faqs",
        verbose_name=_("topic"),
        help_text=_("The heading it is listed under on the questions and answers page."),
    )
    conditions = models.ManyToManyField(
        Condition, blank=True, related_name="faqs", verbose_name=_("conditions")
    )
    treatments = models.ManyToManyField(
        Treatment, blank=True, related_name="faqs", verbose_name=_("treatments")
    )
    sources = models.ManyToManyField(
        Source, blank=True, related_name="faqs", verbose_name=_("sources")
    )
    published = models.BooleanField(_("published"), default=True)

    objects = FAQQuerySet.as_manager()

    class Meta(Ordered.Meta):
        verbose_name = _("question and answer")
        verbose_name_plural = _("questions and answers")

    def __str__(self):
        return self.question
