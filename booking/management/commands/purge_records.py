"""Delete records kept longer than the clinic's retention settings: `manage.py purge_records`.

    manage.py purge_records [--dry-run]

Each kind has its own setting, in days (0 or unset where there is no default keeps
it for ever; see README, Configuration):
- MESSAGE_RETENTION_DAYS: the message rows of bookings that ended (completed,
  cancelled, did not come) that long ago. Rows of open bookings are never deleted:
  a sent row is what stops the same message being planned and sent again.
- WAITLIST_RETENTION_DAYS: the waitlist fields (wants an earlier time, since when,
  last told) of bookings that ended that long ago, in the booking and its history.
- TASK_RESULT_RETENTION_DAYS: finished background task results (django_tasks_db),
  which hold booking and file ids and any error's traceback.
- AUDIT_RETENTION_DAYS: the rows of who opened a booking and who viewed or
  downloaded an image (BookingView, ImagingAccess).
The medical record itself (bookings, plans, reviews) is never deleted here.
Run it daily (cron or a systemd timer), beside purge_drafts.
"""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from booking.data_rights import clear_waitlist, days_ago, ended_before
from booking.models import Booking, BookingView, ImagingAccess, PlannedMessage

FINISHED_TASK_STATUSES = (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED)


def _on_waitlist(queryset):
    return queryset.filter(
        Q(wants_earlier=True)
        | Q(wants_earlier_since__isnull=False)
        | Q(earlier_offered_at__isnull=False)
    )


class Command(BaseCommand):
    help = (
        "Delete message rows, waitlist entries, task results and audit rows older than "
        "their retention settings. The medical record is never touched."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be removed; remove nothing."
        )

    def handle(self, *args, dry_run=False, **options):
        self.dry_run = dry_run
        self.verb = "Would remove" if dry_run else "Removed"
        self.purge("MESSAGE_RETENTION_DAYS", "message rows of ended bookings", self.messages)
        self.purge("WAITLIST_RETENTION_DAYS", "waitlist entries of ended bookings", self.waitlist)
        self.purge("TASK_RESULT_RETENTION_DAYS", "finished task results", self.task_results)
        self.purge("AUDIT_RETENTION_DAYS", "staff audit rows", self.audit)
        if dry_run:
            self.stdout.write("Dry run: nothing was removed.")

    def purge(self, setting: str, what: str, step) -> None:
        days = getattr(settings, setting, None)
        if not days:
            self.stdout.write(f"Kept all {what}: {setting} is not set.")
            return
        with transaction.atomic():
            count = step(days_ago(days))
        self.stdout.write(f"{self.verb} {count} {what} older than {days} days ({setting}).")

    def messages(self, cutoff) -> int:
        rows = PlannedMessage.objects.filter(booking__in=ended_before(cutoff))
        return rows.count() if self.dry_run else rows.delete()[0]

    def waitlist(self, cutoff) -> int:
        ended = ended_before(cutoff)
        ids = set(_on_waitlist(ended).values_list("pk", flat=True))
        # The waitlist may be gone from the booking but linger in its history.
        ids |= set(
            _on_waitlist(Booking.history.filter(id__in=ended.values("pk"))).values_list(
                "id", flat=True
            )
        )
        if self.dry_run:
            return len(ids)
        clear_waitlist(ids)
        return len(ids)

    def task_results(self, cutoff) -> int:
        rows = DBTaskResult.objects.filter(
            status__in=FINISHED_TASK_STATUSES, finished_at__lt=cutoff
        )
        return rows.count() if self.dry_run else rows.delete()[0]

    def audit(self, cutoff) -> int:
        views = BookingView.objects.filter(viewed_at__lt=cutoff)
        accesses = ImagingAccess.objects.filter(at__lt=cutoff)
        if self.dry_run:
            return views.count() + accesses.count()
        return views.delete()[0] + accesses.delete()[0]
