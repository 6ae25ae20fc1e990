"""`manage.py load_demo`: the demo clinic's content, and demo staff logins in DEBUG."""

from django.conf import settings
from django.core.management.base import BaseCommand

from booking.demo import load_demo_booking
from clinic import page_cache
from clinic.demo import ensure_demo_accounts, load_demo
from conditions.demo import load_demo_content
from testimonials.demo import load_demo_testimonials


class Command(BaseCommand):
    help = "Load the made-up demo clinic (idempotent). With DEBUG on, also demo staff logins."

    def handle(self, *args, **options):
        # Hundreds of saves, one renewal of the page cache's content version at the end.
        with page_cache.one_renewal():
            clinic = load_demo()
            # The medical content is reviewed by the clinic's practitioner, so it comes second.
            load_demo_content()
            # The testimonials link to the demo conditions and treatment.
            load_demo_testimonials()
            # What can be booked, the list of blood-thinning medicines, the doctor's week
            # (and, for local development, a few made-up patients in it).
            load_demo_booking(with_bookings=settings.DEMO_ACCOUNTS)
        self.stdout.write(self.style.SUCCESS(f"Demo content loaded: {clinic.name}"))
        if settings.DEMO_ACCOUNTS:
            self.stdout.write(f"Demo staff logins for {settings.SITE_URL}/admin/ :")
            accounts = ensure_demo_accounts()
            for username, password, _uri in accounts:
                self.stdout.write(f"  {username:<10} {password}")
            # Demo only: real staff's secrets are shown once, on the enrolment page.
            self.stdout.write(
                "Their authenticator apps, kept in var/demo-passwords.txt too (add the "
                "otpauth:// address to an app, or type its secret= part as the key):"
            )
            for username, _password, uri in accounts:
                self.stdout.write(f"  {username:<10} {uri}")
