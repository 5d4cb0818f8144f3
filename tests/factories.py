from contextlib import contextmanager

import factory
from django.contrib.auth import get_user_model

from pilots import checks
from pilots.models import Membership, Pilot, Workspace

User = get_user_model()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.LazyAttribute(lambda u: u.username.capitalize())
    password = factory.django.Password("pw")


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Workspace {n}")
    slug = factory.Sequence(lambda n: f"ws-{n}")
    timezone = "Europe/Berlin"
    currency = "EUR"


def member(workspace: Workspace, *roles: str, username: str | None = None, user=None):
    """A user who is a member of `workspace` with these roles; returns the user."""
    user = user or UserFactory(**({"username": username} if username else {}))
    membership = Membership(workspace=workspace, user=user)
    membership.set_roles(set(roles))
    membership.save()
    return user


def grant(user, workspace: Workspace, *roles: str) -> None:
    membership = Membership.objects.get(user=user, workspace=workspace)
    membership.set_roles(membership.roles | set(roles))
    membership.save()


class PilotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pilot

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Pilot {n}")
    problem = "Manual triage takes two days."
    workflow = "Claims intake"
    business_unit = "Claims"
    program_manager = factory.LazyAttribute(lambda p: member(p.workspace, "program_manager"))
    workflow_owner = factory.LazyAttribute(lambda p: member(p.workspace, "workflow_owner"))


@contextmanager
def extra_case_counts(**aggregates):
    """Register these case counts (`checks.case_counts`) for the block, and remove them after."""

    def counts(now):
        return aggregates

    checks.case_counts(counts)
    try:
        yield
    finally:
        checks._case_counts.pop(f"{counts.__module__}.{counts.__qualname__}")
