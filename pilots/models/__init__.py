from pilots.models.audit import AuditEvent
from pilots.models.cases import CONFORMING, AIVersion, Case, CaseUpload, InputStandard
from pilots.models.gates import Attestation, GateCondition, GateDecision, GateRequest, Outcome
from pilots.models.integration import ApiKey, IdempotencyRecord, WebhookDelivery, WebhookEndpoint
from pilots.models.pilots import STAGE_ORDER, Pilot, Stage, Status, next_stage, stage_index
from pilots.models.portfolio import PortfolioWeek
from pilots.models.readiness import ReadinessHistory, ReadinessMark, ReadinessSnapshot
from pilots.models.workspaces import Membership, Role, Workspace

__all__ = [
    "ApiKey",
    "IdempotencyRecord",
    "WebhookDelivery",
    "WebhookEndpoint",
    "CONFORMING",
    "AIVersion",
    "Case",
    "CaseUpload",
    "InputStandard",
    "STAGE_ORDER",
    "Attestation",
    "AuditEvent",
    "GateCondition",
    "GateDecision",
    "GateRequest",
    "Membership",
    "Outcome",
    "Pilot",
    "PortfolioWeek",
    "ReadinessHistory",
    "ReadinessMark",
    "ReadinessSnapshot",
    "Role",
    "Stage",
    "Status",
    "Workspace",
    "next_stage",
    "stage_index",
]
