"""Every table, imported in one place so metadata is complete (Alembic, tests)."""
from dispatch.alerts.models import Alert
from dispatch.assignment.models import Decision
from dispatch.audit.models import AuditEntry
from dispatch.auth.models import AuthToken, User
from dispatch.calls.models import Call, CallEvent
from dispatch.clients.models import Client, ClientExternalId, ClientPhone
from dispatch.costshare.models import CostAgreement
from dispatch.daytasks.models import DayTask
from dispatch.handover.models import HandoverPush
from dispatch.nightbag.models import BagCheck, BagItem, MaterialUse
from dispatch.nurses.models import Nurse, Shift
from dispatch.organisations.models import Organisation
from dispatch.protocol_versions.models import (
           ProtocolDraft,
           ProtocolSignoff,
           ProtocolVersion,
)
from dispatch.records.models import RecordSummaryCache
from dispatch.responders.models import InboundSms, NurseChannel, OutboxMessage
from dispatch.triage.models import GpNotification, Triage, TriageDraft
from dispatch.visits.models import Observation, Visit, VisitDecline, VisitEvent

__all__ = ["Alert", "AuditEntry", "AuthToken", "BagCheck", "BagItem", "Call", "CallEvent", "Client",
           "ClientExternalId", "ClientPhone", "CostAgreement", "DayTask", "Decision", "GpNotification", "HandoverPush",
           "InboundSms", "MaterialUse", "Nurse",
           "NurseChannel", "Observation", "Organisation", "OutboxMessage", "ProtocolDraft",
           "ProtocolSignoff", "ProtocolVersion", "RecordSummaryCache", "Shift", "Triage",
           "TriageDraft", "User", "Visit", "VisitDecline", "VisitEvent"]
