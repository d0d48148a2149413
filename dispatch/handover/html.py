"""The handover as a printable page: one self-contained HTML document (inline CSS, no scripts, no external assets),
every value escaped. Its stylesheet is allowed by its hash (`STYLE_HASH`), in its own answer's CSP and in the
service's pages' CSP: the portal opens it as a blob: page, which keeps the policy of the page that opened it."""
from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

CSS = """
body{font:11pt/1.4 system-ui,sans-serif;margin:1.5cm;color:#111}
h1{font-size:16pt;margin:0 0 .2em}h2{font-size:13pt;border-bottom:1px solid #888;margin-top:1.4em}
h3{font-size:11pt;margin:.8em 0 .2em}.meta{color:#444}.draft{color:#a00;font-weight:bold}
table{border-collapse:collapse;margin:.3em 0}td,th{border:1px solid #bbb;padding:2px 6px;text-align:left}
ul,ol{margin:.2em 0 .4em 1.2em;padding:0}.client{page-break-inside:avoid}
@media print{body{margin:0}.client{page-break-after:auto}}
"""
STYLE_HASH = "'sha256-" + base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode() + "'"
CSP = f"default-src 'none'; style-src {STYLE_HASH}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
# The protocol's dispositions in words (as the portal shows them).
DISPOSITION = {"call_112": "112", "gp_post": "GP out-of-hours post", "nurse_visit": "nurse visit",
               "defer_to_day": "deferred to the day team", "advice": "advice by phone"}
_STEP = re.compile(r"(\d{1,2})\.\s+")


def plural(n: int, one: str) -> str:
    return f"{n} {one}" if n == 1 else f"{n} {one}s"


def words(disposition: str | None) -> str:
    """A protocol's disposition in words."""
    return DISPOSITION.get(disposition or "", (disposition or "").replace("_", " "))


def band(risk: str) -> str:
    """A NEWS2 risk band as said: low, low-medium, medium, high."""
    return risk.replace("_", "-")


def advice_steps(text: str) -> tuple[list[str], list[str], list[str]]:
    """Advice as it was read to the caller (protocols/advice.py writes it a line each: the message, the steps
    "1. …", "2. …", the safety net): the lines before the numbered steps, the steps, the lines after them."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = next((i for i, line in enumerate(lines) if _STEP.match(line)), len(lines))
    steps: list[str] = []
    for line in lines[first:]:
        m = _STEP.match(line)
        if m is None or int(m.group(1)) != len(steps) + 1:
            break
        steps.append(line[m.end():])
    return lines[:first], steps, lines[first + len(steps):]


def _advice(text: str) -> str:
    before, steps, after = advice_steps(text)
    listed = "".join(f"<li>{escape(step)}</li>" for step in steps)
    return (f"<p>Advice given: {escape(before[0] if before else '')}</p>"
            + "".join(f"<p>{escape(line)}</p>" for line in before[1:])
            + (f"<ol>{listed}</ol>" if steps else "") + "".join(f"<p>{escape(line)}</p>" for line in after))


def _t(value: str | None, tz: ZoneInfo) -> str:
    """A stored UTC moment as a 24-hour local time (with the date)."""
    if not value:
        return "—"
    return datetime.fromisoformat(value).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _client(entry: dict[str, Any], tz: ZoneInfo) -> str:
    c = entry["client"]
    e = escape
    parts = [f'<section class="client"><h2>{e(c["family_name"])}, {e(c["given_name"])}</h2>',
             f'<p class="meta">{e(c["address"])}'
             + (f" · born {e(c['date_of_birth'])}" if c["date_of_birth"] else "")
             + (f" · {e(c['identifier']['system'])} {e(c['identifier']['value'])}" if c["identifier"] else "")
             + "</p>"]
    for call in entry["calls"]:
        parts.append(f"<h3>Call {call['id']} · {_t(call['received_at'], tz)} · {e(call['source'])} · "
                     f"{e(call['state'])}</h3>")
        if call["text"]:
            parts.append(f"<p>{e(call['text'])}</p>")
        for t in call["triages"]:
            label = "Triage" if t["current"] else "Earlier triage (superseded)"
            parts.append(f"<p><strong>{label}</strong> {e(t['protocol'])}, complaint {e(t['complaint'])}: "
                         f"<strong>{e(t['final_urgency'])} · {e(words(t['final_disposition']))}</strong>"
                         + (f" (protocol: {e(t['computed_urgency'] or '')}; override: {e(t['override_reason'])})"
                            if t["override_reason"] else "") + "</p>")
            if t["questions"]:
                parts.append("<ul>" + "".join(f"<li>{e(q['question'] or q['node'] or '')} — "
                                              f"<em>{e(q['label'] or q['answer'] or '')}</em></li>"
                                              for q in t["questions"]) + "</ul>")
            if t["advice_given"]:
                parts.append(_advice(t["advice_given"]))
        for n in call["gp_notifications"]:
            parts.append(f"<p>GP post told ({_t(n['created_at'], tz)}): {e(n['text'])}</p>")
    for v in entry["visits"]:
        parts.append(f"<h3>Visit {v['id']} · {e(v['kind'])} · {e(v['state'])}"
                     + (f" · {e(v['nurse'])}" if v["nurse"] else "") + "</h3>")
        parts.append(f"<p>On scene {_t(v['on_scene_at'], tz)} · completed {_t(v['completed_at'], tz)}</p>")
        if v["observations"]:
            rows = "".join(
                f"<tr><td>{_t(o['recorded_at'], tz)}</td><td>{o['respiration_rate']}</td><td>{o['spo2']}</td>"
                f"<td>{'yes' if o['on_oxygen'] else 'no'}</td><td>{o['systolic_bp']}</td><td>{o['pulse']}</td>"
                f"<td>{e(o['consciousness'])}</td><td>{o['temperature']}</td>"
                f"<td><strong>{o['news2_total']}</strong> ({e(band(o['news2_risk']))})</td></tr>"
                for o in v["observations"])
            parts.append("<table><tr><th>time</th><th>resp/min</th><th>SpO₂ %</th><th>O₂</th><th>syst. BP</th>"
                         f"<th>pulse</th><th>ACVPU</th><th>temp °C</th><th>NEWS2</th></tr>{rows}</table>")
        if v["materials"]:
            parts.append("<p>Materials: " + ", ".join(f"{m['quantity']} × {e(m['item'])}" for m in v["materials"])
                         + "</p>")
        if v["handover_note"]:
            parts.append(f"<p><strong>Nurse's note:</strong> {e(v['handover_note'])}</p>")
    if entry["day_tasks"]:
        parts.append("<h3>For the day team</h3><ul>" + "".join(
            f"<li>{e(t['summary'])} ({e(t['state'])})</li>" for t in entry["day_tasks"]) + "</ul>")
    parts.append("</section>")
    return "".join(parts)


def render(handovers: list[dict[str, Any]]) -> str:
    body = []
    for h in handovers:
        tz = ZoneInfo(h["time_zone"])
        org = escape(h["organisation"]["name"])
        body.append(f"<h1>Night handover · {org}</h1><p class=\"meta\">Night of {escape(h['night'])} "
                    f"({_t(h['from'], tz)} – {_t(h['to'], tz)}, {escape(h['time_zone'])}) · "
                    f"{plural(h['totals']['clients'], 'client')}, {plural(h['totals']['calls'], 'call')}, "
                    f"{plural(h['totals']['visits'], 'visit')}"
                    "</p>")
        if not h["final"]:
            body.append('<p class="draft">The night is not over yet: this handover is not final.</p>')
        body += [_client(c, tz) for c in h["clients"]] or ["<p>No calls or visits for this organisation.</p>"]
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Night handover</title>"
            f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>")
