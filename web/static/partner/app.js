// The partner portal: a home-care organisation's own clients and nothing else — the night's handover, the day
// tasks the night left, the clients (consent, key safe present, never a code), who looked at their records and
// why, and the organisation's share of the night team's cost. It talks to the service only through its public
// HTTP API; every list it shows is scoped by the service to the partner's organisation.
import { api, token, message, Refused, signIn } from "/console/api.js";
import { $, $$, esc, setServerTime, now, dayTime } from "/console/util.js";
import { renderHandover, adviceHtml } from "/partner/handover.js";
import { recordHtml } from "/console/record.js";
import { money, accessWhat } from "/partner/words.js";

const state = { me: null, org: null, view: "handover", clientsListed: false };

async function start() {
  state.me = await api("GET", "/api/me");
  setServerTime(state.me.now, state.me.timezone);
  const orgs = await api("GET", "/api/organisations");
  state.org = orgs.find((o) => o.id === state.me.organisation_id) || null;
  $("#org").textContent = state.org ? state.org.name : "all organisations (coordinator)";
  $("#who").textContent = state.me.username;
  const today = localDate(now());
  $("#night").value = localDate(new Date(now().getTime() - 24 * 3600 * 1000));  // the night that ended this morning
  $("#month").value = today.slice(0, 7);
  show(true);
  await select("handover");
  refreshTaskCount();
}

// The region's calendar date of a moment, as YYYY-MM-DD.
function localDate(d) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: state.me?.timezone || "Europe/Amsterdam", year: "numeric", month: "2-digit", day: "2-digit" }).format(d);
}

// -- views ---------------------------------------------------------------------------------------------------
const views = { handover: loadHandover, tasks: loadTasks, clients: () => state.clientsListed || findClients(""), access: loadAccess, costs: loadStatement };
async function select(view) {
  state.view = view;
  for (const b of $$(".tabs button")) b.setAttribute("aria-selected", String(b.dataset.view === view));
  for (const v of $$(".view")) v.hidden = v.id !== `view-${view}`;
  $("#error").textContent = "";
  try { await views[view](); } catch (e) { $("#error").textContent = message(e); }
}
for (const b of $$(".tabs button")) b.onclick = () => select(b.dataset.view);

// The night's handover.
async function loadHandover() {
  const night = $("#night").value;
  $("#handover").innerHTML = '<p class="muted">Loading…</p>';
  const data = await api("GET", `/api/handover?night=${encodeURIComponent(night)}`);
  $("#handover").innerHTML = renderHandover(data);
}
$("#night").addEventListener("change", () => select("handover"));
$("#print-handover").onclick = () => download(`/api/handover.html?night=${$("#night").value}`, `handover-${$("#night").value}.html`, true);
$("#fhir-handover").onclick = () => download(`/api/handover.fhir?night=${$("#night").value}`, `handover-${$("#night").value}.json`);

// Day tasks: to pick up and close.
async function loadTasks() {
  const tasks = await api("GET", `/api/day-tasks?state=${$("#task-state").value}`);
  $("#tasks").innerHTML = tasks.length ? tasks.map((t) => `<li class="${t.state === "done" ? "done" : ""}" data-task="${t.id}">
      <strong>${esc(t.client_name || `client ${t.client_id}`)}</strong> <span class="muted small">${dayTime(t.created_at)}${t.call_id ? ` · call ${t.call_id}` : ""}</span>
      <p>${esc(t.summary)}</p>
      ${t.advice_given ? `<details><summary>What the caller was told</summary><div class="advice">${adviceHtml(t.advice_given)}</div></details>` : ""}
      ${t.state === "open" ? `<button type="button" data-done="${t.id}">Done</button>` : `<p class="muted small">Done ${dayTime(t.done_at)} by ${esc(t.done_by)}</p>`}
    </li>`).join("") : '<li class="muted">No tasks.</li>';
  for (const b of $$("#tasks [data-done]")) b.onclick = async () => {
    try { await api("POST", `/api/day-tasks/${b.dataset.done}/done`); await loadTasks(); refreshTaskCount(); }
    catch (e) { $("#error").textContent = message(e); }
  };
}
$("#task-state").addEventListener("change", () => select("tasks"));
async function refreshTaskCount() {
  const open = await api("GET", "/api/day-tasks?state=open").catch(() => []);
  const badge = $("#task-count"); badge.hidden = !open.length; badge.textContent = open.length;
}

// Clients: the first page of them by family name on opening, or those a search finds; then one client's record as
// the organisation keeps it (a key safe is present or not — the code is never shown here).
const PAGE = 50;
async function findClients(q) {
  const found = await api("GET", `/api/clients?limit=${PAGE}${q ? `&q=${encodeURIComponent(q)}` : ""}`);
  state.clientsListed = true;
  $("#clients-hint").textContent = q
    ? `${found.length === PAGE ? `The first ${PAGE}` : found.length} found for “${q}”.`
    : found.length === PAGE ? `Your first ${PAGE} clients by family name: search by name, postcode or phone to find others.`
      : "All your clients, by family name.";
  $("#clients").innerHTML = found.length ? found.map((c) => `<tr><td>${esc(c.given_name)} ${esc(c.family_name)}</td>
    <td>${esc(c.date_of_birth || "")}</td><td>${esc(c.street)} ${esc(c.house_number)}, ${esc(c.postcode)} ${esc(c.city)}</td>
    <td><button type="button" class="ghost" data-client="${c.id}">Open</button></td></tr>`).join("") : '<tr><td colspan="4" class="muted">No clients found.</td></tr>';
  for (const b of $$("#clients [data-client]")) b.onclick = () => openClient(Number(b.dataset.client));
}
$("#client-search").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try { await findClients(new FormData(ev.target).get("q").trim()); } catch (e) { $("#error").textContent = message(e); }
});
function consentLine(given, date, source, yes, no) {
  const when = [date, source].filter(Boolean).map(esc).join(", ");
  return (given ? esc(yes) : `<span class="flag">${esc(no)}</span>`) + (when ? ` <span class="muted small">(${when})</span>` : "");
}
const WISH = { do_not_hospitalise: "do not hospitalise", do_not_resuscitate: "do not resuscitate" };
async function openClient(id) {
  const c = await api("GET", `/api/clients/${id}`);
  $("#client").innerHTML = `<div class="client-card"><h2>${esc(c.given_name)} ${esc(c.family_name)}</h2>
    <dl class="facts"><dt>Address</dt><dd>${esc(c.street)} ${esc(c.house_number)}, ${esc(c.postcode)} ${esc(c.city)}</dd>
      <dt>Born</dt><dd>${esc(c.date_of_birth || "—")}</dd>
      <dt>Your id</dt><dd>${esc(c.external_ids.map((e) => e.value).join(", ") || "—")}</dd>
      <dt>Phones</dt><dd>${esc(c.phones.join(", ") || "—")}</dd>
      <dt>Access</dt><dd>${esc(c.access_notes || "—")}</dd>
      <dt>Key safe</dt><dd>${c.has_keysafe ? "present (the code is shown only to the nurse on an active job)" : "none"}</dd>
      <dt>Consent: night team</dt><dd>${consentLine(c.consent_night_team, c.consent_night_team_date, c.consent_night_team_source,
        "shares her record with the night team", "does not share her record with the night team")}</dd>
      <dt>Consent: summary</dt><dd>${consentLine(c.consent_summary, c.consent_summary_date, c.consent_summary_source,
        "shares the summary from your record system", "does not share the summary from your record system")}</dd>
      ${c.wishes?.length ? `<dt>Wishes</dt><dd class="flag">${c.wishes.map((w) => esc(WISH[w] || w)).join("; ")}</dd>` : ""}
      ${c.risks?.length ? `<dt>Known risks</dt><dd>${esc(c.risks.map((r) => r.replaceAll("_", " ")).join(", "))}</dd>` : ""}</dl>
    <div id="client-record">${recordHtml({ loading: true })}</div></div>`;
  // What the night team sees of her record system's summary (the same fetch, audited as the partner's read).
  const summary = await api("GET", `/api/clients/${id}/summary`).catch((e) => ({ available: false, reason: message(e) }));
  const box = $("#client-record");
  if (box) box.innerHTML = recordHtml(summary);
}

// Access log: every read or change of its clients' data — who, when, why; break-glass flagged.
async function loadAccess() {
  const entries = await api("GET", "/api/audit?limit=200");
  const shown = $("#glass-only").checked ? entries.filter((e) => e.break_glass) : entries;
  $("#access").innerHTML = shown.length ? shown.map((e) => `<tr class="${e.break_glass ? "glass" : ""}">
      <td>${dayTime(e.at)}</td><td>${esc(e.username)} <span class="muted small">${esc(e.role)}</span></td>
      <td>${esc(e.client_name)}</td><td title="${esc(`${e.action} ${e.data}`)}">${esc(accessWhat(e.action, e.data))}</td>
      <td>${e.break_glass ? '<strong class="flag">break-glass:</strong> ' : ""}${esc(e.reason)}</td></tr>`).join("")
    : '<tr><td colspan="5" class="muted">Nobody looked at your clients\' records in this period.</td></tr>';
}
$("#glass-only").addEventListener("change", () => select("access"));

// Cost share: the month's statement with the figures it rests on, as CSV and PDF too.
async function loadStatement() {
  const month = $("#month").value;
  const s = await api("GET", `/api/cost-share/statement?month=${encodeURIComponent(month)}`);
  const region = s.region_figures;
  $("#statement").innerHTML = `<p>${esc(s.runner.name)} runs the night team: ${money(s.monthly_cost_eur)} this month,
      shared by ${esc(s.agreement.model.replaceAll("_", " "))}.${s.agreement.note ? ` <span class="muted">${esc(s.agreement.note)}</span>` : ""}</p>
    <table class="list"><thead><tr><th>Organisation</th><th></th><th>Calls</th><th>Visits</th><th>Care min</th>
      <th>Travel min</th><th>Clients in care</th><th>Share</th><th>Amount</th></tr></thead><tbody>${s.organisations.map((r) => `<tr>
      <td>${esc(r.organisation.name)}</td><td class="muted small">${esc(r.role)}</td><td>${esc(r.figures.calls)}</td>
      <td>${esc(r.figures.visits)}</td><td>${esc(r.figures.care_minutes)}</td><td>${esc(r.figures.travel_minutes)}</td>
      <td>${esc(r.figures.clients_in_care)}</td><td>${esc(r.share_percent)} %</td><td class="num">${money(r.amount_eur)}</td></tr>`).join("")}</tbody>
      <tfoot><tr><th>Region</th><th></th><td>${esc(region.calls)}</td><td>${esc(region.visits)}</td><td>${esc(region.care_minutes)}</td>
      <td>${esc(region.travel_minutes)}</td><td>${esc(region.clients_in_care)}</td><td></td><td class="num">${money(s.monthly_cost_eur)}</td></tr></tfoot></table>
    ${s.notes?.length ? `<ul class="muted small">${s.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>` : ""}`;
}
$("#month").addEventListener("change", () => select("costs"));
$("#statement-csv").onclick = () => download(`/api/cost-share/statement.csv?month=${$("#month").value}`, `statement-${$("#month").value}.csv`);
$("#statement-pdf").onclick = () => download(`/api/cost-share/statement.pdf?month=${$("#month").value}`, `statement-${$("#month").value}.pdf`);

// A file the service makes (the login travels in a header, so a plain link would not do).
async function download(path, filename, open = false) {
  try {
    const r = await fetch(path, { headers: { Authorization: "Bearer " + token.get() }, cache: "no-store" });
    if (!r.ok) throw new Refused(r.status, await r.json().catch(() => ({})));
    const url = URL.createObjectURL(await r.blob());
    if (open) { window.open(url, "_blank"); return; }
    const a = document.createElement("a"); a.href = url; a.download = filename; document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (e) { $("#error").textContent = message(e); }
}

const show = signIn({ main: $("#portal"), roles: ["partner", "coordinator"],
  refusal: "The portal is for partner organisations (and coordinators).", start: () => start() });
