"""The demo's API key: a read-write key "Demo integration" for the README's curl example. `seed_demo`
prints its secret the one time it is created; a key's secret is stored only hashed and cannot be shown
again."""

from dataclasses import dataclass

from pilots.models import ApiKey, Workspace
from pilots.services import api_keys

DEMO_KEY_NAME = "Demo integration"


@dataclass(frozen=True)
class DemoKey:
    key: ApiKey
    secret: str | None  # None: the key existed already, its secret was shown when it was made


def ensure_demo_key(*, workspace: Workspace, actor) -> DemoKey:
    """The demo workspace's integration key, created through the service (audited) when it has none."""
    existing = ApiKey.objects.filter(workspace=workspace, name=DEMO_KEY_NAME).order_by("-created_at").first()
    if existing is not None:
        return DemoKey(existing, None)
    made = api_keys.create_key(
        workspace=workspace, name=DEMO_KEY_NAME, access=ApiKey.Access.READ_WRITE, actor=actor
    )
    return DemoKey(made.key, made.secret)
