"""The hub's part of `seed_demo` and `generate_load`.

`seed`: a workspace, a person per role, and a dozen pilots with a history — and, for every pilot that
has started, an input standard, its AI versions and a few hundred cases with the problems real feeds
have. Everything is written through the services, on a demo clock that is set back in time, so the audit
trail and the timestamps read like months of real use.

`generate_load`: the same kinds of pilots and cases in bulk (thousands of pilots, millions of cases),
written straight to the tables for benches; the management command supplies the writer (COPY on
PostgreSQL).
"""

import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from pilots import checks
from pilots.models import (
    AIVersion,
    Case,
    InputStandard,
    Membership,
    Outcome,
    Pilot,
    Role,
    Stage,
    Status,
    Workspace,
)
from pilots.services import audit
from pilots.services import gates as gate_services
from pilots.services import pilots as pilot_services
from pilots.services import standards as standard_services
from pilots.services import workspaces as workspace_services
from pilots.services.intake import Arrival, ingest
from pilots.services.pilots import PilotDetails
from pilots.validation import Validator, validate_standard

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


# ---------------------------------------------------------------------------------------------------
# Step 2: what each kind of pilot receives. A field is a standard's field plus how to make a realistic
# value for it: `gen(rng, event_time)`, and `p`, how often an optional field is filled in.

Gen = Callable[[random.Random, datetime], Any]
FIRST_NAMES = ("anna", "ben", "carla", "deniz", "emil", "fatma", "greta", "hugo", "ines", "jonas", "lena")
LAST_NAMES = ("schmidt", "meyer", "novak", "rossi", "dubois", "jansen", "kowalski", "garcia", "weber")
COMPANIES = ("Brightline GmbH", "Nordlicht AG", "Atlas Logistics BV", "Helios Parts Ltd", "Vega Foods SA")
MAIL_DOMAINS = ("example.com", "mail.example.org", "kunden.example.de", "corp.example.net")
SUBJECTS = (
    "Rechnung 2291",
    "Change of address",
    "Complaint",
    "Kündigung",
    "Question about my claim",
    "Re: offer",
)


def _f(name: str, type: str, gen: Gen | None = None, *, req: bool = False, p: float = 0.85, **rules) -> dict:
    return {"name": name, "type": type, "required": req, "gen": gen, "p": 1.0 if req else p, **rules}


def _code(fmt: str, lo: int, hi: int) -> Gen:
    return lambda r, e: fmt.format(r.randint(lo, hi))


def _money(median: float, sigma: float = 0.9) -> Gen:
    return lambda r, e: round(median * r.lognormvariate(0, sigma), 2)


def _ints(lo: int, hi: int) -> Gen:
    return lambda r, e: r.randint(lo, hi)


def _share(lo: float, hi: float) -> Gen:
    return lambda r, e: round(r.uniform(lo, hi), 3)


def _days(lo: int, hi: int) -> Gen:
    """A date `lo`…`hi` days from the event."""
    return lambda r, e: (e.date() + timedelta(days=r.randint(lo, hi))).isoformat()


def _hours(lo: float, hi: float) -> Gen:
    """A moment `lo`…`hi` hours from the event."""
    return lambda r, e: (e + timedelta(hours=r.uniform(lo, hi))).isoformat(timespec="seconds")


def _pick(*values) -> Gen:
    return lambda r, e: r.choice(values)


def _email(r: random.Random, e: datetime) -> str:
    return f"{r.choice(FIRST_NAMES)}.{r.choice(LAST_NAMES)}{r.randint(1, 99)}@{r.choice(MAIL_DOMAINS)}"


def _phone(r: random.Random, e: datetime) -> str:
    return f"+49 {r.randint(30, 899)} {r.randint(100000, 9999999)}"


def _person(r: random.Random, e: datetime) -> str:
    return f"{r.choice(FIRST_NAMES).capitalize()} {r.choice(LAST_NAMES).capitalize()}"


CONFIDENCE = _f("confidence", "number", lambda r, e: round(r.betavariate(9, 2), 3), req=True, min=0, max=1)
CURRENCY = _f("currency", "enum", req=True, allowed=["EUR", "USD", "GBP", "CHF"])


@dataclass(frozen=True)
class Domain:
    """A kind of pilot: its standard (with value makers), AI name, and the stray fields its files carry."""

    key: str
    ai_name: str
    id_format: str  # external ids: id_format.format(n)
    inputs: tuple[dict, ...]
    outputs: tuple[dict, ...]
    rules: tuple[dict, ...]
    event_field: str
    max_lateness_hours: float
    extras: tuple[tuple[str, str], ...]  # (name, value): columns that turn up in files, not in the standard
    id_field: str = ""  # the input that holds the case's external id, when one does

    def fields(self, version: int = 1) -> tuple[dict, ...]:
        """Version 2 adopts the stray column that kept arriving (it stops being outside the boundary)."""
        if version < 2:
            return self.inputs
        name, value = self.extras[0]
        return (*self.inputs, _f(name, "string", _pick(value), p=0.7))

    def spec(self, version: int = 1) -> dict:
        def plain(f: dict) -> dict:
            return {k: v for k, v in f.items() if k not in ("gen", "p")}

        return validate_standard(
            {
                "inputs": [plain(f) for f in self.fields(version)],
                "outputs": [plain(f) for f in self.outputs],
                "rules": list(self.rules),
                "event_time_field": self.event_field,
                "max_lateness_hours": self.max_lateness_hours,
            }
        )


def _requires(if_field: str, equals: str, then_field: str) -> dict:
    return {"kind": "requires", "if_field": if_field, "equals": equals, "then_field": then_field}


def _compare(left: str, op: str, right: str) -> dict:
    return {"kind": "compare", "left": left, "op": op, "right": right}


# One line (or two) per field: the standard's rules, then how to make its values.
# fmt: off
DOMAINS: dict[str, Domain] = {d.key: d for d in (
    Domain(
        key="claims", ai_name="fnol-triage", id_format="CLM-{:06d}",
        id_field="claim_id",
        inputs=(
            _f("claim_id", "string", _code("CLM-{:06d}", 10**5, 10**6 - 1), req=True, label="Claim ID",
               pattern=r"^CLM-\d{6}$", example="CLM-104233"),
            _f("policy_number", "string", _code("PHL-{:07d}", 10**6, 10**7 - 1), req=True,
               pattern=r"^[A-Z]{3}-\d{7}$", example="PHL-2093311"),
            _f("claim_amount", "number", _money(2400), req=True, label="Estimated amount", min=0, max=250000),
            CURRENCY,
            _f("channel", "enum", req=True, allowed=["web", "phone", "email", "broker"]),
            _f("phone_number", "string", _phone, p=0.5, pattern=r"^\+?[0-9 ()/-]{7,20}$"),
            _f("incident_at", "datetime", req=True, label="Incident time"),
            _f("cover_start", "date", _days(-700, -20), req=True),
            _f("cover_end", "date", _days(20, 400), req=True),
            _f("injured", "boolean", _pick(True, False, False, False, False, False), req=True),
            _f("claimant_email", "email", _email, p=0.8),
        ),
        outputs=(
            _f("category", "enum", req=True, allowed=["motor", "property", "liability", "injury", "travel"]),
            _f("urgency", "enum", req=True, allowed=["normal", "high", "low"]),
            CONFIDENCE,
        ),
        rules=(_compare("cover_end", ">=", "cover_start"), _requires("channel", "phone", "phone_number")),
        event_field="incident_at", max_lateness_hours=14 * 24,
        extras=(("adjuster_region", "South"), ("legacy_ref", "L-88213"), ("fax_number", "+49 30 1234")),
    ),
    Domain(
        key="invoices", ai_name="ap-extract", id_format="AP-{:07d}",
        inputs=(
            _f("invoice_number", "string", _code("INV-{:06d}", 1000, 999999), req=True, max_length=40),
            _f("supplier_vat_id", "string", _code("DE{:09d}", 10**8, 10**9 - 1), req=True,
               label="Supplier VAT ID", pattern=r"^[A-Z]{2}[0-9A-Z]{8,12}$", example="DE811907980"),
            _f("supplier_name", "string", _pick(*COMPANIES), req=True),
            _f("document_type", "enum", req=True, allowed=["invoice", "credit_note"]),
            _f("original_invoice", "string", _code("INV-{:06d}", 1000, 999999), p=0.05),
            _f("invoice_date", "date", req=True),
            _f("due_date", "date", _days(14, 60), req=True),
            _f("net_amount", "number", _money(1800, 1.1), req=True, min=0, max=500000),
            _f("vat_rate", "number", _pick(0.19, 0.19, 0.19, 0.07, 0.0), req=True, min=0, max=0.27),
            CURRENCY,
            _f("po_number", "string", _code("PO-{:06d}", 10**5, 10**6 - 1), p=0.7, pattern=r"^PO-\d{6}$",
               example="PO-120044"),
            _f("remit_email", "email", _email, p=0.6),
        ),
        outputs=(
            _f("gl_account", "enum", req=True, label="GL account", allowed=["6000", "6100", "6300", "6400"]),
            _f("extracted_total", "number", _money(2100, 1.1), req=True, min=0),
            CONFIDENCE,
        ),
        rules=(_compare("due_date", ">=", "invoice_date"),
               _requires("document_type", "credit_note", "original_invoice")),
        event_field="invoice_date", max_lateness_hours=30 * 24,
        extras=(("cost_center", "CC4410"), ("scan_batch", "B-2291"), ("approver", "k.weber")),
    ),
    Domain(
        key="email", ai_name="inbox-router", id_format="MSG-{:08d}",
        inputs=(
            _f("message_id", "string", _code("<{:010d}@mail.example.com>", 10**9, 10**10 - 1), req=True,
               pattern=r"^<[^@\s]+@[^@\s]+>$", example="<4411@mail.example.com>"),
            _f("from_address", "email", _email, req=True),
            _f("customer_number", "string", _code("C{:08d}", 10**7, 10**8 - 1), p=0.6, pattern=r"^C\d{8}$",
               example="C10442871"),
            _f("subject", "string", _pick(*SUBJECTS), req=True, max_length=300),
            _f("language", "enum", req=True, allowed=["de", "en", "fr", "nl", "it"]),
            _f("kind", "enum", req=True, allowed=["new", "reply", "forward"]),
            _f("in_reply_to", "string", _code("<{:010d}@crm.example.com>", 10**9, 10**10 - 1), p=0.2),
            _f("sent_at", "datetime", req=True),
            _f("thread_started_at", "datetime", _hours(-96, 0), req=True),
            _f("attachments", "integer", _pick(0, 0, 0, 1, 1, 2, 4), req=True, min=0, max=20),
            _f("vip", "boolean", _pick(True, False, False, False, False, False, False, False)),
        ),
        outputs=(
            _f("team", "enum", req=True, allowed=["billing", "claims", "sales", "complaints", "technical"]),
            _f("priority", "enum", req=True, allowed=["p3", "p2", "p1"]),
            CONFIDENCE,
        ),
        rules=(_compare("thread_started_at", "<=", "sent_at"), _requires("kind", "reply", "in_reply_to")),
        event_field="sent_at", max_lateness_hours=24,
        extras=(("mailbox", "service@northwind.example"), ("spam_score", "0.2")),
    ),
    Domain(
        key="underwriting", ai_name="risk-notes", id_format="SUB-{:05d}",
        id_field="submission_id",
        inputs=(
            _f("submission_id", "string", _code("SUB-{:05d}", 10**4, 10**5 - 1), req=True,
               pattern=r"^SUB-\d{5}$", example="SUB-20931"),
            _f("broker_code", "string", _code("BR{:04d}", 1000, 9999), req=True, pattern=r"^BR\d{4}$",
               example="BR1042"),
            _f("insured_name", "string", _pick(*COMPANIES), req=True),
            _f("occupancy", "enum", req=True,
               allowed=["office", "retail", "warehouse", "manufacturing", "hospitality"]),
            _f("hazard_class", "enum", p=0.3, allowed=["low", "medium", "high"]),
            _f("sum_insured", "number", _money(4_000_000, 0.8), req=True, min=100_000, max=50_000_000),
            _f("year_built", "integer", _ints(1890, 2024), req=True, min=1850, max=2026),
            _f("sprinklered", "boolean", _pick(True, False), req=True),
            _f("inception_date", "date", _days(14, 60), req=True),
            _f("expiry_date", "date", _days(380, 420), req=True),
            _f("submitted_at", "datetime", req=True),
        ),
        outputs=(
            _f("risk_grade", "enum", req=True, allowed=["B", "A", "C", "D"]),
            _f("note_words", "integer", _ints(180, 900), req=True, min=50, max=1500),
            CONFIDENCE,
        ),
        rules=(_compare("expiry_date", ">", "inception_date"),
               _requires("occupancy", "manufacturing", "hazard_class")),
        event_field="submitted_at", max_lateness_hours=72,
        extras=(("broker_contact", "j.weber@broker.example"), ("prior_carrier", "Allied")),
    ),
    Domain(
        key="contracts", ai_name="clause-review", id_format="CT-{:07d}",
        inputs=(
            _f("contract_id", "string", _code("CT-2026-{:04d}", 1, 9999), req=True,
               pattern=r"^CT-\d{4}-\d{4}$", example="CT-2026-0412"),
            _f("supplier_name", "string", _pick(*COMPANIES), req=True),
            _f("contract_type", "enum", req=True, allowed=["msa", "sow", "nda", "dpa"]),
            _f("parent_contract_id", "string", _code("CT-2025-{:04d}", 1, 9999), p=0.15),
            _f("supplier_country", "enum", req=True, allowed=["DE", "NL", "FR", "PL", "GB", "US", "IN"]),
            _f("contract_value", "number", _money(180_000, 1.2), req=True, min=0, max=20_000_000),
            CURRENCY,
            _f("start_date", "date", _days(5, 60), req=True),
            _f("end_date", "date", _days(370, 1100), req=True),
            _f("pages", "integer", _ints(3, 120), req=True, min=1, max=400),
            _f("submitted_at", "datetime", req=True),
        ),
        outputs=(
            _f("risky_clauses", "integer", _ints(0, 6), req=True, min=0, max=12),
            _f("risk_level", "enum", req=True, allowed=["low", "medium", "high"]),
            CONFIDENCE,
        ),
        rules=(_compare("end_date", ">=", "start_date"),
               _requires("contract_type", "sow", "parent_contract_id")),
        event_field="submitted_at", max_lateness_hours=120,
        extras=(("requester", "procurement"), ("sharepoint_url", "https://sp.example/ct/4411")),
    ),
    Domain(
        key="disputes", ai_name="dispute-classifier", id_format="DSP{:09d}",
        id_field="dispute_id",
        inputs=(
            _f("dispute_id", "string", _code("DSP{:09d}", 10**8, 10**9 - 1), req=True, pattern=r"^DSP\d{9}$",
               example="DSP104422871"),
            _f("card_last4", "string", _code("{:04d}", 0, 9999), req=True, pattern=r"^\d{4}$",
               example="4242"),
            _f("scheme", "enum", req=True, allowed=["visa", "mastercard", "amex"]),
            _f("reason_code", "enum", req=True, allowed=["10.4", "13.1", "13.3", "12.6", "4837", "4853"]),
            _f("return_tracking", "string", _code("1Z{:012d}", 10**11, 10**12 - 1), p=0.2),
            _f("amount", "number", _money(120, 1.0), req=True, min=0.01, max=50000),
            CURRENCY,
            _f("transaction_date", "date", _days(-60, -3), req=True),
            _f("dispute_date", "date", _days(-2, 0), req=True),
            _f("customer_email", "email", _email, p=0.9),
            _f("opened_at", "datetime", req=True),
        ),
        outputs=(
            _f("dispute_category", "enum", req=True,
               allowed=["fraud", "not_received", "not_as_described", "duplicate", "credit_not_processed"]),
            _f("recommended_action", "enum", req=True, allowed=["represent", "accept"]),
            CONFIDENCE,
        ),
        rules=(_compare("dispute_date", ">=", "transaction_date"),
               _requires("reason_code", "13.3", "return_tracking")),
        event_field="opened_at", max_lateness_hours=48,
        extras=(("acquirer_ref", "74987500000000012345"), ("terminal_id", "T-0091")),
    ),
    Domain(
        key="kyc", ai_name="id-check", id_format="APP-{:07d}",
        id_field="application_id",
        inputs=(
            _f("application_id", "string", _code("APP-{:07d}", 10**6, 10**7 - 1), req=True,
               pattern=r"^APP-\d{7}$", example="APP-2031144"),
            _f("document_type", "enum", req=True,
               allowed=["id_card", "passport", "residence_permit", "driving_licence"]),
            _f("permit_category", "enum", p=0.2, allowed=["eu_blue_card", "work", "study", "family"]),
            _f("document_number", "string", _code("L{:08d}", 10**7, 10**8 - 1), req=True, max_length=20),
            _f("issuing_country", "enum", req=True, allowed=["DE", "AT", "CH", "FR", "NL", "PL", "IT"]),
            _f("date_of_birth", "date", _days(-30000, -6600), req=True),
            _f("issue_date", "date", _days(-3000, -30), req=True),
            _f("expiry_date", "date", _days(200, 3000), req=True),
            _f("email", "email", _email, req=True),
            _f("mobile", "string", _phone, p=0.8, pattern=r"^\+?[0-9 ()/-]{7,20}$"),
            _f("submitted_at", "datetime", req=True),
        ),
        outputs=(
            _f("verdict", "enum", req=True, allowed=["pass", "refer", "fail"]),
            _f("face_match", "number", _share(0.6, 0.99), req=True, min=0, max=1),
            CONFIDENCE,
        ),
        rules=(_compare("expiry_date", ">", "issue_date"),
               _requires("document_type", "residence_permit", "permit_category")),
        event_field="submitted_at", max_lateness_hours=24,
        extras=(("device", "iPhone 15"), ("ip_country", "DE")),
    ),
    Domain(
        key="subrogation", ai_name="recovery-finder", id_format="REC-{:06d}",
        inputs=(
            _f("claim_id", "string", _code("CLM-{:06d}", 10**5, 10**6 - 1), req=True, label="Claim ID",
               pattern=r"^CLM-\d{6}$", example="CLM-104233"),
            _f("loss_type", "enum", req=True, allowed=["motor", "property", "liability"]),
            _f("loss_date", "date", _days(-200, -30), req=True),
            _f("paid_amount", "number", _money(6500, 1.2), req=True, min=0, max=2_000_000),
            CURRENCY,
            _f("third_party_name", "string", _person, p=0.6),
            _f("third_party_plate", "string", _code("B-NW {:04d}", 1, 9999), p=0.4,
               pattern=r"^[A-Z]{1,3}-[A-Z]{1,2} \d{1,4}$", example="B-NW 1234"),
            _f("liability_share", "number", _share(0, 1), req=True, min=0, max=1),
            _f("police_report", "boolean", _pick(True, False, False), req=True),
            _f("closed_at", "datetime", req=True),
        ),
        outputs=(
            _f("recovery_potential", "enum", req=True, allowed=["none", "low", "medium", "high"]),
            _f("expected_recovery", "number", _money(1500, 1.3), req=True, min=0),
            CONFIDENCE,
        ),
        rules=(_requires("loss_type", "motor", "third_party_plate"),),
        event_field="closed_at", max_lateness_hours=90 * 24,
        extras=(("handler", "m.rossi"), ("recovery_agency", "Collecta")),
    ),
    Domain(
        key="calls", ai_name="call-summary", id_format="CALL-{:08d}",
        id_field="call_id",
        inputs=(
            _f("call_id", "string", _code("CALL-{:08d}", 10**7, 10**8 - 1), req=True, pattern=r"^CALL-\d{8}$",
               example="CALL-20441187"),
            _f("agent_id", "string", _code("A{:05d}", 10**4, 10**5 - 1), req=True, pattern=r"^A\d{5}$",
               example="A10442"),
            _f("queue", "enum", req=True, allowed=["billing", "claims", "sales", "retention"]),
            _f("outcome", "enum", req=True, allowed=["resolved", "callback", "transferred"]),
            _f("callback_number", "string", _phone, p=0.3, pattern=r"^\+?[0-9 ()/-]{7,20}$"),
            _f("started_at", "datetime", req=True),
            _f("ended_at", "datetime", _hours(0.03, 0.5), req=True),
            _f("transcript_words", "integer", _ints(80, 4000), req=True, min=0, max=20000),
            _f("language", "enum", req=True, allowed=["de", "en", "fr"]),
        ),
        outputs=(
            _f("summary_words", "integer", _ints(40, 220), req=True, min=10, max=400),
            _f("disposition", "enum", req=True, allowed=["info", "complaint", "change", "cancel"]),
            CONFIDENCE,
        ),
        rules=(_compare("ended_at", ">=", "started_at"), _requires("outcome", "callback", "callback_number")),
        event_field="started_at", max_lateness_hours=4,
        extras=(("recording_url", "https://rec.example/8812"), ("csat", "4")),
    ),
    Domain(
        key="suppliers", ai_name="supplier-qa", id_format="SR-{:06d}",
        id_field="supplier_request_id",
        inputs=(
            _f("supplier_request_id", "string", _code("SR-{:06d}", 10**5, 10**6 - 1), req=True,
               pattern=r"^SR-\d{6}$", example="SR-204411"),
            _f("legal_name", "string", _pick(*COMPANIES), req=True),
            _f("vat_id", "string", _code("NL{:09d}B01", 10**8, 10**9 - 1), req=True, label="VAT ID",
               pattern=r"^[A-Z]{2}[0-9A-Z]{8,12}$", example="NL123456789B01"),
            _f("country", "enum", req=True, allowed=["DE", "NL", "FR", "PL", "CZ", "GB"]),
            _f("iban", "string", _code("DE{:020d}", 10**19, 10**20 - 1), req=True, label="IBAN",
               pattern=r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$", example="DE89370400440532013000"),
            _f("category", "enum", req=True, allowed=["goods", "services", "logistics", "it"]),
            _f("dpa_signed_on", "date", _days(-90, 0), p=0.25, label="DPA signed on"),
            _f("payment_terms_days", "integer", _pick(14, 30, 30, 30, 45, 60), req=True, min=0, max=120),
            _f("annual_spend", "number", _money(80_000, 1.3), req=True, min=0, max=10_000_000),
            _f("contact_email", "email", _email, req=True),
            _f("requested_at", "datetime", req=True),
        ),
        outputs=(
            _f("risk", "enum", req=True, allowed=["low", "medium", "high"]),
            _f("completeness", "number", _share(0.6, 1), req=True, min=0, max=1),
            CONFIDENCE,
        ),
        rules=(_requires("category", "it", "dpa_signed_on"),),
        event_field="requested_at", max_lateness_hours=7 * 24,
        extras=(("duns", "31-529-3214"), ("sap_vendor", "V100442")),
    ),
)}
# fmt: on


# How often each kind of problem appears among the cases that have one (a case may have two).
PROBLEM_MIX = {
    "missing": 0.34,
    "invalid": 0.30,
    "contradictory": 0.12,
    "late": 0.14,
    "outside_boundary": 0.10,
}


def _enum_value(r: random.Random, allowed: list[str]) -> str:
    # The first allowed value is the most common, as in real workflows.
    return r.choices(allowed, weights=[1 / (i + 1) ** 0.8 for i in range(len(allowed))])[0]


def _moment_text(field: dict, moment: datetime) -> str:
    return moment.date().isoformat() if field["type"] == "date" else moment.isoformat(timespec="seconds")


def _value(r: random.Random, field: dict, event: datetime) -> Any:
    gen, kind = field["gen"], field["type"]
    if gen is not None:
        value = gen(r, event)
    elif kind == "enum":
        value = _enum_value(r, field["allowed"])
    elif kind == "email":
        value = _email(r, event)
    elif kind == "boolean":
        value = r.random() < 0.25
    else:  # the event field itself
        return _moment_text(field, event)
    if kind in ("number", "integer"):
        low, high = field.get("min"), field.get("max")
        value = max(value, low) if low is not None else value
        value = min(value, high) if high is not None else value
    return value


def _lag(r: random.Random, domain: Domain, kind: str) -> timedelta:
    """How long after its event a case arrives: mostly well inside the standard's limit."""
    limit = domain.max_lateness_hours
    room = max(limit * 0.8 - (24 if kind == "date" else 0), limit * 0.1)
    return timedelta(hours=min(r.lognormvariate(0, 1) * limit / 8, room))


def _bad(r: random.Random, field: dict, value: Any) -> Any:
    """A wrong value of the kind real feeds send for this field, or None when there is none."""
    kind = field["type"]
    if kind in ("number", "integer"):
        number = value if type(value) in (int, float) and value else 1250.0
        text = f"{number:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
        options = [text]  # a European decimal comma
        if field.get("max") is not None:
            options.append(field["max"] * 10 if field["max"] else 1000)
        if field.get("min") is not None and field["min"] >= 0:
            options.append(-abs(number))
        return r.choice(options)
    if kind == "enum":
        return r.choice(
            [
                str(value).upper() if str(value).upper() != str(value) else str(value).lower() + "s",
                "other",
                "n/a",
                "unknown",
            ]
        )
    if kind == "email":
        return r.choice([str(value).replace("@", " at "), str(value).split("@")[0], str(value) + ";"])
    if kind in ("date", "datetime"):
        try:
            moment = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            moment = datetime(2026, 2, 14, 9, 30)
        if kind == "date":
            return r.choice([moment.strftime("%d.%m.%Y"), moment.strftime("%m/%d/%Y"), "TBD"])
        return r.choice(
            [moment.strftime("%d.%m.%Y %H:%M"), moment.strftime("%b %d %Y %I:%M %p"), "yesterday"]
        )
    if kind == "boolean":
        return r.choice(["maybe", "unknown", "2"])
    if field.get("pattern") and value:
        bad = r.choice([str(value).replace("-", ""), str(value).lower(), " " + str(value), "TBD"])
        return bad if bad != value else "TBD"
    if field.get("max_length"):
        return "x" * (field["max_length"] + 5)
    return None


def _shift(field: dict, value: Any, r: random.Random, sign: int) -> Any:
    if field["type"] == "date":
        return (date.fromisoformat(value) + timedelta(days=sign * r.randint(1, 90))).isoformat()
    if field["type"] == "datetime":
        return (datetime.fromisoformat(value) + timedelta(hours=sign * r.uniform(1, 48))).isoformat(
            timespec="seconds"
        )
    return value + sign * max(abs(value), 1) * r.uniform(0.1, 1)


def _spoil(r: random.Random, domain: Domain, fields: tuple[dict, ...], record: dict, kind: str) -> None:
    """Give a clean record one problem of `kind`, the way it happens in real feeds."""
    inputs, outputs = record["inputs"], record["outputs"]
    by_name = {f["name"]: f for f in fields}
    if kind == "missing":
        if r.random() < 0.15:
            name = r.choice([f["name"] for f in domain.outputs if f["required"]])
            outputs.pop(name, None)
        else:
            name = r.choice([f["name"] for f in fields if f["required"] and f["name"] != domain.event_field])
            if r.random() < 0.5:
                inputs.pop(name, None)
            else:
                inputs[name] = ""
    elif kind == "invalid":
        for _attempt in range(5):
            spec = r.choice(fields)
            bad = _bad(r, spec, inputs.get(spec["name"]))
            if bad is not None:
                inputs[spec["name"]] = bad
                return
    elif kind == "contradictory":
        rule = r.choice(domain.rules)
        if rule["kind"] == "requires":
            inputs[rule["if_field"]] = rule["equals"]
            inputs.pop(rule["then_field"], None)
        else:
            left, right = by_name[rule["left"]], by_name[rule["right"]]
            sign = -1 if rule["op"] in (">", ">=") else 1
            try:
                inputs[left["name"]] = _shift(left, inputs[right["name"]], r, sign)
            except (KeyError, TypeError, ValueError):  # the right side is missing or spoilt already
                inputs[right["name"]] = _value(r, right, record["event"])
                inputs[left["name"]] = _shift(left, inputs[right["name"]], r, sign)
    elif kind == "late":
        event_field = by_name[domain.event_field]
        hours = domain.max_lateness_hours * r.uniform(1.3, 5) + (24 if event_field["type"] == "date" else 0)
        record["event"] = record["received_at"] - timedelta(hours=hours)
        inputs[domain.event_field] = _moment_text(event_field, record["event"].astimezone(record["zone"]))
    else:  # outside_boundary: a column the standard does not have
        names = set(by_name)
        name, value = r.choice([x for x in domain.extras if x[0] not in names])
        inputs[name] = value


def make_record(
    r: random.Random,
    domain: Domain,
    *,
    received_at: datetime,
    zone: ZoneInfo,
    problem_share: float,
    version: int = 1,
    external_id: str = "",
) -> dict:
    """A realistic case of `domain` arriving at `received_at`: inputs, outputs and the intended problems."""
    fields = domain.fields(version)
    by_name = {f["name"]: f for f in fields}
    event = (received_at - _lag(r, domain, by_name[domain.event_field]["type"])).astimezone(zone)
    inputs = {f["name"]: _value(r, f, event) for f in fields if f["required"] or r.random() < f["p"]}
    if external_id and domain.id_field:
        inputs[domain.id_field] = external_id
    for rule in domain.rules:
        if rule["kind"] == "requires" and inputs.get(rule["if_field"]) == rule["equals"]:
            inputs.setdefault(rule["then_field"], _value(r, by_name[rule["then_field"]], event))
    outputs = {f["name"]: _value(r, f, event) for f in domain.outputs}
    record = {"inputs": inputs, "outputs": outputs, "event": event, "received_at": received_at, "zone": zone}
    kinds: list[str] = []
    if r.random() < problem_share:
        kinds = r.choices(
            list(PROBLEM_MIX), weights=list(PROBLEM_MIX.values()), k=2 if r.random() < 0.15 else 1
        )
        for kind in dict.fromkeys(kinds):
            _spoil(r, domain, fields, record, kind)
    record["kinds"] = kinds
    record["external_id"] = external_id
    return record


def as_text(value: Any) -> str:
    """A value as a CSV cell."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


# Step 2 of each pilot that has started: (domain, cases, problem share at first → now, the pilot's own
# system records outcomes, AI versions). Pilots that never passed "standardize inputs" get few cases.
STEP2 = {
    "claims": ("claims", 420, (0.16, 0.04), True, 3),
    "invoices": ("invoices", 460, (0.14, 0.06), True, 3),
    "email": ("email", 380, (0.08, 0.07), True, 2),
    "underwriting": ("underwriting", 260, (0.13, 0.09), False, 2),
    "contracts": ("contracts", 220, (0.10, 0.10), False, 2),
    "disputes": ("disputes", 320, (0.15, 0.11), True, 2),
    "kyc": ("kyc", 70, (0.12, 0.12), False, 2),
    "subrogation": ("subrogation", 200, (0.17, 0.15), False, 2),
    "calls": ("calls", 60, (0.09, 0.09), False, 2),
    "suppliers": ("suppliers", 210, (0.18, 0.15), True, 2),
}
REVISED = {"claims", "invoices"}  # publish a second version of the standard midway
CASE_WINDOW = timedelta(weeks=12)
UNDECIDED_FOR = timedelta(days=3)  # cases younger than this have no outcome yet
VERSION_LABELS = ("1.0", "1.1", "2.0")
VERSION_NOTES = (
    "Baseline model from the proof of concept.",
    "Retrained on the first corrections.",
    "New prompt; retrieves the policy wording.",
)
CORRECTION_RATE = (0.16, 0.10, 0.06)  # by AI version: the learning the pilots show
CYCLE_HOURS = (30, 16, 9)  # median hours from arrival to decision, by AI version
COST_PER_TOUCH = Decimal("14.50")
ATTESTATION_NOTES = {
    "integration.points_declared": ("Integration design signed off with the {system} team.", "integration"),
    "inputs.standard": (
        "Standard applied to a sample of last quarter's cases before the feed went live.",
        "input-standard",
    ),
    "inputs.edge_rules": (
        "Contradiction and lateness rules tested on last quarter's rejected cases.",
        "edge-rules",
    ),
}
# key, name, business unit, workflow, pm, owner, weeks ago started, path of (gate outcome) steps, problem
PILOTS = [
    (
        "claims",
        "Claims triage assistant",
        "Claims",
        "First notice of loss triage",
        "pm",
        "owner",
        30,
        ["go", "go", "go", "go", "go"],
        "Adjusters spend a day per claim sorting first notices of loss by urgency.",
    ),
    (
        "invoices",
        "Invoice data extraction",
        "Finance",
        "Accounts payable invoice entry",
        "pm",
        "owner2",
        26,
        ["go", "go", "conditional_go", "go"],
        "Clerks re-key 4,000 supplier invoices a month into SAP.",
    ),
    (
        "email",
        "Customer email routing",
        "Customer service",
        "Inbound email triage",
        "pm2",
        "owner",
        20,
        ["go", "go", "go"],
        "Emails wait 2 days in a shared inbox before reaching the right team.",
    ),
    (
        "underwriting",
        "Underwriting risk notes",
        "Underwriting",
        "Commercial property underwriting",
        "pm",
        "owner",
        18,
        ["go", "go", "go", "request"],
        "Underwriters write risk notes by hand from broker submissions.",
    ),
    (
        "contracts",
        "Contract clause review",
        "Legal",
        "Supplier contract review",
        "pm2",
        "owner2",
        14,
        ["go", "go"],
        "Legal reviews every supplier contract for 12 risky clauses, taking 3 days each.",
    ),
    (
        "disputes",
        "Payment dispute classifier",
        "Finance",
        "Card payment disputes",
        "pm",
        "owner2",
        12,
        ["go", "conditional_go"],
        "Disputes are misfiled 1 time in 6, causing chargeback losses.",
    ),
    (
        "kyc",
        "KYC document check",
        "Compliance",
        "Customer onboarding checks",
        "pm2",
        "owner",
        8,
        ["go"],
        "Onboarding stalls for a week waiting for manual ID document checks.",
    ),
    (
        "subrogation",
        "Subrogation recovery finder",
        "Claims",
        "Claims recovery",
        "pm",
        "owner",
        16,
        ["go", "go", "recycle"],
        "Recoverable claims are missed because nobody has time to look for third parties.",
    ),
    (
        "calls",
        "Call summary drafting",
        "Customer service",
        "After-call work",
        "pm2",
        "owner2",
        10,
        ["go", "hold"],
        "Agents spend 4 minutes writing notes after every call.",
    ),
    (
        "suppliers",
        "Supplier onboarding QA",
        "Procurement",
        "Supplier master data",
        "pm",
        "owner2",
        22,
        ["go", "go", "stop"],
        "Supplier records arrive incomplete and are corrected three times.",
    ),
    (
        "fraud",
        "Fraud signal summarizer",
        "Claims",
        "Special investigations intake",
        "pm",
        "owner",
        3,
        ["request"],
        "Investigators read 40 pages per referral to find the fraud signals.",
    ),
    (
        "hr",
        "HR policy assistant",
        "People",
        "HR policy questions",
        "pm2",
        "owner2",
        1,
        [],
        "HR answers the same 30 policy questions hundreds of times a month.",
    ),
]


GOES = (Outcome.GO, Outcome.CONDITIONAL_GO)


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


def seed(ctx: DemoContext | None = None) -> DemoContext:
    """Create the demo workspace (skipped when it exists). Returns the context other apps' demos build on."""
    existing = Workspace.objects.filter(slug=DEMO_SLUG).first()
    people = _ensure_people()
    if existing is not None:
        return DemoContext(
            workspace=existing,
            people=people,
            pilots={p.name: p for p in Pilot.objects.filter(workspace=existing)},
            log=["the demo workspace exists already; nothing changed"],
        )
    start = timezone.now() - timedelta(weeks=32)
    with demo_clock(start):
        workspace = workspace_services.create_workspace(
            actor=people["admin"], name="Northwind Insurance", timezone="Europe/Berlin", currency="EUR"
        )
        workspace.slug = DEMO_SLUG
        Workspace.objects.filter(pk=workspace.pk).update(slug=DEMO_SLUG)
        admin_membership = Membership.objects.get(workspace=workspace, user=people["admin"])
        workspace_services.set_member_roles(
            membership=admin_membership, actor=people["admin"], roles=PEOPLE[0][3]
        )
        for username, _first, _last, roles in PEOPLE[1:]:
            membership = Membership(workspace=workspace, user=people[username])
            membership.set_roles(roles)
            membership.welcomed_at = start
            membership.save()
    ctx = DemoContext(workspace=workspace, people=people)
    for key, name, unit, workflow, pm, owner, weeks, path, problem in PILOTS:
        ctx.pilots[key] = _walk(
            ctx,
            key=key,
            name=name,
            unit=unit,
            workflow=workflow,
            pm=people[pm],
            owner=people[owner],
            weeks=weeks,
            path=path,
            problem=problem,
        )
    cases = Case.objects.filter(pilot__workspace=workspace).count()
    ctx.log.append(f"workspace “{workspace}” with {len(ctx.pilots)} pilots and {cases} cases")
    return ctx


Action = tuple[datetime, Callable[[Pilot], object]]


def _timeline(start: datetime, weeks: int, path: list[str]) -> list[tuple[datetime, datetime, str]]:
    """(gate requested, gate decided, outcome) for each step of a pilot's path, evenly spread."""
    step = timedelta(weeks=weeks) / (len(path) + 1)
    return [
        (start + step * (i + 1), start + step * (i + 1) + timedelta(days=2), o) for i, o in enumerate(path)
    ]


def _walk(ctx: DemoContext, *, key, name, unit, workflow, pm, owner, weeks, path, problem) -> Pilot:
    """Register a pilot `weeks` ago and take it through its gates, a few weeks apart; its step 2
    evidence (standard, AI versions, cases) arrives in between, so each gate sees what existed then."""
    now = timezone.now()
    start = now - timedelta(weeks=weeks)
    timeline = _timeline(start, weeks, path)
    with demo_clock(start):
        pilot = pilot_services.create_pilot(
            workspace=ctx.workspace,
            actor=pm,
            details=PilotDetails(
                name=name,
                problem=problem,
                workflow=workflow,
                business_unit=unit,
                program_manager=pm,
                workflow_owner=owner,
                integration_points=["ServiceNow"] if unit != "People" else [],
                target_date=(now + timedelta(weeks=12)).date(),
            ),
        )
    todo = _step2_actions(key, pm, timeline, now=now, zone=ctx.workspace.zone, integrated=unit != "People")
    for requested_at, decided_at, outcome in timeline:
        _catch_up(pilot, todo, requested_at)
        with demo_clock(requested_at):
            gate_request = gate_services.request_gate_decision(
                pilot=pilot, actor=pm, note="Evidence attached."
            )
        if outcome == "request":
            break
        with demo_clock(decided_at):
            pilot = pilot_services.accept_accountability(pilot=pilot, actor=owner)
            _decide(pilot, gate_request, owner, outcome)
        pilot.refresh_from_db()
    _catch_up(pilot, todo, now)
    return pilot


def _catch_up(pilot: Pilot, todo: list[Action], until: datetime) -> None:
    while todo and todo[0][0] <= until:
        at, action = todo.pop(0)
        with demo_clock(at):
            action(pilot)


def _step2_actions(
    key: str, pm, timeline, *, now: datetime, zone: ZoneInfo, integrated: bool
) -> list[Action]:
    """What happens in step 2 of this pilot, in time order: publish its standard, register its AI
    versions, and receive its cases in weekly batches (uploads, the API, the intake form)."""
    if key not in STEP2 or not timeline or timeline[0][2] not in GOES:
        return []
    domain_key, count, (share_from, share_to), records_outcomes, n_versions = STEP2[key]
    domain = DOMAINS[domain_key]
    rng = random.Random(f"demo-{key}")
    defined_at = timeline[0][1]
    standardized_at = timeline[1][1] if len(timeline) > 1 and timeline[1][2] in GOES else None
    end = next((d for _r, d, o in timeline if o in (Outcome.HOLD, Outcome.STOP)), now)
    standard_at = defined_at + timedelta(days=5)
    first = max(
        standardized_at or standard_at + timedelta(days=2), now - CASE_WINDOW, standard_at + timedelta(days=1)
    )
    span = end - first
    revised_at = first + span * 0.55 if key in REVISED else None
    releases = [max(first - timedelta(days=10), defined_at + timedelta(days=1))]
    releases += [first + span * (0.45 if n_versions == 2 else (0.4, 0.75)[i]) for i in range(n_versions - 1)]
    identifiers = [f"{domain.ai_name}-{v}" for v in VERSION_LABELS[:n_versions]]

    actions: list[Action] = [
        (standard_at, _publish(pm, domain, 1, "First version, agreed with the workflow owner.")),
    ]
    if revised_at:
        actions.append(
            (revised_at, _publish(pm, domain, 2, f"Adopts {domain.extras[0][0]}, which every file carries."))
        )
    for identifier, released, notes in zip(identifiers, releases, VERSION_NOTES, strict=False):
        actions.append((released, _register(pm, identifier, released.date(), notes)))

    times = sorted(
        _working_hours(rng, first + span * rng.random() ** 0.8, zone, first, end) for _ in range(count)
    )
    batches: dict[tuple[str, int], list[dict]] = defaultdict(list)
    sources = (
        (["upload", "api", "form"], [0.72, 0.22, 0.06])
        if integrated and standardized_at
        else (["upload", "form"], [0.85, 0.15])
    )
    serial = rng.randint(10001, 40000)
    for n, at in enumerate(times):  # volume grows over time (the ** 0.8 above)
        progress = (at - first) / span
        version = 2 if revised_at and at >= revised_at else 1
        record = make_record(
            rng,
            domain,
            received_at=at,
            zone=zone,
            version=version,
            problem_share=share_from + (share_to - share_from) * progress,
            external_id=domain.id_format.format(serial + n),
        )
        if records_outcomes and at < now - UNDECIDED_FOR:
            record["outcome"] = _outcome(rng, record, sum(r <= at for r in releases) - 1, identifiers)
            if record["outcome"]["decided_at"] > now:
                del record["outcome"]
        batches[(rng.choices(*sources)[0], (at - first).days // 7)].append(record)
    for (source, _week), records in batches.items():
        # A batch is sent once its cases are decided (the pilot's system exports them with their outcome).
        delay = timedelta(days=1, hours=rng.uniform(0, 8)) if source == "upload" else timedelta(minutes=30)
        last = max(r["outcome"]["decided_at"] if "outcome" in r else r["received_at"] for r in records)
        batch_at = min(last + delay, now - timedelta(minutes=1))
        actions.append((batch_at, _receive(pm, source, records, batch_at)))
    return sorted(actions, key=lambda action: action[0])


def _working_hours(
    rng: random.Random, at: datetime, zone: ZoneInfo, first: datetime, end: datetime
) -> datetime:
    """Most cases arrive on weekdays in office hours, between `first` and `end`."""
    local = at.astimezone(zone).replace(hour=rng.randint(7, 18), minute=rng.randint(0, 59))
    if local.weekday() >= 5 and rng.random() < 0.85:
        local -= timedelta(days=local.weekday() - 4)  # most weekend arrivals are really Friday's
    moved = local.astimezone(UTC)
    return moved if first <= moved < end else at


def _outcome(rng: random.Random, record: dict, version: int, identifiers: list[str]) -> dict:
    """What the pilot's own system records once a case is decided; better with each AI version."""
    troubled = bool(record["kinds"])
    hours = min(CYCLE_HOURS[version] * rng.lognormvariate(0, 0.6) * (1.8 if troubled else 1), 96)
    corrected = rng.random() < CORRECTION_RATE[version] + (0.1 if troubled else 0)
    touchpoints = int(troubled or rng.random() < 0.75 - 0.2 * version) + int(corrected)
    return {
        "decided_at": record["received_at"] + timedelta(hours=hours),
        "corrected": corrected,
        "touchpoints": touchpoints,
        "cost": COST_PER_TOUCH * touchpoints + Decimal("0.40"),
        "ai_version": identifiers[max(version, 0)],
    }


def _publish(pm, domain: Domain, version: int, note: str) -> Callable[[Pilot], object]:
    return lambda pilot: standard_services.publish_standard(
        pilot=pilot, actor=pm, spec=domain.spec(version), note=note
    )


def _register(pm, identifier: str, released_on: date, notes: str) -> Callable[[Pilot], object]:
    return lambda pilot: standard_services.register_ai_version(
        pilot=pilot, actor=pm, identifier=identifier, released_on=released_on, notes=notes
    )


def _receive(pm, source: str, records: list[dict], batch_at: datetime) -> Callable[[Pilot], object]:
    """One batch of cases: an uploaded file (every value text) or JSON from the API or the form."""
    text = source == "upload"

    def cells(values: dict) -> dict:
        return {k: as_text(v) for k, v in values.items()} if text else values

    def receive(pilot: Pilot):
        arrivals = []
        for n, record in enumerate(sorted(records, key=lambda r: r["received_at"])):
            outcome = record.get("outcome") or {}
            if outcome and outcome["decided_at"] > batch_at:
                outcome = {}  # not decided yet when this batch was sent
            arrivals.append(
                Arrival(
                    external_id=record["external_id"],
                    inputs=cells(record["inputs"]),
                    outputs=cells(record["outputs"]),
                    received_at=record["received_at"].isoformat() if text else record["received_at"],
                    outcome=cells(outcome),
                    row=n + 2 if text else None,  # the line in the file, after the header
                )
            )
        return ingest(pilot=pilot, arrivals=arrivals, source=source, actor=pm, audit_event=True)

    return receive


def _decide(pilot: Pilot, gate_request, owner, outcome: str) -> None:
    for item, _result in checks.missing_for_gate(pilot.pk, gate_request.to_stage):
        if item.attestable and pilot.integration_points:
            # The program manager vouches for what the data cannot show yet, with a link to the evidence.
            note, page = ATTESTATION_NOTES.get(
                item.id, ("Evidence reviewed with the workflow owner.", "evidence")
            )
            gate_services.attest_check(
                pilot=pilot,
                actor=pilot.program_manager,
                check_id=item.id,
                note=note.format(system=pilot.integration_points[0]),
                evidence_url=f"https://wiki.northwind.example/ai-pilots/{pilot.pk}/{page}",
                expires_on=timezone.localdate() + timedelta(days=180),
            )
    missing = checks.missing_for_gate(pilot.pk, gate_request.to_stage)
    if outcome == Outcome.GO and missing:
        # A later app's checks are not met by demo data: decide with conditions.
        outcome = Outcome.CONDITIONAL_GO
    comments = {
        Outcome.GO: "Evidence reviewed; go.",
        Outcome.CONDITIONAL_GO: "Go, provided the conditions are closed on time.",
        Outcome.HOLD: "Paused while the contact-centre platform is replaced.",
        Outcome.RECYCLE: "Third-party data is too unreliable; redefine success first.",
        Outcome.STOP: "The supplier portal project makes this pilot redundant.",
    }
    conditions = []
    if outcome == Outcome.CONDITIONAL_GO and not missing:
        conditions = [
            gate_services.ConditionInput(
                text="Agree the sampling rate for audit with Internal Audit",
                owner=pilot.program_manager,
                due_on=timezone.localdate() + timedelta(days=21),
            )
        ]
    gate_services.decide_gate(
        gate_request=gate_request,
        actor=owner,
        outcome=outcome,
        comment=comments[outcome],
        recycle_to=Stage.DEFINE_SUCCESS if outcome == Outcome.RECYCLE else "",
        conditions=conditions,
        conditions_due_on=timezone.localdate() + timedelta(days=21),
    )


# ---------------------------------------------------------------------------------------------------
# generate_load: many pilots and cases of the same kinds, written in bulk.


@dataclass
class LoadContext:
    """What `manage.py generate_load` hands each app's `generate_load(ctx)`, the hub first.

    `write(model, fields, rows, total=None)` stores an iterable of row tuples (JSON fields as JSON text)
    the fastest way the database allows and returns the count; `say` prints a line of progress."""

    pilots: int
    cases: int
    slug: str
    write: Callable[..., int]
    say: Callable[[str], None]
    seed: int = 0
    workspace: Workspace | None = None
    people: dict[str, object] = field(default_factory=dict)
    pilot_ids: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


LOAD_STAGES = (
    [Stage.PROPOSED] * 4
    + [Stage.DEFINE_SUCCESS] * 4
    + [Stage.STANDARDIZE_INPUTS] * 4
    + [Stage.EXCEPTION_PATHS] * 3
    + [Stage.FEEDBACK_LOOPS] * 3
    + [Stage.PRODUCTION] * 2
)
CASE_WEIGHT = {
    Stage.PROPOSED: 0,
    Stage.DEFINE_SUCCESS: 0.25,
    Stage.STANDARDIZE_INPUTS: 1,
    Stage.EXCEPTION_PATHS: 1.5,
    Stage.FEEDBACK_LOOPS: 2,
    Stage.PRODUCTION: 3,
}
CASE_FIELDS = [
    "pilot_id", "external_id", "source", "received_at", "event_at", "due_at", "inputs", "outputs",
    "standard_version", "problems", "has_missing", "has_invalid", "has_contradictory", "has_late",
    "has_outside_boundary", "ai_version_id", "route", "rule_version", "rule_clause", "decided_at",
    "corrected", "touchpoints", "cost", "digest", "created_at", "updated_at",
]  # fmt: skip
POOL_SIZE = 256  # distinct case bodies per kind of pilot, with and without problems
SENTINEL = "\x00moment"  # stands in for a date or time in a body's JSON until a case's arrival is known


def generate_load(ctx: LoadContext) -> None:
    """Pilots at every stage, each with a standard and AI versions, and `ctx.cases` cases among them."""
    rng = random.Random(ctx.seed)
    now = timezone.now()
    _load_workspace(ctx)
    workspace, people = ctx.workspace, ctx.people
    pms = [people[k] for k in sorted(people) if k.startswith("pm")]
    owners = [people[k] for k in sorted(people) if k.startswith("owner")]
    titles = {key: (name, unit, workflow, problem) for key, name, unit, workflow, *_x, problem in PILOTS}
    domains = list(DOMAINS.values())
    pilots = []
    for i in range(ctx.pilots):
        stage = LOAD_STAGES[i * 7 % len(LOAD_STAGES)]
        name, unit, workflow, problem = titles[domains[i % len(domains)].key]
        started = stage != Stage.PROPOSED
        pilots.append(
            Pilot(
                workspace=workspace,
                name=f"{name} #{i + 1}",
                problem=problem,
                workflow=workflow,
                business_unit=unit,
                program_manager=pms[i % len(pms)],
                workflow_owner=owners[i % len(owners)],
                stage=stage,
                status=Status.ON_HOLD if i % 17 == 5 else Status.STOPPED if i % 23 == 11 else Status.ACTIVE,
                integration_points=["ServiceNow"] if i % 5 else [],
                started_on=(now - timedelta(weeks=rng.randint(13, 40))).date() if started else None,
                target_date=(now + timedelta(weeks=rng.randint(4, 30))).date(),
                accountability_accepted_by=owners[i % len(owners)] if started else None,
                accountability_accepted_at=now - timedelta(weeks=13) if started else None,
                stage_entered_at=now - timedelta(days=rng.randint(3, 80)),
            )
        )
    Pilot.objects.bulk_create(pilots, batch_size=1000)
    ctx.pilot_ids = [p.pk for p in pilots]
    ctx.counts["pilots"] = len(pilots)
    ctx.say(f"{len(pilots):,} pilots in workspace “{workspace.slug}”")

    specs = {d.key: d.spec(1) for d in domains}
    spec_rows = {
        key: (json.dumps(spec["inputs"]), json.dumps(spec["outputs"]), json.dumps(spec["rules"]),
              spec["event_time_field"], spec["max_lateness_hours"])
        for key, spec in specs.items()
    }  # fmt: skip
    ctx.counts["standards"] = ctx.write(
        InputStandard,
        ["pilot_id", "version", "inputs", "outputs", "rules", "event_time_field", "max_lateness_hours",
         "note", "published_by_id", "published_at"],
        ((p.pk, 1, *spec_rows[domains[i % len(domains)].key], "Generated load.", p.program_manager_id, now)
         for i, p in enumerate(pilots)),
    )  # fmt: skip
    releases = (now - CASE_WINDOW - timedelta(days=10), now - timedelta(weeks=6), now - timedelta(weeks=2))
    lineup = list(zip(VERSION_LABELS, releases, VERSION_NOTES, strict=True))
    ctx.counts["ai versions"] = ctx.write(
        AIVersion,
        ["pilot_id", "identifier", "released_on", "notes", "created_at"],
        ((p.pk, f"{domains[i % len(domains)].ai_name}-{label}", released.date(), notes, now)
         for i, p in enumerate(pilots)
         for label, released, notes in lineup[: 2 + i % 2]),
    )  # fmt: skip
    versions: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for pilot_id, released_on, pk in (
        AIVersion.objects.filter(pilot__workspace=workspace, pilot_id__gte=pilots[0].pk)
        .order_by("pilot_id", "released_on")
        .values_list("pilot_id", "released_on", "pk")
    ):
        versions[pilot_id].append((datetime.combine(released_on, datetime.min.time(), tzinfo=UTC), pk))
    ctx.say(f"{ctx.counts['standards']:,} input standards and {ctx.counts['ai versions']:,} AI versions")

    weights = [CASE_WEIGHT[p.stage] * rng.lognormvariate(0, 0.5) for p in pilots]
    if not sum(weights):
        weights = [1.0] * len(pilots)
    counts = _apportion(ctx.cases, weights)
    pools: dict[str, _Pool] = {}
    zone = workspace.zone
    plan = []
    for i, (p, n) in enumerate(zip(pilots, counts, strict=True)):
        if n:
            domain = domains[i % len(domains)]
            pool = pools.get(domain.key) or pools.setdefault(domain.key, _Pool(domain, zone, rng))
            plan.append((p, n, pool, versions[p.pk], i % 2 == 0))
    ctx.counts["cases"] = ctx.write(Case, CASE_FIELDS, _case_rows(plan, rng, now), total=ctx.cases)
    audit.record(
        workspace=workspace,
        actor=people["admin"],
        action="load.generated",
        obj=workspace,
        after={"pilots": len(pilots), "cases": ctx.counts["cases"]},
    )


def _load_workspace(ctx: LoadContext) -> None:
    """The load workspace and its people (created once; a second run adds pilots and cases)."""
    password = make_password(DEMO_PASSWORD)
    names = [
        "admin",
        "leader",
        "reviewer",
        *(f"pm{k}" for k in range(1, 6)),
        *(f"owner{k}" for k in range(1, 6)),
    ]
    for name in names:
        username = f"{ctx.slug}-{name}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create(
                username=username,
                email=f"{username}@load.example",
                password=password,
                first_name="Load",
                last_name=name,
            )
        ctx.people[name] = user
    workspace = Workspace.objects.filter(slug=ctx.slug).first()
    if workspace is None:
        workspace = workspace_services.create_workspace(
            actor=ctx.people["admin"], name=f"Load test {ctx.slug}", timezone="Europe/Berlin", currency="EUR"
        )
        Workspace.objects.filter(pk=workspace.pk).update(slug=ctx.slug)
        workspace.slug = ctx.slug
    roles = {
        "admin": {Role.ADMIN},
        "leader": {Role.LEADER},
        "reviewer": {Role.REVIEWER},
        "pm": {Role.PROGRAM_MANAGER, Role.REVIEWER},
        "owner": {Role.WORKFLOW_OWNER},
    }
    held = set(Membership.objects.filter(workspace=workspace).values_list("user_id", flat=True))
    for name, user in ctx.people.items():
        if user.pk not in held:
            membership = Membership(workspace=workspace, user=user, welcomed_at=timezone.now())
            membership.set_roles(roles[name.rstrip("0123456789")])
            membership.save()
    ctx.workspace = workspace


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Split `total` in proportion to `weights`, exactly (largest remainders)."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: shares[i] - counts[i], reverse=True)
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


@dataclass
class _Body:
    """A validated case body, serialised once. Its dates and times move with each case's arrival time:
    `parts` is the JSON text around them, `moments` their values when the body arrived at `received`."""

    parts: list[str]
    moments: list[date | datetime]
    outputs: str
    problems: str
    flags: tuple[bool, ...]
    event_at: datetime | None
    event_index: int | None  # which of `moments` is the event time


class _Pool:
    """Case bodies of one kind of pilot, half clean and half with problems, checked by the real validator."""

    def __init__(self, domain: Domain, zone: ZoneInfo, rng: random.Random):
        self.domain = domain
        self.zone = zone
        self.received = timezone.now() - timedelta(weeks=6)
        self.moment_types = {f["name"]: f["type"] for f in domain.inputs if f["type"] in ("date", "datetime")}
        validator = Validator(domain.spec(1), zone=zone)
        self.clean: list[_Body] = []
        self.troubled: list[_Body] = []
        while len(self.clean) < POOL_SIZE or len(self.troubled) < POOL_SIZE:
            wanted = 1.0 if len(self.clean) >= POOL_SIZE else 0.0 if len(self.troubled) >= POOL_SIZE else 0.5
            record = make_record(rng, domain, received_at=self.received, zone=zone, problem_share=wanted)
            checked = validator.check(record["inputs"], record["outputs"], received_at=self.received)
            (self.troubled if checked.problems else self.clean).append(self._body(checked))
        self.clean, self.troubled = self.clean[:POOL_SIZE], self.troubled[:POOL_SIZE]

    def _body(self, checked) -> _Body:
        inputs = dict(checked.inputs)
        moments: list[date | datetime] = []
        event_index = None
        for name, kind in self.moment_types.items():
            value = _moment(inputs.get(name), kind)
            if value is not None:
                if name == self.domain.event_field:
                    event_index = len(moments)
                inputs[name] = f"{SENTINEL}{len(moments)}"
                moments.append(value)
        text = json.dumps(inputs)
        parts = []
        for n in range(len(moments)):
            before, text = text.split(json.dumps(f"{SENTINEL}{n}"), 1)
            parts.append(before + '"')
            text = '"' + text
        parts.append(text)
        kinds = {kind for _f, kind, _m in checked.problems}
        return _Body(
            parts=parts,
            moments=moments,
            outputs=json.dumps(checked.outputs),
            problems=json.dumps([{"field": f, "kind": k, "message": m} for f, k, m in checked.problems]),
            flags=tuple(kind in kinds for kind in Case.PROBLEM_FLAGS),
            event_at=checked.event_at,
            event_index=event_index,
        )

    def inputs_and_event(self, body: _Body, received: datetime) -> tuple[str, datetime | None]:
        """The body's inputs as JSON for a case arriving at `received`, and its event time."""
        shift = received - self.received
        days = timedelta(days=shift.days)
        moved = [(m + shift).astimezone(self.zone) if type(m) is datetime else m + days for m in body.moments]
        texts = [m.isoformat() for m in moved]
        if body.event_at is None:
            event_at = None
        elif type(body.moments[body.event_index]) is datetime:
            event_at = body.event_at + shift
        else:
            event_at = body.event_at + days
        return "".join(part + text for part, text in zip(body.parts, [*texts, ""], strict=True)), event_at


def _moment(value: Any, kind: str) -> date | datetime | None:
    """A stored date or date-time value, parsed (None when the value is not one)."""
    try:
        moment = datetime.fromisoformat(value) if kind == "datetime" else date.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return None if kind == "datetime" and moment.tzinfo is None else moment


def _case_rows(plan: list, rng: random.Random, now: datetime) -> Iterator[tuple]:
    """Row tuples in CASE_FIELDS order, made one at a time so memory stays flat whatever the count."""
    pick = rng.random
    sources = ["upload"] * 72 + ["api"] * 22 + ["form"] * 6
    no_flags = (False,) * 5
    undecided_after = now - UNDECIDED_FOR
    costs = [COST_PER_TOUCH * t + Decimal("0.40") for t in range(4)]
    for pilot, count, pool, versions, records_outcomes in plan:
        window = CASE_WINDOW if pilot.stage != Stage.DEFINE_SUCCESS else timedelta(weeks=3)
        start, span = now - window, window.total_seconds() - 600
        share = rng.uniform(0.05, 0.15)
        slope = -0.09 if rng.random() < 0.35 else 0.0  # some pilots get better over the window
        share += 0.045 if slope else 0
        id_format, clean, troubled = pool.domain.id_format, pool.clean, pool.troubled
        for n in range(count):
            u = pick()
            received = start + timedelta(seconds=span * u)
            if pick() < share + slope * u:
                body = troubled[int(pick() * POOL_SIZE)]
            else:
                body = clean[int(pick() * POOL_SIZE)]
            inputs, event_at = pool.inputs_and_event(body, received)
            external_id = id_format.format(n + 1)
            decided_at, corrected, touchpoints, cost, ai_version = None, False, 0, None, None
            if records_outcomes and received < undecided_after:
                version = sum(released <= received for released, _id in versions) - 1
                ai_version = versions[max(version, 0)][1]
                troubled_case = body.flags != no_flags
                decided_at = received + timedelta(hours=CYCLE_HOURS[version] * (0.4 + 1.5 * pick()))
                corrected = pick() < CORRECTION_RATE[version] + (0.1 if troubled_case else 0)
                touchpoints = int(troubled_case or pick() < 0.75 - 0.2 * version) + corrected
                cost = costs[touchpoints]
            digest = hashlib.md5((external_id + inputs).encode(), usedforsecurity=False).hexdigest()
            yield (
                pilot.pk, external_id, sources[int(u * 1e6) % 100], received, event_at, None, inputs,
                body.outputs, 1, body.problems, *body.flags, ai_version, "", None, "", decided_at, corrected,
                touchpoints, cost, digest, received, received,
            )  # fmt: skip
