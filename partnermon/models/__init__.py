"""The data model (DESIGN.md §3). Every business row belongs to exactly one practice.

Models are split by what they describe; import them from here.
"""

from partnermon.db import Base
from partnermon.models.accounts import Invitation, SignInFailure, SignInSession, User, ROLES
from partnermon.models.alerts import AlertPreference, DigestItem, PartnerSubscription
from partnermon.models.audit import AuditEvent
from partnermon.models.feedback import ApiKey, FeedbackRequest, FeedbackResponse, PublicAttempt
from partnermon.models.followups import FollowUp, FollowUpEvent, RecoveryCheckIn
from partnermon.models.monitoring import (
    DailyRollup, HourlyRollup, Incident, JobMark, MaintenanceWindow, Probe, ProbeResult,
)
from partnermon.models.outbox import OutboxEmail
from partnermon.models.partners import PARTNER_CATEGORIES, Partner, Touchpoint
from partnermon.models.promises import PROMISE_KINDS, PROMISE_MEASURES, Promise
from partnermon.models.scoring import EarlyWarning, ScoreThreshold
from partnermon.models.reports import Report
from partnermon.models.webhooks import WebhookDelivery, WebhookEndpoint
from partnermon.models.themes import ThemeRun
from partnermon.models.practice import DEFAULT_MOMENTS, STAKES, STAGES, MomentOfTruth, Practice, PracticeClosure

__all__ = [
    "AlertPreference",
    "DigestItem",
    "ApiKey",
    "FeedbackRequest",
    "FeedbackResponse",
    "FollowUp",
    "FollowUpEvent",
    "RecoveryCheckIn",
    "AuditEvent",
    "Base",
    "DEFAULT_MOMENTS",
    "DailyRollup",
    "EarlyWarning",
    "HourlyRollup",
    "Incident",
    "MaintenanceWindow",
    "Probe",
    "ProbeResult",
    "Invitation",
    "JobMark",
    "MomentOfTruth",
    "OutboxEmail",
    "PARTNER_CATEGORIES",
    "Partner",
    "PartnerSubscription",
    "Practice",
    "PROMISE_KINDS",
    "PROMISE_MEASURES",
    "Promise",
    "PracticeClosure",
    "PublicAttempt",
    "Report",
    "ROLES",
    "STAGES",
    "STAKES",
    "ScoreThreshold",
    "ThemeRun",
    "SignInFailure",
    "SignInSession",
    "Touchpoint",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
]
