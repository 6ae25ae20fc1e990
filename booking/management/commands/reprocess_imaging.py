"""Process again the DICOM files and CDs of open bookings that were processed before the
windows, identity and reports were kept (their images list no windows).

    manage.py reprocess_imaging [--apply]

Without --apply it only counts. With it, each such upload is queued for the imaging
worker (process_upload), which replaces its previews, renditions and rows. Bookings that
are completed or cancelled are left alone.
"""

from django.core.management.base import BaseCommand

from booking.imaging.processing import process_upload
from booking.models import Booking, Upload

OPEN = (Booking.Status.REQUESTED, Booking.Status.CONFIRMED)


def outdated_uploads():
    """DICOM and zip uploads of open bookings with at least one image that lists no window."""
    return (
        Upload.objects.filter(
            booking__status__in=OPEN,
            kind__in=(Upload.Kind.DICOM, Upload.Kind.ZIP),
            instances__presets=[],
        )
        .distinct()
        .order_by("pk")
    )


class Command(BaseCommand):
    help = "Queue the processing again for uploads processed before windows and identity."

    def add_arguments(self, parser):
        parser.add_argument("--apply", action="store_true", help="Queue them (else only count).")

    def handle(self, *args, apply=False, **options):
        ids = list(outdated_uploads().values_list("pk", flat=True))
        if not apply:
            self.stdout.write(f"Dry run: {len(ids)} uploads would be processed again.")
            return
        for upload_id in ids:
            process_upload.enqueue(upload_id)
        self.stdout.write(f"Queued {len(ids)} uploads for processing again.")
