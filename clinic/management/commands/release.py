"""`manage.py release`: what runs once per release, before the new code serves.

On several machines every one of them may start the release step at the same
moment, and two `migrate` runs at once fail halfway (both insert the same rows).
On PostgreSQL the step therefore holds a session-level advisory lock on a
connection of its own: a second release waits for the first, then finds nothing
left to migrate. The lock goes with the session, so a release that is killed
never leaves it held.

Once per release: `migrate` (after which the staff groups' permissions are
brought in line, clinic/apps.py). Not here, because each machine needs its own:
`collectstatic` (WhiteNoise serves from each machine's STATIC_ROOT) and
`translations` (the compiled .mo files beside the code), both run at install.
There is no database cache table to create (the cache is Redis).
"""

from contextlib import contextmanager, nullcontext

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connections

# Any fixed 64-bit number; every release of this site must use the same one.
RELEASE_LOCK_KEY = 4_815_162_342


@contextmanager
def release_lock(database: str, stdout):
    """Hold the release lock on a connection of its own, waiting while another holds it."""
    lock_connection = connections.create_connection(database)
    try:
        with lock_connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [RELEASE_LOCK_KEY])
            if not cursor.fetchone()[0]:
                stdout.write("Another release is running; waiting for it to finish.")
                stdout.flush()
                cursor.execute("SELECT pg_advisory_lock(%s)", [RELEASE_LOCK_KEY])
        try:
            yield
        finally:
            with lock_connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [RELEASE_LOCK_KEY])
    finally:
        lock_connection.close()


class Command(BaseCommand):
    help = "Apply the database migrations, one release at a time across machines."

    def add_arguments(self, parser):
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="The database to migrate (default: %(default)s).",
        )

    def handle(self, *args, database=DEFAULT_DB_ALIAS, **options):
        migrate = {
            "database": database,
            "interactive": False,
            "verbosity": options["verbosity"],
            # The streams given to this command (call_command), else the console's.
            "stdout": options.get("stdout"),
            "stderr": options.get("stderr"),
        }
        # SQLite is one machine's file: there is no other machine to wait for.
        postgresql = connections[database].vendor == "postgresql"
        with release_lock(database, self.stdout) if postgresql else nullcontext():
            call_command("migrate", **migrate)
        self.stdout.write("Release step done.")
