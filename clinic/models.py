"""Site-wide content: the clinic's details, its practitioners, simple pages and consent texts."""

import functools
from email.utils import quote

import phonenumbers
from django.conf import global_settings, settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from clinic.fields import RichTextField
from clinic.i18n import slug_address, translated_slug

MAX_IMAGE_BYTES = 10 * 1024 * 1024
# Numbers typed without a country code are Danish.
PHONE_REGION = "DK"


def validate_image_size(image):
    if image and image.size > MAX_IMAGE_BYTES:
        raise ValidationError(
            _("The image is too large (%(size)s MB). Please upload an image under 10 MB."),
            params={"size": round(image.size / 1024 / 1024, 1)},
        )


def validate_plain_text(value):
    """Refuse markup in plain-text fields: it would be shown as code to patients."""
    if value and ("<" in value and ">" in value):
        raise ValidationError(_("This field takes plain text. Please remove the HTML tags."))


def normalise_phone(value: str) -> str:
    """The number in E.164 (+4512345678); Danish unless it starts with a country code."""
    try:
        number = phonenumbers.parse(value, PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("Please write a valid phone number, for example 20 12 34 56 or +46 70 123 45 67."),
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_phone(value: str) -> None:
    """Refuse a number that cannot exist; the model stores it in E.164 (see save)."""
    normalise_phone(value)


@functools.lru_cache(maxsize=1024)
def format_phone(value: str) -> str:
    """A number as people read it, "+45 98 76 54 32": grouped, with the country code.

    The international form reads naturally in Denmark and tells callers abroad what to
    dial. Text that is not a number at all is returned as it is.
    """
    try:
        number = phonenumbers.parse(value, PHONE_REGION)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def stored_phone(value: str) -> str:
    """E.164 when the number is valid, else the text as typed (nothing is lost)."""
    try:
        return normalise_phone(value)
    except ValidationError:
        return value


def sender_address(clinic: "ClinicDetails | None") -> str:
    """Who the site's e-mails come from: DEFAULT_FROM_EMAIL if it is set, else the clinic.

    Left unset (the demo, a first run), Django's placeholder "webmaster@localhost" would
    reach patients; the clinic's own public address is one they know and can answer.
    """
    configured = settings.DEFAULT_FROM_EMAIL
    if configured and configured != global_settings.DEFAULT_FROM_EMAIL:
        return configured
    if clinic and clinic.email:
        return f'"{quote(clinic.name)}" <{clinic.email}>' if clinic.name else clinic.email
    return configured


class ClinicDetails(models.Model):
    """The one record with the clinic's name, contact details and opening hours."""

    name = models.CharField(_("name"), max_length=120, validators=[validate_plain_text])
    tagline = models.CharField(
        _("tagline"),
        max_length=200,
        blank=True,
        validators=[validate_plain_text],
        help_text=_("One sentence under the name on the home page, e.g. what the clinic treats."),
    )
    introduction = RichTextField(
        _("introduction"),
        blank=True,
        help_text=_("A few paragraphs on the home page about who the clinic is."),
    )
    phone = models.CharField(
        _("phone number"),
        max_length=30,
        validators=[validate_phone],
        help_text=_("Shown in the header of every page and called when a patient taps it."),
    )
    email = models.EmailField(_("e-mail address"), help_text=_("The clinic's public address."))
    street_address = models.CharField(_("street address"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=12)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=100, default="Danmark")
    cvr_number = models.CharField(
        _("CVR number"),
        max_length=8,
        blank=True,
        validators=[RegexValidator(r"^[0-9]{8}$", _("A CVR number has 8 digits."))],
        help_text=_("The clinic's Danish business registration number (8 digits)."),
    )
    opening_hours = models.TextField(
        _("opening hours"),
        blank=True,
        validators=[validate_plain_text],
        help_text=_("One line per day or group of days, e.g. 'Monday-Friday 8-16'."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("clinic details")
        verbose_name_plural = _("clinic details")

    def __str__(self):
        return self.name

    @classmethod
    def load(cls) -> "ClinicDetails | None":
        return cls.objects.order_by("pk").first()

    @property
    def phone_uri(self) -> str:
        """tel:+4598765432: the stored E.164 form dials from Denmark and abroad alike."""
        return "tel:" + "".join(ch for ch in self.phone if ch.isdigit() or ch == "+")

    @property
    def phone_display(self) -> str:
        return format_phone(self.phone)

    def save(self, *args, **kwargs):
        self.phone = stored_phone(self.phone)
        # There is only ever one clinic: the first record is the one that is edited.
        if not self.pk and (existing := ClinicDetails.load()):
            self.pk = existing.pk
        super().save(*args, **kwargs)


class TrustMark(models.Model):
    """A registration or approval that tells patients the clinic can be trusted."""

    clinic = models.ForeignKey(ClinicDetails, on_delete=models.CASCADE, related_name="trust_marks")
    title = models.CharField(
        _("title"),
        max_length=150,
        validators=[validate_plain_text],
        help_text=_("E.g. 'Registered with the Danish Patient Safety Authority'."),
    )
    description = models.CharField(
        _("description"), max_length=300, blank=True, validators=[validate_plain_text]
    )
    url = models.URLField(
        _("link"), blank=True, help_text=_("Where patients can check the registration.")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("trust mark")
        verbose_name_plural = _("trust marks")

    def __str__(self):
        return self.title


class PractitionerQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class Practitioner(models.Model):
    """A doctor or therapist shown on the site; may be linked to a staff login."""

    name = models.CharField(_("name"), max_length=120)
    title = models.CharField(
        _("title"),
        max_length=120,
        validators=[validate_plain_text],
        help_text=_("E.g. 'Doctor, specialist in general medicine'."),
    )
    photo = models.ImageField(
        _("photo"),
        upload_to="practitioners/",
        blank=True,
        validators=[validate_image_size],
        help_text=_("A portrait, at least 400 pixels wide. JPEG or PNG, under 10 MB."),
    )
    photo_alt = models.CharField(
        _("photo description"),
        max_length=200,
        blank=True,
        validators=[validate_plain_text],
        help_text=_(
            "What the photo shows, read aloud to blind visitors, "
            "e.g. 'Dr. Hansen smiling in the clinic'. Required when there is a photo."
        ),
    )
    bio = models.TextField(
        _("short biography"),
        blank=True,
        validators=[validate_plain_text],
        help_text=_("Two or three sentences about the practitioner's background."),
    )
    treating_since = models.PositiveSmallIntegerField(
        _("treating since (year)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1950)],
        help_text=_("The year the practitioner began treating patients, e.g. 1996."),
    )
    languages = models.JSONField(
        _("languages spoken"),
        default=list,
        blank=True,
        help_text=_("The languages patients can speak with this practitioner."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(
        _("shown on the site"), default=True, help_text=_("Untick to hide without deleting.")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="practitioner",
        limit_choices_to={"is_staff": True},
        verbose_name=_("staff login"),
        help_text=_("Link the practitioner's own login, so their decisions carry their name."),
    )

    objects = PractitionerQuerySet.as_manager()

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("practitioner")
        verbose_name_plural = _("practitioners")

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.treating_since and self.treating_since > timezone.localdate().year:
            raise ValidationError({"treating_since": _("The year cannot be in the future.")})
        if self.photo and not self.photo_alt:
            raise ValidationError(
                {"photo_alt": _("Describe the photo for visitors who cannot see it.")}
            )

    @property
    def language_names(self) -> list[str]:
        """The languages' names in the page's language, from the site's own LANGUAGES."""
        names = dict(settings.LANGUAGES)
        return [str(names.get(code, code)) for code in self.languages]


class PageQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published=True)


class Page(models.Model):
    """A simple editable page: about, contact, privacy policy."""

    class Kind(models.TextChoices):
        ABOUT = "about", _("About the clinic")
        CONTACT = "contact", _("Contact")
        PRIVACY = "privacy", _("Privacy policy")
        OTHER = "other", _("Other page")

    kind = models.CharField(
        _("kind"),
        max_length=20,
        choices=Kind.choices,
        default=Kind.OTHER,
        help_text=_("The site links to the about, contact and privacy pages by their kind."),
    )
    title = models.CharField(_("title"), max_length=150, validators=[validate_plain_text])
    slug = models.SlugField(
        _("address"),
        max_length=80,
        allow_unicode=False,
        help_text=_(
            "The last part of the page's web address, e.g. 'contact'. Lowercase, no spaces."
        ),
    )
    meta_description = models.CharField(
        _("search description"),
        max_length=160,
        blank=True,
        validators=[validate_plain_text],
        help_text=_("One or two sentences that search engines show under the title."),
    )
    body = RichTextField(_("text"), blank=True)
    published = models.BooleanField(_("published"), default=True)
    in_navigation = models.BooleanField(
        _("in the main menu"), default=False, help_text=_("Show a link in the page header.")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = PageQuerySet.as_manager()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("page")
        verbose_name_plural = _("pages")
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=~models.Q(kind="other"),
                name="one_page_per_special_kind",
                violation_error_message=_("There is already a page of this kind."),
            )
        ]

    def __str__(self):
        return self.title

    def clean(self):
        super().clean()
        # Each language's address must be unique among pages in that language.
        errors = {}
        for code, _name in settings.LANGUAGES:
            field = f"slug_{code}"
            value = getattr(self, field, "")
            if value and Page.objects.exclude(pk=self.pk).filter(**{field: value}).exists():
                errors[field] = _("Another page already uses this address in this language.")
        if errors:
            raise ValidationError(errors)

    def get_absolute_url(self):
        return slug_address("page", translated_slug(self, translation.get_language()))


class ConsentTextQuerySet(models.QuerySet):
    def current(self, kind: str) -> "ConsentText | None":
        return self.filter(kind=kind).order_by("-version").first()


class ConsentText(models.Model):
    """A versioned text that patients consent to.

    Once a version has been shown to a patient it is never edited: consent is
    recorded against that exact version, so changes go into a new version.
    """

    class Kind(models.TextChoices):
        TESTIMONIAL = "testimonial", _("Publishing a testimonial")
        HEALTH_DATA = "health_data", _("Processing health data for a booking")

    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    version = models.PositiveIntegerField(_("version"), editable=False)
    text = models.TextField(
        _("text"),
        validators=[validate_plain_text],
        help_text=_("The exact words the patient agrees to, next to the tick box."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    first_shown_at = models.DateTimeField(
        _("first shown to a patient"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("From this moment the text is locked; make a new version to change it."),
    )

    objects = ConsentTextQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "-version"]
        verbose_name = _("consent text")
        verbose_name_plural = _("consent texts")
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="unique_consent_version")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} v{self.version}"

    @property
    def locked(self) -> bool:
        return self.first_shown_at is not None

    def mark_shown(self) -> None:
        """Lock this version; call it whenever the text is put in front of a patient."""
        if not self.locked:
            self.first_shown_at = timezone.now()
            ConsentText.objects.filter(pk=self.pk, first_shown_at__isnull=True).update(
                first_shown_at=self.first_shown_at
            )

    def save(self, *args, **kwargs):
        if self.pk:
            stored = ConsentText.objects.filter(pk=self.pk).values("first_shown_at").first()
            if stored and stored["first_shown_at"] is not None:
                raise ValidationError(
                    _("This consent text has been shown to patients; make a new version instead.")
                )
        else:
            highest = ConsentText.objects.filter(kind=self.kind).aggregate(v=Max("version"))["v"]
            self.version = (highest or 0) + 1
        super().save(*args, **kwargs)

    def new_version(self) -> "ConsentText":
        """A new, unlocked version with the same text in every language, ready to edit."""
        copy = ConsentText(kind=self.kind)
        for code, _name in settings.LANGUAGES:
            setattr(copy, f"text_{code}", getattr(self, f"text_{code}"))
        copy.save()
        return copy


class WorkerLease(models.Model):
    """A background task's lease: which worker runs it, and when that worker last beat.

    Kept in the database, so a task abandoned by a worker that died on any machine
    is found by the others (see `clinic.worker`). The row lives from a task's first
    run until it finishes; `attempts` counts its runs across reclaims.
    """

    task_result = models.OneToOneField(
        "django_tasks_database.DBTaskResult",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="worker_lease",
        verbose_name=_("task result"),
    )
    queue_name = models.CharField(_("queue"), max_length=32)
    worker_id = models.CharField(_("worker"), max_length=64, blank=True)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), db_index=True)
    attempts = models.PositiveSmallIntegerField(_("runs"), default=0)

    class Meta:
        verbose_name = _("worker lease")
        verbose_name_plural = _("worker leases")

    def __str__(self):
        return f"{self.task_result_id} ({self.worker_id or '-'})"
