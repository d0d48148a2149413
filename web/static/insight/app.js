// Insight: the regional coordinator's figures. How fast the night team reached the clients (per urgency, against
// the region's targets), how the calls ended, per organisation and per hour of the night, how busy the nurses
// were, and how closely the operators followed the protocol. It reads the service's public HTTP API only
// (/api/insight/kpis, /api/reports/triage-compliance, /api/protocols, /api/nurses, /api/shifts); a partner who logs
// in sees the same figures of its own clients' calls (the service scopes them).
import { api, message, signIn } from "/console/api.js";
import { $, $$, esc, setServerTime, dayTime, hhmm, plural } from "/console/util.js";
import { URGENCIES, drawHours, drawTimes } from "/insight/charts.js";
import { loadProtocols, loadComingShifts } from "/insight/links.js";

const state = { me: null, nights: "1", data: null, loading: 0 };

async function start() {
  state.me = await api("GET", "/api/me");
  setServerTime(state.me.now, state.me.timezone);
  $("#who").textContent = state.me.username;
  const coordinator = state.me.role === "coordinator";
  for (const id of ["#compliance-box", "#protocols-box", "#team"]) $(id).hidden = !coordinator;
  $("#title").textContent = coordinator ? "The region's nights" : "Your clients' nights";
  show(true);
  await load();
  if (coordinator) {
    loadProtocols($("#protocols")).catch((e) => { $("#protocols").textContent = message(e); });
    loadComingShifts($("#coming")).catch((e) => { $("#coming").textContent = message(e); });
  }
}

for (const b of $$(".periods button")) b.onclick = () => {
  state.nights = b.dataset.nights;
  for (const o of $$(".periods button")) o.setAttribute("aria-pressed", String(o === b));
  load();
};

// Night dates are the service's (the night of D runs from D 07:00 to D+1 07:00): the first answer says which night
// finished last and which is going on, and the period is counted back from there.
function addDays(iso, days) {
  const d = new Date(iso + "T12:00:00Z"); d.setUTCDate(d.getUTCDate() + days); return d.toISOString().slice(0, 10);
}
async function load() {
  const ticket = ++state.loading;
  $("#error").textContent = "";
  document.body.dataset.loading = "true";
  try {
    let query = "";
    if (state.data) {
      const last = state.nights === "tonight" ? state.data.current_night : state.data.last_finished_night;
      const count = state.nights === "tonight" ? 1 : Number(state.nights);
      query = `?from=${addDays(last, 1 - count)}&to=${last}`;
    }
    const data = await api("GET", `/api/insight/kpis${query}`);
    if (ticket !== state.loading) return;  // a later choice of period won
    state.data = data;
    render(data);
    if (state.me.role === "coordinator") await loadCompliance(data);
  } catch (e) {
    $("#error").textContent = message(e);
  } finally {
    if (ticket === state.loading) delete document.body.dataset.loading;
  }
}

const minutes = (s) => s == null ? "—" : `${Math.round(s / 60)} min`;
const percent = (x) => x == null ? "—" : `${Math.round(x * 100)} %`;

function render(d) {
  $("#period").textContent = `${d.nights === 1 ? "The night" : `${d.nights} nights`}: ${dayTime(d.period_start)} → `
    + `${dayTime(d.period_end)} (${d.time_zone}): ${plural(d.calls, "call")}.`
    + (d.complete ? "" : ` Still going on: figures as of ${hhmm(d.generated_at)}, updated every minute.`);
  $("#tiles").innerHTML = URGENCIES.map((u) => {
    const r = d.responses[u];
    const share = r.within_target_share;
    const tone = share == null ? "none" : share >= 0.9 ? "good" : share >= 0.7 ? "fair" : "poor";
    return `<li class="tile ${tone}" data-urgency="${u}">
      <h3>${u}</h3>
      <p class="big"><span class="value" data-figure="p90">${minutes(r.p90_s)}</span> <span class="unit">p90</span></p>
      <p><strong data-figure="within">${percent(share)}</strong> within the target of <span data-figure="target">${r.target_min} min</span></p>
      <p class="muted small">median ${minutes(r.p50_s)} · ${plural(r.responses, "response")}${r.under_way ? ` · <span data-figure="under-way">${r.under_way} under way</span>` : ""}${r.no_arrival ? ` · <span class="flag" data-figure="not-reached">${r.no_arrival} not reached</span>` : ""} · ${plural(r.calls, "call")}</p>
    </li>`;
  }).join("");
  const o = d.by_outcome;
  $("#outcomes").innerHTML = [["Nurse visit", o.visit], ["Escalated (112, GP post)", o.escalated], ["Deferred to the day team", o.deferred],
    ["Advice by phone", o.advice], ["Not triaged", o.untriaged]]
    .map(([label, n]) => `<li><span class="n">${n}</span> ${esc(label)}</li>`).join("");
  $("#hours").innerHTML = d.hours.filter((h) => h.calls).map((h) => `<tr><th scope="row">${h.label}</th><td>${h.calls}</td>
      <td>${h.by_urgency.U0 + h.by_urgency.U1}</td><td>${h.by_urgency.U2}</td><td>${h.by_urgency.U3}</td>
      <td>${h.by_urgency.U4 + h.by_urgency.U5}</td><td>${h.by_urgency.untriaged}</td><td>${minutes(h.p50_s)}</td></tr>`).join("")
    || '<tr><td colspan="8" class="muted">No calls.</td></tr>';
  $("#orgs").innerHTML = d.organisations.map((g) => `<tr><th scope="row">${esc(g.name)} <span class="muted small">${esc(g.organisation)}</span></th>
      <td>${g.calls}</td><td>${g.by_outcome.visit}</td><td>${g.by_outcome.escalated}</td><td>${g.by_outcome.deferred}</td>
      <td>${g.by_outcome.advice}</td><td>${minutes(g.responses.U2.p90_s)}</td><td>${percent(g.responses.U2.within_target_share)}</td>
      <td>${minutes(g.responses.U3.p90_s)}</td><td>${percent(g.responses.U3.within_target_share)}</td></tr>`).join("");
  const use = d.utilisation;
  $("#nurses").innerHTML = use ? [...use.nurses.map((n) => useRow(esc(n.nurse), n)), useRow("<strong>Team</strong>", use.team)].join("") : "";
  drawHours($("#chart-hours"), d);
  drawTimes($("#chart-times"), d);
}
const hours = (m) => `${Math.floor(m / 60)}:${String(Math.round(m % 60)).padStart(2, "0")}`;
function useRow(name, n) {
  return `<tr><th scope="row">${name}</th><td>${hours(n.shift_minutes)} h</td><td>${hours(n.travel_minutes)} h</td>
    <td>${hours(n.care_minutes)} h</td><td>${percent(n.busy_share)}</td></tr>`;
}

// Triage compliance, for the region days the nights cover (a night ends on the next day's morning).
async function loadCompliance(d) {
  const c = await api("GET", `/api/reports/triage-compliance?from=${d.from}&to=${addDays(d.to, 1)}`);
  const row = (week, who, f) => `<tr><td>${esc(week)}</td><td>${who}</td><td>${f.triages}</td><td>${f.questions_asked}</td>
    <td>${f.questions_skipped}</td><td>${percent(f.compliance)}</td><td>${percent(f.nothing_skipped_share)}</td>
    <td>${f.dont_know}</td><td>${f.overrides} (${f.overrides_lowering})</td></tr>`;
  $("#compliance").innerHTML = c.rows.length
    ? [...c.rows.map((r) => row(r.week, esc(r.operator), r)), row(`${c.from} – ${c.to}`, "<strong>All operators</strong>", c.total)].join("")
    : '<tr><td colspan="9" class="muted">No triages decided in this period.</td></tr>';
}

// A period still going on (tonight) is read again every minute while the page is in view.
setInterval(() => {
  if (state.data && !state.data.complete && !document.hidden && !$("#insight").hidden) load();
}, 60_000);

const show = signIn({ main: $("#insight"), roles: ["coordinator", "partner"],
  refusal: "Insight is for the regional coordinator (and the partner organisations).", start: () => start() });
