from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse

from pilots.demo import DEMO_PASSWORD, PEOPLE
from pilots.demo import portfolio as demo_portfolio
from pilots.demo.integration import DEMO_KEY_NAME, ensure_demo_key
from pilots.discovery import app_modules
from pilots.models import Pilot, Workspace
from pilots.services import readiness


class Command(BaseCommand):
    help = "Create the demo workspace with a user per role and a dozen pilots (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when any workspace exists.")

    def handle(self, *args, if_empty: bool = False, **options) -> None:
        if if_empty and Workspace.objects.exists():
            self.stdout.write("seed_demo: the database has data already; not seeding")
            return
        ctx = None
        with transaction.atomic(), readiness.collected():
            for module in app_modules("demo"):
                ctx = module.seed(ctx)
            demo_key = ensure_demo_key(workspace=ctx.workspace, actor=ctx.people["admin"])
        # Every demo pilot has its readiness at once, without waiting for a worker.
        readiness.recompute(
            pilot_ids=Pilot.objects.filter(workspace=ctx.workspace).values_list("id", flat=True)
        )
        # The portfolio dashboard's trend: the weeks behind the demo, then this one.
        demo_portfolio.backfill(ctx.workspace)
        for line in ctx.log:
            self.stdout.write(f"seed_demo: {line}")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, first, last, roles in PEOPLE:
            self.stdout.write(f"  {username:<9} {first} {last} — {', '.join(sorted(roles))}")
        self._api_key(ctx.workspace, demo_key)

    def _api_key(self, workspace, demo_key) -> None:
        """The integration API key for the README's curl example: its secret is printed this once."""
        page = settings.SITE_URL + reverse("integrations", args=[workspace.slug])
        if demo_key.secret is None:
            self.stdout.write(
                f"Demo API key “{DEMO_KEY_NAME}” ({demo_key.key.prefix}…) exists already. Its secret was "
                "shown once, when it was created, and cannot be shown again: an admin can create another "
                f"key on the Integrations page, {page}"
            )
            return
        self.stdout.write(
            f"Demo API key “{DEMO_KEY_NAME}” (read and write, workspace {workspace.slug}) — shown this once, "
            "copy it now:"
        )
        self.stdout.write(f"  {demo_key.secret}")
        self.stdout.write(
            f"  try: curl -H 'Authorization: Bearer {demo_key.secret}' {settings.SITE_URL}/api/v1/pilots"
        )
        self.stdout.write(f"  docs: {settings.SITE_URL}/api/v1/docs · more keys: {page}")
