// A job's card: the client's alerts first, what the caller said and was told, the moves the service allows,
// observations with the NEWS2 answer (kept on the card), and completion with materials counted on steppers.
// Cards are kept and updated in place, never rebuilt: a job update arriving over the socket (any re-plan in the
// region) must not wipe a revealed key-safe code, an open client summary or a half-typed form.
import { $, Offline, act, api, esc, now, stepper, time } from "./core.js";

export const CLOSED = ["completed", "cancelled"];
const ALWAYS = ["summary", "navigate"];  // her own open job: the client and the way there
const clients = new Map();  // client id -> her record, asked once (kept in memory only, for this session)
// Her jobs' cards ask together (a night's list is drawn at once): one request per client, not one per card.
function client(id) {
  if (!clients.has(id)) clients.set(id, api("GET", `/api/clients/${id}`).catch((e) => { clients.delete(id); throw e; }));
  return clients.get(id);
}
// At logout nothing of her clients stays in the page.
export function forgetClients() { clients.clear(); }
export const may = (v, action) => ALWAYS.includes(action) || (v.allowed_actions || []).includes(action);
const LABEL = { do_not_resuscitate: "Do not resuscitate", do_not_hospitalise: "Do not hospitalise", copd: "COPD" };
const words = (s) => LABEL[s] || s.replaceAll("_", " ").replace(/^./, (c) => c.toUpperCase());

export function fill(li, v) {
  const u = li.querySelector(".urgency"); u.textContent = v.urgency || "planned"; u.className = "urgency " + (v.urgency || "planned");
  const what = v.notes || (v.kind === "planned" ? "planned visit" : "call");  // a call's notes: "U2 Fall"
  li.querySelector(".kind").textContent = v.urgency && what.startsWith(v.urgency + " ") ? what.slice(v.urgency.length + 1) : what;
  li.querySelector(".state").textContent = v.state.replace("_", " ");
  li.querySelector(".times").textContent = `ETA ${time(v.eta)} · window ${time(v.window_start)}–${time(v.window_end)} · ${v.service_minutes} min`;
  for (const b of li.querySelectorAll("[data-act]")) b.hidden = !may(v, b.dataset.act);
  if (!may(v, "keysafe")) hideCode(li);  // the code only while the job is under way
  if (!may(v, "complete")) li.querySelector(".complete-form").hidden = true;
  if (!may(v, "observations")) li.querySelector(".obs-form").hidden = true;
}

function hideCode(li) { const box = li.querySelector(".code"); box.textContent = ""; box.hidden = true; clearTimeout(li._codeTimer); }

function recordHtml(r) {
  if (!r.available) return `<p class="flag">Record: ${esc(r.reason || "not available")}</p>`;
  const part = (title, items) => items?.length ? `<p><strong>${title}:</strong> ${items.map(esc).join("; ")}</p>` : "";
  return `<p><strong>Record (${esc(r.source)})</strong></p>`
    + part("Problems", r.problems) + part("Medication", r.medication) + part("Allergies", r.allergies)
    + part("Care plan", r.care_plan) + part("Contacts", r.contacts.map((x) => [x.name, x.relationship, x.phone].filter(Boolean).join(", ")));
}

// -- the top of the card: her wishes, risks and record alerts; then the call's triage and the advice ----------
function showAlerts(li) {
  const b = li._brief, r = li._record, box = li.querySelector(".alerts");
  const items = [...(b?.wishes || []).map((w) => `<li class="wish">${esc(words(w))}</li>`),
    ...(r?.available ? r.alerts : []).map((a) => `<li class="record-alert">${esc(a.text)}</li>`),
    ...(b?.risks || []).map((x) => `<li class="risk">${esc(words(x))}</li>`)];
  box.innerHTML = items.length ? `<ul>${items.join("")}</ul>` : "";
  if (b?.restricted) box.innerHTML += "<p class=\"muted\">The client has not consented to share her record with the night team.</p>";
  box.hidden = !box.innerHTML;
}

function showBrief(li, b) {
  li._brief = b; showAlerts(li);
  const t = b.triage, box = li.querySelector(".brief");
  if (!t && !b.call_text) { box.hidden = true; return; }
  const a = t?.advice;
  box.innerHTML = `<details class="said" open><summary>What the caller said${t ? ` (${esc(t.urgency)}, ${time(t.decided_at)})` : ""}</summary>
      ${b.call_text ? `<p class="call-text"><span class="muted">Noted at the call:</span> ${esc(b.call_text)}</p>` : ""}
      ${t ? `<dl>${t.answers.map((x) => `<dt>${esc(x.question)}</dt><dd>${esc(x.answer)}</dd>`).join("")}</dl>` : ""}</details>`
    + (a ? `<details class="told" open><summary>What the caller was told</summary><p>${esc(a.message)}</p>
      ${a.steps.length ? `<ol>${a.steps.map((s) => `<li>${esc(s)}</li>`).join("")}</ol>` : ""}
      ${a.safety_net ? `<p class="safety-net">${esc(a.safety_net)}</p>` : ""}</details>` : "");
  box.hidden = false;
}

// -- declining: a reason for the operators, one of the usual ones or her own words (index.html #decline-dialog) --
const declineDialog = $("#decline-dialog"), declineForm = $("#decline-form");
for (const b of declineForm.querySelectorAll("[data-reason]")) {
  b.setAttribute("aria-pressed", "false");
  b.addEventListener("click", () => {
    declineForm.elements.reason.value = b.dataset.reason;
    for (const o of declineForm.querySelectorAll("[data-reason]")) o.setAttribute("aria-pressed", String(o === b));
    declineForm.querySelector("button[value=decline]").focus();
  });
}
function askReason(what) {
  declineForm.reset(); declineDialog.returnValue = "";
  for (const o of declineForm.querySelectorAll("[data-reason]")) o.setAttribute("aria-pressed", "false");
  $("#decline-job").textContent = what;
  declineDialog.showModal();
  return new Promise((resolve) => declineDialog.addEventListener("close", () =>
    resolve(declineDialog.returnValue === "decline" ? declineForm.elements.reason.value.trim() : null), { once: true }));
}

/** The connection is back: a "no connection" error on the card is no longer true. */
export function connectionBack(li) {
  const err = li.querySelector(".error");
  if (err.dataset.offline) { err.textContent = ""; delete err.dataset.offline; }
}

// One card's brief and record alerts after the other: a phone with a full night of jobs does not ask for all of
// them at once (each is an audited read, the record perhaps from a slow record system).
let briefs = Promise.resolve();
function loadBrief(li, v) {
  const load = async () => {
    if (!li.isConnected) return;  // the job went meanwhile (or she logged out)
    await api("GET", `/api/visits/${v.id}/brief`).then((b) => showBrief(li, b)).catch(() => {});
    await api("GET", `/api/clients/${v.client_id}/summary?visit_id=${v.id}`)
      .then((r) => { li._record = r; showAlerts(li); }).catch(() => {});
  };
  briefs = briefs.then(load, load);
}

// -- NEWS2: the service scores, this page shows its answer ----------------------------------------------------
function showNews2(li, obs) {
  const box = li.querySelector(".news2");
  const level = obs.call_112 ? "high" : obs.urgent ? "urgent" : "low";
  box.className = "news2 " + level;
  box.innerHTML = `<p class="news2-score">NEWS2 <strong>${esc(obs.news2_total)}</strong> · ${esc(obs.news2_risk.replace("_", "-"))} risk
      <span class="muted">(${time(obs.recorded_at)})</span></p><p class="response">${esc(obs.clinical_response)}</p>`
    + (obs.call_112 ? '<a class="call112" href="tel:112">Call 112</a>' : "");
  box.hidden = false;
}

/** The last NEWS2 answer recorded on the card's job (after a reload, or once queued observations were sent). */
export function lastNews2(li) {
  api("GET", `/api/visits/${li.dataset.visit}`).then((d) => { const o = d.observations?.at(-1); if (o) showNews2(li, o); })
    .catch(() => {});
}

const VITALS = { respiration_rate: "respiration rate", spo2: "SpO₂", systolic_bp: "systolic blood pressure",
  pulse: "pulse", temperature: "temperature" };

async function observe(v, li, form) {
  const f = new FormData(form);
  const missing = Object.keys(VITALS).filter((k) => !f.get(k)).map((k) => VITALS[k]);
  if (missing.length) throw new Error(`Observations incomplete: ${missing.join(", ")} missing. A NEWS2 score needs every vital sign.`);
  const obs = await act("POST", `/api/visits/${v.id}/observations`, {
    respiration_rate: Number(f.get("respiration_rate")), spo2: Number(f.get("spo2")), on_oxygen: f.get("on_oxygen") === "on",
    systolic_bp: Number(f.get("systolic_bp")), pulse: Number(f.get("pulse")), consciousness: f.get("consciousness"),
    temperature: Number(f.get("temperature")) }, `Observations (job ${v.id})`);
  if (obs) { showNews2(li, obs); form.hidden = true; form.reset(); return; }
  const box = li.querySelector(".news2"); box.className = "news2 waiting"; box.hidden = false;
  box.textContent = "Observations kept on the phone: the NEWS2 score comes when the connection returns.";
  form.hidden = true; form.reset();
}

export function card(v, { jobs, render, completed }) {
  const id = v.id;
  const li = $("#job-template").content.firstElementChild.cloneNode(true);
  li.dataset.visit = id;
  li.querySelector(".address").textContent = `Client ${v.client_id}`;
  const err = li.querySelector(".error");
  const guard = (fn, offline = "No connection: try again when the connection returns.") => async () => {
    err.textContent = ""; delete err.dataset.offline;
    try { await fn(); }
    catch (e) {
      err.textContent = e instanceof Offline ? offline : e.body?.detail || e.message;
      if (e instanceof Offline) err.dataset.offline = "1";  // cleared when the connection returns
    }
  };
  client(v.client_id).then((c) => {
    li.querySelector(".address").textContent = `${c.street} ${c.house_number}, ${c.city}`;
    li.querySelector("[data-act=navigate]").href = `https://www.google.com/maps/dir/?api=1&destination=${c.lat},${c.lon}`;
    li._client = c;
  }).catch(() => {});
  loadBrief(li, v);
  if (v.state === "on_scene") lastNews2(li);  // observations recorded earlier on this job stay in view
  const step = async (action, extra = {}) => {
    const what = { accept: "Accept", en_route: "En route", on_scene: "On scene", completed: "Complete" }[action];
    const r = await act("POST", `/api/visits/${id}/${action === "accept" ? "accept" : "progress"}`,
      action === "accept" ? undefined : { state: action, ...extra }, `${what} (job ${id})`);
    if (r) {  // the service's answer says what she may do now
      if (CLOSED.includes(r.state)) jobs.delete(id); else jobs.set(id, { ...(jobs.get(id) || v), ...r });
    } else if (jobs.has(id)) {  // queued offline: shown as done, sent when the connection returns
      const current = jobs.get(id), ahead = (current.actions_after || {})[action === "completed" ? "complete" : action];
      if (!ahead || CLOSED.includes(ahead.state)) jobs.delete(id);
      else jobs.set(id, { ...current, state: ahead.state, allowed_actions: ahead.allowed_actions });
    }
    if (action === "completed") completed?.(id, { address: li.querySelector(".address").textContent, at: time(now()),
      note: !!extra.handover_note, queued: !r });
    render();
  };
  li.querySelector("[data-act=accept]").onclick = guard(() => step("accept"));
  li.querySelector("[data-act=en_route]").onclick = guard(() => step("en_route"));
  li.querySelector("[data-act=on_scene]").onclick = guard(() => step("on_scene"));
  li.querySelector("[data-act=decline]").onclick = guard(async () => {
    const reason = await askReason(`${li.querySelector(".kind").textContent}, ${li.querySelector(".address").textContent}`);
    if (!reason) return;
    await act("POST", `/api/visits/${id}/decline`, { reason }, `Decline (job ${id})`);
    jobs.delete(id); render();
  });
  li.querySelector("[data-act=keysafe]").onclick = guard(async () => {
    const r = await api("POST", `/api/visits/${id}/keysafe`);  // never queued: shown only live, and logged
    if (!may(jobs.get(id) || {}, "keysafe")) return;  // the job moved on while the code was on its way
    const box = li.querySelector(".code"); box.textContent = r.code; box.hidden = false;
    clearTimeout(li._codeTimer); li._codeTimer = setTimeout(() => hideCode(li), 60000);
  }, "No connection: the key-safe code is only given live. Try again when the connection returns.");
  li.querySelector("[data-act=summary]").onclick = guard(async () => {
    const c = li._client || await client(v.client_id);
    const box = li.querySelector(".summary"); box.hidden = !box.hidden;
    const who = `${c.given_name} ${c.family_name}, born ${c.date_of_birth || "?"}. Access: ${c.access_notes || "—"}.`
      + (c.restricted ? " (The client has not consented to share more with the night team.)" : ` Phone: ${(c.phones || []).join(", ")}`);
    box.innerHTML = `<div class="record"><p>Record: asking her organisation's system…</p></div><p>${esc(who)}</p>`;
    if (box.hidden || c.restricted) { box.querySelector(".record").remove(); return; }
    let r = li._record;  // her own record system; slow or down, she sees why and goes on
    if (!r?.available) {
      try { r = await api("GET", `/api/clients/${v.client_id}/summary?visit_id=${id}`); li._record = r; showAlerts(li); }
      catch (e) { r = { available: false, reason: e instanceof Offline ? "no connection" : e.body?.detail || e.message }; }
    }
    const rec = box.querySelector(".record");
    if (rec) rec.innerHTML = recordHtml(r);
  });
  const obsForm = li.querySelector(".obs-form");
  li.querySelector("[data-act=observations]").onclick = () => { obsForm.hidden = !obsForm.hidden; };
  obsForm.onsubmit = (ev) => { ev.preventDefault(); guard(() => observe(jobs.get(id) || v, li, obsForm))(); };
  const form = li.querySelector(".complete-form");
  form.onsubmit = (ev) => { ev.preventDefault(); guard(() => complete(form, step))(); };
  li.querySelector("[data-act=complete]").onclick = guard(async () => {
    form.hidden = false;
    if (form.dataset.ready) return;  // opened before: keep what she has counted and typed
    form.dataset.ready = "1";
    let items;
    try { items = await api("GET", "/api/nightbag/items"); } catch (e) { delete form.dataset.ready; throw e; }
    const box = form.querySelector(".materials"); box.innerHTML = "<p>Materials used</p>";
    for (const i of items.filter((x) => x.kind === "material")) box.append(stepper(i.name, 0, { dataset: { item: i.id } }));
  });
  return li;
}

async function complete(form, step) {
  const f = new FormData(form);
  const materials = [...form.querySelectorAll(".stepper[data-item]")].filter((s) => Number(s.dataset.value) > 0)
    .map((s) => ({ item_id: Number(s.dataset.item), quantity: Number(s.dataset.value) }));
  await step("completed", { handover_note: f.get("note") || "", materials });
}
