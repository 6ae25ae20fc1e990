"""Every message a booking will need, as a row: planned, then sent (or not, and why).

booking/outbox.py plans the rows from the booking as it is now and sends what is due;
a row's `key` names the facts its text depends on (a date, a time), so a changed
booking supersedes the old row instead of sending stale words, and a row that was
sent is never planned again.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models.bookings import Booking


class MessageKind(models.TextChoices):
    # Answers to something that just happened
    RECEIVED = "received", _("Request received")
    CONFIRMED = "confirmed", _("Time confirmed")
    CANCELLED = "cancelled", _("Cancelled")
    NEWS = "news", _("News about the booking")
    NEW_LINK = "new_link", _("New private link")
    EARLIER_TIME = "earlier_time", _("Earlier time free")
    CLINIC_NEW_REQUEST = "clinic_new_request", _("New request (to the clinic)")
    # The checklist over time
    PLAN_READY = "plan_ready", _("Plan ready")
    PAUSE_EVE = "pause_eve", _("Day before the pause")
    RESTART = "restart", _("Restart day")
    PLAN_CLEARED = "plan_cleared", _("New plan needed")
    IMAGES_MISSING = "images_missing", _("Images missing")
    SCAN_TOO_OLD = "scan_too_old", _("Scan too old")
    COMPANION_MISSING = "companion_missing", _("Companion not confirmed")
    DAY_BEFORE = "day_before", _("Day before the appointment")


# Safety messages: one that cannot go out in time becomes a phone call.
SAFETY_KINDS = frozenset({MessageKind.PLAN_READY, MessageKind.PAUSE_EVE, MessageKind.RESTART})
# Reminders the patient may switch off.
REMINDER_KINDS = frozenset(
    {
        MessageKind.IMAGES_MISSING,
        MessageKind.SCAN_TOO_OLD,
        MessageKind.COMPANION_MISSING,
        MessageKind.DAY_BEFORE,
    }
)


class PlannedMessage(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", _("Cancelled")
        SUPERSEDED = "superseded", _("Superseded")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Unknown: check")

    booking = models.ForeignKey(
        Booking,
        on_delete=models.CASCADE,
        related_name="planned_messages",
        verbose_name=_("booking"),
    )
    kind = models.CharField(_("message"), max_length=20, choices=MessageKind.choices)
    channel = models.CharField(_("channel"), max_length=5, choices=Channel.choices)
    key = models.CharField(
        _("version"),
        max_length=80,
        help_text=_("The facts the text depends on; a changed booking plans a new version."),
    )
    about_date = models.DateField(_("date in the message"), null=True, blank=True)
    site_url = models.CharField(max_length=200, blank=True, editable=False)
    due_at = models.DateTimeField(_("due"))
    deadline_at = models.DateTimeField(
        _("deadline"),
        null=True,
        blank=True,
        help_text=_(
            "After this the message is no use: it fails, and a safety message becomes a phone call."
        ),
    )
    send_after = models.DateTimeField(_("next try"), db_index=True)
    # "Status", not "status": that one is the published content's (booking/models/bookings.py).
    status = models.CharField(
        _("Status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    first_attempt_at = models.DateTimeField(_("first try"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last try"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("planned at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "kind", "channel", "key"], name="message_once_per_version"
            )
        ]
        indexes = [models.Index(fields=["status", "send_after"])]

    def __str__(self):
        return f"{self.booking} · {self.get_kind_display()} · {self.get_channel_display()}"

    @property
    def is_safety(self) -> bool:
        return self.kind in SAFETY_KINDS


class PhoneTask(models.Model):
    """Something a person must tell the patient by phone, because a message cannot."""

    class Reason(models.TextChoices):
        MESSAGE_FAILED = "message_failed", _("A safety message could not be sent in time")
        MESSAGE_UNKNOWN = "message_unknown", _("A safety message may not have been sent")
        PLAN_UNREAD = "plan_unread", _("The patient has not read the plan")
        PLAN_LATE = "plan_late", _("The plan was agreed close to the last dose")

    booking = models.ForeignKey(
        Booking, on_delete=models.CASCADE, related_name="phone_tasks", verbose_name=_("booking")
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    key = models.CharField(max_length=80, editable=False)
    message = models.ForeignKey(
        PlannedMessage,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("message"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("done by"),
    )

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("phone task")
        verbose_name_plural = _("phone tasks")
        constraints = [
            models.UniqueConstraint(fields=["booking", "reason", "key"], name="phone_task_once")
        ]

    def __str__(self):
        return f"{self.booking} · {self.get_reason_display()}"


class MessagePass(models.Model):
    """When the periodic pass last ran (one row), for the admin and the health check."""

    finished_at = models.DateTimeField(_("last pass"))
    planned = models.PositiveIntegerField(_("bookings planned"), default=0)
    sent = models.PositiveIntegerField(_("messages sent"), default=0)

    class Meta:
        verbose_name = _("message pass")
        verbose_name_plural = _("message passes")

    def __str__(self):
        return str(self.finished_at)
