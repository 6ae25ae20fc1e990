"""`manage.py sync_staff_groups`: set the staff groups' permissions (also run after migrate)."""

from django.core.management.base import BaseCommand

from clinic.staff_groups import sync_staff_groups


class Command(BaseCommand):
    help = "Create the Editors, Reception and Doctors groups and set their permissions."

    def handle(self, *args, **options):
        for name, count in sync_staff_groups().items():
            self.stdout.write(f"{name}: {count} permissions")
