"""Working time: practitioners' opening hours, their absences, and clinic closures.

Free times (booking/slots.py) are computed from these, the appointment type's rules
and the times bookings already take.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from booking import slots
from clinic.models import Practitioner, validate_plain_text

# Django's own weekday names: the same words in the project's catalogue would also
# change how every date is written (capitalised in Danish).
WEEKDAY_CHOICES = sorted(WEEKDAYS.items())


class WorkingHours(models.Model):
    """One opening interval of a practitioner on a weekday (several a day are fine)."""

    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.CASCADE,
        related_name="working_hours",
        verbose_name=_("practitioner"),
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=WEEKDAY_CHOICES)
    starts = models.TimeField(_("from"), help_text=_("Local time, e.g. 08:00."))
    ends = models.TimeField(_("until"), help_text=_("Local time, e.g. 12:00."))
    valid_from = models.DateField(
        _("valid from"),
        null=True,
        blank=True,
        help_text=_("The first day these hours apply. Empty: from now on."),
    )
    valid_to = models.DateField(
        _("valid until"),
        null=True,
        blank=True,
        help_text=_("The last day these hours apply. Empty: no end."),
    )

    class Meta:
        ordering = ["practitioner", "weekday", "starts"]
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")

    def __str__(self):
        return f"{self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"

    def interval(self) -> slots.WorkingInterval:
        """These hours as booking/slots.py computes with them."""
        return slots.WorkingInterval(
            weekday=self.weekday,
            start=self.starts,
            end=self.ends,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
        )

    def clean(self):
        super().clean()
        if self.starts is not None and self.ends is not None and self.ends <= self.starts:
            raise ValidationError({"ends": _("The end must be after the start.")})
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": _("The last day must be on or after the first.")})
        if self.practitioner_id is None or self.weekday is None or not (self.starts and self.ends):
            return
        clash = (
            WorkingHours.objects.filter(
                practitioner_id=self.practitioner_id,
                weekday=self.weekday,
                starts__lt=self.ends,
                ends__gt=self.starts,
            )
            .exclude(pk=self.pk)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=self.valid_from or "0001-01-01"))
        )
        if self.valid_to:
            clash = clash.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=self.valid_to))
        other = clash.first()
        if other is not None:
            raise ValidationError(
                _("These hours overlap %(other)s of the same practitioner."),
                code="overlap",
                params={"other": other},
            )


class AbsenceQuerySet(models.QuerySet):
    def overlapping(self, starts_at, ends_at):
        return self.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)

    def for_practitioner(self, practitioner_id):
        """The practitioner's own absences and the clinic's closures."""
        return self.filter(Q(practitioner_id=practitioner_id) | Q(practitioner__isnull=True))


class Absence(models.Model):
    """A practitioner away (holiday, course, part of a day), or the whole clinic closed."""

    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="absences",
        verbose_name=_("practitioner"),
        help_text=_("Empty: the whole clinic is closed (e.g. a public holiday)."),
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"), help_text=_("The first moment they are back."))
    reason = models.CharField(
        _("reason"),
        max_length=120,
        blank=True,
        validators=[validate_plain_text],
        help_text=_("For staff only, e.g. 'Holiday' or 'Christmas Day'."),
    )

    objects = AbsenceQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("absence or closure")
        verbose_name_plural = _("absences and closures")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="absence_ends_after_start"
            ),
        ]

    def __str__(self):
        who = self.practitioner.name if self.practitioner else _("The clinic")
        start = timezone.localtime(self.starts_at)
        return f"{who}: {start:%Y-%m-%d %H:%M} {self.reason}".strip()

    def clean(self):
        super().clean()
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The end must be after the start.")})
