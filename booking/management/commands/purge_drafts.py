"""Delete booking drafts left unsent for DRAFT_IDLE_HOURS (24) without a change or a
new file, with their uploaded files, and files left in the upload folder by
interrupted uploads.

    manage.py purge_drafts [--dry-run]

Run it every hour (cron or a systemd timer), so an idle draft's files do not
outlive the idle time by much.
"""

import time

from django.core.management.base import BaseCommand
from django.db import transaction

from booking.models import Booking, Upload
from booking.storage import delete_booking_folders, incoming_dir, private_storage
from booking.uploads import delete_upload_files

# Files in incoming/ older than this belong to no request still running.
INCOMING_MAX_AGE_SECONDS = 24 * 60 * 60


class Command(BaseCommand):
    help = "Delete drafts left unsent and untouched for DRAFT_IDLE_HOURS, with their files."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be removed; remove nothing."
        )

    def handle(self, *args, dry_run=False, **options):
        verb = "Would remove" if dry_run else "Removed"
        drafts = list(Booking.objects.stale_drafts().order_by("created_at"))
        files = 0
        for booking in drafts:
            uploads = list(Upload.objects.filter(booking=booking))
            if dry_run:
                names = [upload.file.name for upload in uploads]
            else:
                with transaction.atomic():
                    # The draft's history holds the same personal data: it goes too.
                    pk = booking.pk
                    booking.delete()
                    Booking.history.filter(id=pk).delete()
                names = delete_upload_files(uploads)
                # What was made from them (previews, renditions) goes with them.
                files += delete_booking_folders(private_storage(), pk)
            files += len(names)
            self.stdout.write(
                f"{verb} draft {booking.reference} (created {booking.created_at:%Y-%m-%d}) "
                f"with {len(names)} file(s)"
            )
            for name in names:
                self.stdout.write(f"  {name}")

        leftovers = 0
        cutoff = time.time() - INCOMING_MAX_AGE_SECONDS
        for path in incoming_dir().iterdir():
            if path.is_file() and path.stat().st_mtime < cutoff:
                leftovers += 1
                if not dry_run:
                    path.unlink(missing_ok=True)
                self.stdout.write(f"{verb} interrupted upload {path.name}")

        self.stdout.write(
            f"{verb} {len(drafts)} draft(s), {files} uploaded file(s), "
            f"{leftovers} interrupted upload(s)."
        )
