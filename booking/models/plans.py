"""The blood-thinner plan, one line per medicine; the doctor's own words are on the booking.

The booking keeps the plan's summary (`last_dose_date`: the earliest last dose of a
paused medicine, `restart_date`: the latest restart) so that scheduling, the calendar
and the reminders read one pair of dates.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from booking.models.bookings import Anticoagulant, Booking
from clinic.models import validate_plain_text


class PlanLine(models.Model):
    class Action(models.TextChoices):
        PAUSE = "pause", _("Pause")
        CONTINUE = "continue", _("Keep taking it")

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="plan_lines")
    anticoagulant = models.ForeignKey(
        Anticoagulant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("medicine"),
    )
    medicine_name = models.CharField(
        _("other medicine"),
        max_length=200,
        blank=True,
        validators=[validate_plain_text],
        help_text=_("For a medicine that is not in the list."),
    )
    action = models.CharField(_("what to do"), max_length=10, choices=Action.choices)
    last_dose_date = models.DateField(_("last day to take it"), null=True, blank=True)
    restart_date = models.DateField(_("day to start again"), null=True, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("plan line")
        verbose_name_plural = _("plan lines")

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return str(self.anticoagulant) if self.anticoagulant_id else self.medicine_name

    @property
    def usual_pause_days(self) -> int | None:
        return self.anticoagulant.default_pause_days if self.anticoagulant_id else None
