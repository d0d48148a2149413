"""Every table, imported in one place so metadata is complete (Alembic, tests)."""
from dispatch.audit.models import AuditEntry
from dispatch.auth.models import AuthToken, User
from dispatch.calls.models import Call, CallEvent
from dispatch.clients.models import Client, ClientExternalId, ClientPhone
from dispatch.nurses.models import Nurse, Shift
from dispatch.organisations.models import Organisation
from dispatch.visits.models import Visit

__all__ = ["AuditEntry", "AuthToken", "Call", "CallEvent", "Client", "ClientExternalId", "ClientPhone", "Nurse",
           "Organisation", "Shift", "User", "Visit"]
