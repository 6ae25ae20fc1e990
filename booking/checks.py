"""System checks for the booking app's deployment settings (run by `manage.py check`)."""

from django.conf import settings
from django.core.checks import Error, register
from django.core.files.storage import FileSystemStorage

from booking.storage import private_storage


@register("deploy")
def x_accel_needs_a_local_private_storage(app_configs, **kwargs):
    """nginx can hand out only files on its own disk: not those in an S3 bucket."""
    if settings.IMAGING_SERVE_WITH_X_ACCEL and not isinstance(private_storage(), FileSystemStorage):
        return [
            Error(
                "IMAGING_SERVE_WITH_X_ACCEL is on, but patients' files are not on this "
                "machine's disk (STORAGES['private'] is object storage).",
                hint="Switch IMAGING_SERVE_WITH_X_ACCEL off: the views stream the files "
                "from the bucket after the permission check.",
                id="booking.E001",
            )
        ]
    return []
