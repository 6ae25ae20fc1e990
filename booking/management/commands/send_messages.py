"""The periodic pass over planned messages: plan, send what is due, record the pass.

Run it every few minutes: from cron or a systemd timer (`manage.py send_messages`),
or as a long-running process (`manage.py send_messages --every 120`), as `make run`
does. Two passes at once are safe: each message is claimed by one of them.
"""

import time

from django.core.management.base import BaseCommand

from booking import outbox


class Command(BaseCommand):
    help = "Plan every booking's messages and send those that are due."

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            metavar="SECONDS",
            help="Run again every SECONDS until stopped (default: run once).",
        )

    def handle(self, *args, every=0, **options):
        while True:
            record = outbox.run_pass()
            self.stdout.write(
                f"{record.finished_at:%Y-%m-%d %H:%M:%S}: {record.planned} bookings planned, "
                f"{record.sent} messages sent"
            )
            if not every:
                return
            time.sleep(every)
