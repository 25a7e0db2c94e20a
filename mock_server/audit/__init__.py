"""Audit readiness: pure rules over the journal (what an app did, in order) that say what
TikTok's review and runtime would reject, each with its evidence and its TikTok doc
(docs/audit.md). No state of its own: the journal and the app's registration are the input.
"""

from mock_server.audit.registry import CHECKS, NOT_SHOWN_BY_TRAFFIC, Check, NotShown
from mock_server.audit.report import AuditReport, CheckResult, Window
from mock_server.audit.run import audit_entries, audit_state
from mock_server.audit.traffic import AppFacts
from mock_server.audit.verdicts import Evidence, Verdict

__all__ = [
    "CHECKS",
    "NOT_SHOWN_BY_TRAFFIC",
    "AppFacts",
    "AuditReport",
    "Check",
    "CheckResult",
    "Evidence",
    "NotShown",
    "Verdict",
    "Window",
    "audit_entries",
    "audit_state",
]
