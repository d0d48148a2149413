// The night's handover of the organisation's clients, as the day team reads it: per client, every call with the
// questions asked and the outcome, what the nurse found and did, and what is left for the day.
import { esc, dayTime } from "/console/util.js";

export function renderHandover(data) {
  const clients = data?.clients || [];
  if (!clients.length) return '<p class="muted">No calls or visits for your clients that night.</p>';
  return clients.map((c) => `<article class="person"><h2>${esc(c.name || `client ${c.client_id}`)}</h2>
    ${(c.calls || []).map((call) => `<section><h3>Call ${esc(call.id)} · ${dayTime(call.received_at)} · ${esc(call.complaint || call.text || "")}</h3>
      ${call.urgency ? `<p><strong>${esc(call.urgency)}</strong> ${esc(call.disposition || "")}</p>` : ""}
      ${call.answers?.length ? `<ol>${call.answers.map((a) => `<li>${esc(a.question)} — <strong>${esc(a.label || a.answer)}</strong></li>`).join("")}</ol>` : ""}
      ${call.advice_given ? `<p class="advice">${esc(call.advice_given)}</p>` : ""}</section>`).join("")}
    ${(c.visits || []).map((v) => `<section><h3>Visit ${esc(v.id)} · ${esc(v.state)}${v.nurse ? ` · ${esc(v.nurse)}` : ""}</h3>
      ${v.news2 != null ? `<p>NEWS2 ${esc(v.news2)}</p>` : ""}
      ${v.handover_note ? `<p class="advice">${esc(v.handover_note)}</p>` : ""}</section>`).join("")}
    ${(c.day_tasks || []).length ? `<p><strong>For the day team:</strong> ${c.day_tasks.map((t) => esc(t.summary)).join("; ")}</p>` : ""}
  </article>`).join("");
}
