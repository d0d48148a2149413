"""Every table, imported in one place so metadata is complete (Alembic, tests)."""
from dispatch.assignment.models import Decision
from dispatch.audit.models import AuditEntry
from dispatch.auth.models import AuthToken, User
from dispatch.calls.models import Call, CallEvent
from dispatch.clients.models import Client, ClientExternalId, ClientPhone
from dispatch.daytasks.models import DayTask
from dispatch.nurses.models import Nurse, Shift
from dispatch.nightbag.models import BagCheck, BagItem, MaterialUse
from dispatch.organisations.models import Organisation
from dispatch.protocol_versions.models import ProtocolVersion
from dispatch.responders.models import Alert, NurseChannel, OutboxMessage, VisitDecline
from dispatch.triage.models import Triage, TriageDraft
from dispatch.visits.models import Observation, Visit

__all__ = ["Alert", "BagCheck", "BagItem", "MaterialUse", "NurseChannel", "OutboxMessage", "VisitDecline", "Decision", "AuditEntry", "AuthToken", "Call", "CallEvent", "Client", "ClientExternalId", "ClientPhone", "DayTask",
           "Nurse", "Observation", "Organisation", "ProtocolVersion", "Shift", "Triage", "TriageDraft", "User", "Visit"]
