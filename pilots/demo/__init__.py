"""The hub's part of `seed_demo` and `generate_load`.

`seed`: a workspace, a person per role, and a dozen pilots with a history — and, for every pilot that
has started, an input standard, its AI versions and a few hundred cases with the problems real feeds
have. Everything is written through the services, on a demo clock that is set back in time, so the audit
trail and the timestamps read like months of real use.

`generate_load`: the same kinds of pilots and cases in bulk (thousands of pilots, millions of cases),
written straight to the tables for benches; the management command supplies the writer (COPY on
PostgreSQL).
"""

from pilots.demo.domains import DOMAINS
from pilots.demo.fields import Domain
from pilots.demo.load import LoadContext, generate_load
from pilots.demo.people import DEMO_PASSWORD, DEMO_SLUG, PEOPLE, DemoContext, demo_clock
from pilots.demo.records import as_text, make_record
from pilots.demo.workspace import PILOTS, seed

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_SLUG",
    "DOMAINS",
    "PEOPLE",
    "PILOTS",
    "DemoContext",
    "Domain",
    "LoadContext",
    "as_text",
    "demo_clock",
    "generate_load",
    "make_record",
    "seed",
]
