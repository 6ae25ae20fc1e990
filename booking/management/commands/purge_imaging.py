"""Delete the images of bookings that ended long ago: `manage.py purge_imaging --days N`.

Dry run unless --apply. The period comes from --days or settings.IMAGING_RETENTION_DAYS;
there is no default: Danish law has doctors keep patient records for at least 10
years, so the clinic decides (see docs/imaging.md). The audit (ImagingAccess) and the
doctors' verdicts (ImagingReview) are kept; their file labels still say what was seen.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from booking.imaging.services import booking_file_names, purge_booking, purgeable_bookings
from booking.models import Instance, Series, Study, Upload

REFUSAL = (
    "No retention period: give --days N or set IMAGING_RETENTION_DAYS. There is no "
    "default on purpose: Danish law has doctors keep patient records for at least 10 "
    "years, so the clinic decides how long the images are kept here (for example only "
    "when they are also kept in the patient record system)."
)


class Command(BaseCommand):
    help = (
        "Delete the original files and previews (files and Upload/Study/Series/Instance "
        "rows) of bookings completed or cancelled more than N days ago. Dry run unless "
        "--apply. Audit and review records are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, help="Retention period in days.")
        parser.add_argument("--apply", action="store_true", help="Really delete.")

    def handle(self, *args, days=None, apply=False, **options):
        if days is None:
            days = getattr(settings, "IMAGING_RETENTION_DAYS", None)
        if days is None:
            raise CommandError(REFUSAL)
        if days < 1:
            raise CommandError("The retention period must be at least 1 day.")
        bookings = list(purgeable_bookings(days))
        verb = "Deleted" if apply else "Would delete"
        total_files = 0
        for booking in bookings:
            if apply:
                counts = purge_booking(booking)
            else:
                counts = {
                    "uploads": Upload.objects.filter(booking=booking).count(),
                    "studies": Study.objects.filter(booking=booking).count(),
                    "series": Series.objects.filter(study__booking=booking).count(),
                    "instances": Instance.objects.filter(series__study__booking=booking).count(),
                    "files": len(booking_file_names(booking)),
                }
            total_files += counts["files"]
            self.stdout.write(
                f"{verb} {booking.reference} ({booking.get_status_display()}): "
                f"{counts['uploads']} uploads, {counts['studies']} studies, "
                f"{counts['series']} series, {counts['instances']} images, "
                f"{counts['files']} files"
            )
        summary = f"{verb} the imaging of {len(bookings)} bookings ({total_files} files)"
        if not apply:
            summary += ". Dry run: nothing was deleted; add --apply to delete."
        self.stdout.write(summary)
