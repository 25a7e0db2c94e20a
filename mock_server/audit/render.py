"""An audit report as terminal text and as Markdown (the CLI's `--format text|markdown`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mock_server.audit.verdicts import Evidence

if TYPE_CHECKING:
    from mock_server.audit.report import AuditReport, CheckResult

LABELS = {"fail": "FAIL", "warn": "WARN", "pass": "pass", "not_observed": "not observed"}
SUMMARY_WIDTH = 96


def _counts(report: AuditReport) -> str:
    counts = report.counts()
    return ", ".join(f"{counts[v]} {LABELS[v].lower()}" for v in counts)


def _heading(report: AuditReport) -> str:
    app = report.app
    return (
        f"{report.client_key} ({app.get('name', '')}, {app.get('stage', '')} "
        f"{app.get('platform', '')} app)"
    )


def _evidence_line(e: Evidence) -> str:
    decided = " ".join(x for x in (e.error_code, f"({e.rule})" if e.rule else None) if x)
    return f"#{e.seq} {e.time} {e.method} {e.path} -> {e.status} {decided}".rstrip() + (
        f": {e.note}" if e.note else ""
    )


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def findings_text(checks: Sequence[CheckResult]) -> str:
    """Each check with its verdict, rule, evidence, fix and TikTok page."""
    blocks = []
    for c in checks:
        lines = [f"{LABELS[c.verdict]} {c.id}: {c.title}", f"  {c.summary}"]
        lines += [f"  {_evidence_line(e)}" for e in c.evidence]
        if c.evidence_omitted:
            lines.append(f"  ... and {c.evidence_omitted} more entries")
        lines += [f"  TikTok: {c.rule}", f"  fix: {c.fix}", f"  doc: {c.doc}"]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def text(report: AuditReport) -> str:
    rows = [(LABELS[c.verdict], c.id, _cut(c.summary, SUMMARY_WIDTH)) for c in report.checks]
    widths = [max(len(r[i]) for r in [("verdict", "check", ""), *rows]) for i in range(2)]
    table = [f"{'verdict'.ljust(widths[0])}  {'check'.ljust(widths[1])}  summary"]
    table += [f"{v.ljust(widths[0])}  {i.ljust(widths[1])}  {s}" for v, i, s in rows]
    parts = [
        f"Audit readiness of {_heading(report)}",
        f"Window: {report.window.note}",
        "",
        "\n".join(table),
    ]
    flagged = report.failures + report.warnings
    if flagged:
        parts += ["", findings_text(flagged)]
    parts += ["", "Not shown by the traffic (check these in the app's UI and content):"]
    parts += [f"  - {n.title} ({n.doc})" for n in report.not_shown_by_traffic]
    parts += ["", f"Result: {_counts(report)}" + ("" if report.ready else " — NOT READY")]
    return "\n".join(parts) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(report: AuditReport) -> str:
    lines = [
        f"# Audit readiness: `{report.client_key}`",
        "",
        f"{_md(_heading(report))}. Window: {_md(report.window.note)}.",
        "",
        f"**Result: {_counts(report)}**" + ("" if report.ready else " (not ready)"),
        "",
        "| Verdict | Check | Summary |",
        "|---|---|---|",
    ]
    lines += [
        f"| {LABELS[c.verdict]} | [`{c.id}`]({c.doc}) | {_md(c.summary)} |" for c in report.checks
    ]
    for c in report.failures + report.warnings:
        lines += [
            "",
            f"## {LABELS[c.verdict]}: `{c.id}`: {_md(c.title)}",
            "",
            f"{_md(c.summary)}",
            "",
            f"TikTok's rule ({_md(c.section)}): {_md(c.rule)} [{c.doc}]({c.doc})",
            "",
            "| # | Time | Request | Status | Code (rule) | What it shows |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {e.seq} | {e.time} | `{e.method} {e.path}` | {e.status} | "
            f"{_md(e.error_code or '')}{f' ({_md(e.rule)})' if e.rule else ''} | {_md(e.note)} |"
            for e in c.evidence
        ]
        if c.evidence_omitted:
            lines.append(f"| … | | {c.evidence_omitted} more entries | | | |")
        lines += ["", f"**Fix:** {_md(c.fix)}"]
    lines += ["", "## Not shown by the traffic", ""]
    lines += [f"- [{_md(n.title)}]({n.doc}): {_md(n.why)}" for n in report.not_shown_by_traffic]
    return "\n".join(lines) + "\n"
