from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ClinicConfig(AppConfig):
    default = True
    name = "clinic"
    verbose_name = _("Clinic")

    def ready(self):
        from clinic.staff_groups import sync_after_migrate

        # Permissions for every app exist only once all apps have migrated, so the
        # staff groups are brought in line after migrate, not in a migration.
        post_migrate.connect(sync_after_migrate, dispatch_uid="clinic.sync_staff_groups")

        from clinic import context_processors  # noqa: F401 - registers the site snapshot
        from clinic.page_cache import connect_invalidation

        connect_invalidation()


class ClinicAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "clinic.admin_site.ClinicAdminSite"
