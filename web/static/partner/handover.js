// The night's handover of the organisation's clients, as the day team reads it: per client, every call with the
// questions asked and the outcome, what the nurse found and did (NEWS2, materials, her note), and what is left
// for the day. The service builds it (GET /api/handover); this only lays it out.
import { esc, dayTime, hhmm, label, plural } from "/console/util.js";

const DISPOSITION = { call_112: "112", gp_post: "GP out-of-hours post", nurse_visit: "nurse visit",
  defer_to_day: "your day team", advice: "advice by phone" };

// Advice as it was read to the caller, a line each (protocols/advice.py): the message, the numbered steps as a
// list, the safety net (the printable does the same: dispatch/handover/html.py advice_steps).
function adviceSteps(text) {
  const lines = String(text).split("\n").map((l) => l.trim()).filter(Boolean);
  const step = (l) => /^(\d{1,2})\.\s+/.exec(l);
  let first = lines.findIndex(step);
  if (first < 0) first = lines.length;
  const steps = [];
  for (const l of lines.slice(first)) {
    const m = step(l);
    if (!m || Number(m[1]) !== steps.length + 1) break;
    steps.push(l.slice(m[0].length));
  }
  return { before: lines.slice(0, first), steps, after: lines.slice(first + steps.length) };
}
export function adviceHtml(text) {
  const { before, steps, after } = adviceSteps(text);
  const para = (ls) => ls.map((l) => `<p>${esc(l)}</p>`).join("");
  return para(before) + (steps.length ? `<ol>${steps.map((s) => `<li>${esc(s)}</li>`).join("")}</ol>` : "") + para(after);
}

function triage(t) {
  return `<div class="triage"><p><strong>${esc(t.final_urgency)}</strong> ${esc(DISPOSITION[t.final_disposition] || t.final_disposition)}
      <span class="muted small">${esc(t.complaint)} · ${esc(t.protocol)} · decided ${hhmm(t.decided_at)} by ${esc(t.decided_by)}</span></p>
    ${t.override_reason ? `<p>Override: ${esc(t.override_reason)}</p>` : ""}
    ${t.concern_reason ? `<p>Operator's concern: ${esc(t.concern_reason)}</p>` : ""}
    ${t.questions?.length ? `<details><summary>${plural(t.questions.length, "question")} asked</summary><ol>${t.questions.map((q) =>
      `<li>${esc(q.question)} — <strong>${esc(q.label || q.answer)}</strong></li>`).join("")}</ol></details>` : ""}
    ${t.advice_given ? `<details><summary>What the caller was told</summary><div class="advice">${adviceHtml(t.advice_given)}</div></details>` : ""}</div>`;
}

function visit(v) {
  const news = (v.observations || []).map((o) => `NEWS2 ${esc(o.news2_total)} (${esc(String(o.news2_risk).replace("_", "-"))}) at ${hhmm(o.recorded_at)}`).join("; ");
  const used = (v.materials || []).map((m) => `${esc(m.quantity)} × ${esc(m.item)}`).join(", ");
  return `<div class="visit"><p><strong>${v.kind === "planned" ? "Planned visit" : "Visit"}</strong> ${esc(label(v.state))}
      ${v.nurse ? ` · ${esc(v.nurse)}` : ""}${v.on_scene_at ? ` · there ${hhmm(v.on_scene_at)}` : ""}${v.completed_at ? `–${hhmm(v.completed_at)}` : ""}</p>
    ${news ? `<p>${news}</p>` : ""}${used ? `<p class="small">Materials: ${used}</p>` : ""}
    ${v.handover_note ? `<p class="advice">${esc(v.handover_note)}</p>` : ""}</div>`;
}

// One organisation's handover; a coordinator gets one per organisation.
export function renderHandover(data) {
  const all = data.handovers || [data];
  return all.length ? all.map(renderOne).join("") : '<p class="muted">No handover for that night.</p>';
}

function renderOne(data) {
  const head = `<p class="muted">${esc(data.organisation?.name || "")}: the night from ${dayTime(data.from)} to ${dayTime(data.to)}
    — ${plural(data.totals.clients, "client")}, ${plural(data.totals.calls, "call")}, ${plural(data.totals.visits, "visit")}, ${plural(data.totals.day_tasks, "day task")}.
    ${data.final ? "" : "<strong>The night is not over yet: this handover is still growing.</strong>"}</p>`;
  if (!data.clients.length) return head + '<p class="muted">No calls or visits for your clients that night.</p>';
  return head + data.clients.map((c) => `<article class="person"><h2>${esc(c.client.given_name)} ${esc(c.client.family_name)}
      <span class="muted small">${esc(c.client.address)}${c.client.identifier ? ` · ${esc(c.client.identifier.value)}` : ""}</span></h2>
    ${c.calls.map((call) => `<section><h3>Call ${esc(call.id)} · ${dayTime(call.received_at)} · ${esc(call.source)} · ${esc(label(call.state))}</h3>
      ${call.text ? `<p>${esc(call.text)}</p>` : ""}
      ${call.triages.filter((t) => t.current).map(triage).join("")}
      ${call.gp_notifications.length ? `<p class="small">GP post notified ${call.gp_notifications.map((n) => hhmm(n.created_at)).join(", ")}</p>` : ""}</section>`).join("")}
    ${c.visits.map(visit).join("")}
    ${c.day_tasks.length ? `<p><strong>For your day team:</strong></p><ul>${c.day_tasks.map((t) =>
      `<li>${esc(t.summary)} <span class="muted small">(${esc(t.state)})</span></li>`).join("")}</ul>` : ""}
  </article>`).join("");
}
