// The client's record from her organisation's record system (GET /api/clients/{id}/summary), as night staff and
// partners read it: alerts first, then problems, medication, allergies, care plan, contacts; or why it is not there.
import { esc, hhmm } from "./util.js";

export function recordHtml(r) {
  if (!r) return "";
  if (r.loading) return '<section class="record"><h3>Record</h3><p class="muted">Asking the client\'s record system…</p></section>';
  if (!r.available) return `<section class="record"><h3>Record</h3><p class="restricted">${esc(r.reason || "not available")}</p></section>`;
  const list = (title, items) => items?.length ? `<dt>${title}</dt><dd>${items.map(esc).join("<br>")}</dd>` : "";
  return `<section class="record"><h3>Record (${esc(r.source)})</h3>
    ${r.alerts.map((a) => `<p class="flag">${esc(a.text)}</p>`).join("")}
    <dl class="facts">${list("Problems", r.problems)}${list("Medication", r.medication)}${list("Allergies", r.allergies)}
      ${list("Care plan", r.care_plan)}${list("Contacts", r.contacts.map((c) => [c.name, c.relationship, c.phone].filter(Boolean).join(", ")))}
      ${list("Recent", r.observations)}</dl>
    <p class="muted small">fetched ${hhmm(r.fetched_at)}${r.cached ? " (earlier tonight)" : ""}</p></section>`;
}
