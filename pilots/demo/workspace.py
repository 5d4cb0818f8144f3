"""The demo workspace: its people, and a dozen pilots walked through their gates."""

from datetime import datetime, timedelta

from django.utils import timezone

from pilots import checks
from pilots.demo.cases import Action, _step2_actions
from pilots.demo.people import DEMO_SLUG, PEOPLE, DemoContext, _ensure_people, demo_clock
from pilots.models import Case, Membership, Outcome, Pilot, Stage, Workspace
from pilots.services import gates as gate_services
from pilots.services import pilots as pilot_services
from pilots.services import workspaces as workspace_services
from pilots.services.pilots import PilotDetails

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
    "metrics.business_metric": (
        "Baseline and target agreed with the workflow owner; measured by hand each week until the "
        "pilot's cases carry their outcomes.",
        "success-metrics",
    ),
    "metrics.recent_measurement": (
        "Last month's figures reviewed with the workflow owner at the pilot's steering meeting.",
        "steering",
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
