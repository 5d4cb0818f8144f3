"""The demo's people, its context and its clock: what every other part of the seed builds on."""

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from unittest import mock

from django.contrib.auth import get_user_model

from pilots.models import Pilot, Role, Workspace

User = get_user_model()

DEMO_PASSWORD = "prodready-demo"
DEMO_SLUG = "northwind"
PEOPLE = [
    # username, first, last, roles
    ("admin", "Ada", "Admin", {Role.ADMIN, Role.LEADER}),
    ("pm", "Paula", "Mendes", {Role.PROGRAM_MANAGER}),
    ("owner", "Omar", "Okafor", {Role.WORKFLOW_OWNER}),
    ("reviewer", "Rita", "Reyes", {Role.REVIEWER}),
    ("leader", "Leo", "Lindqvist", {Role.LEADER}),
    ("pm2", "Priya", "Nair", {Role.PROGRAM_MANAGER, Role.REVIEWER}),
    ("owner2", "Tom", "Becker", {Role.WORKFLOW_OWNER}),
]


@dataclass
class DemoContext:
    workspace: Workspace
    people: dict[str, object]
    pilots: dict[str, Pilot] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)


@contextmanager
def demo_clock(at: datetime):
    """Run services as if it were `at` (only for seeding demo history)."""
    with mock.patch("django.utils.timezone.now", return_value=at):
        yield


def _ensure_people() -> dict[str, object]:
    people = {}
    for username, first, last, _roles in PEOPLE:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(
                username=username,
                email=f"{username}@northwind.example",
                password=DEMO_PASSWORD,
                first_name=first,
                last_name=last,
            )
        people[username] = user
    return people
