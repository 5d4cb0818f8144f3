from django.core.management.base import BaseCommand
from django.db import transaction

from pilots.demo import DEMO_PASSWORD, PEOPLE
from pilots.discovery import app_modules
from pilots.models import Workspace


class Command(BaseCommand):
    help = "Create the demo workspace with a user per role and a dozen pilots (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when any workspace exists.")

    def handle(self, *args, if_empty: bool = False, **options) -> None:
        if if_empty and Workspace.objects.exists():
            self.stdout.write("seed_demo: the database has data already; not seeding")
            return
        ctx = None
        with transaction.atomic():
            for module in app_modules("demo"):
                ctx = module.seed(ctx)
        for line in ctx.log:
            self.stdout.write(f"seed_demo: {line}")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, first, last, roles in PEOPLE:
            self.stdout.write(f"  {username:<9} {first} {last} — {', '.join(sorted(roles))}")
