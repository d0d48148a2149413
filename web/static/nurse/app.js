// nightcare nurse app: jobs live over the websocket, actions over the HTTP API, queued while offline.
// The service decides what she may do with a job (each visit carries its `allowed_actions`) and what time it
// is (the phone's clock may be off); this page keeps no copy of those rules.
"use strict";
const $ = (sel, root = document) => root.querySelector(sel);
const store = {
  get(k, d) { try { return JSON.parse(localStorage.getItem("nc." + k)) ?? d; } catch { return d; } },
  set(k, v) { localStorage.setItem("nc." + k, JSON.stringify(v)); },
  del(k) { localStorage.removeItem("nc." + k); },
};
const jobs = new Map();   // visit id -> visit
const clients = new Map();  // client id -> summary (kept in memory only, for this session)
let socket = null, retry = 1;
let zone = store.get("timezone", "Europe/Amsterdam");

class Offline extends Error {}
class Refused extends Error { constructor(status, body) { super(body.detail || status); this.status = status; this.body = body; } }

async function api(method, path, body, { form = false } = {}) {
  const headers = {};
  const token = store.get("token");
  if (token) headers.Authorization = "Bearer " + token;
  let payload;
  if (form) { payload = new URLSearchParams(body); }
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  let r;
  try { r = await fetch(path, { method, headers, body: payload, cache: "no-store" }); }
  catch (e) { throw new Offline("no connection"); }
  const data = r.status === 204 ? null : await r.json().catch(() => ({}));
  if (r.status === 401 && token) { logout(); throw new Refused(401, data); }
  if (!r.ok) throw new Refused(r.status, data);
  return data;
}

// -- offline queue: actions taken without a connection are sent in order when it returns ----------------------
// An action the service refuses once it arrives (the job moved on meanwhile) is not dropped: it is shown to her
// with the reason, and what she typed (a handover note) stays readable until she dismisses it.
function queued() { return store.get("queue", []); }
function refusedActions() { return store.get("refused", []); }
function showQueue() {
  const q = queued(), el = $("#queued");
  el.hidden = q.length === 0; el.textContent = `${q.length} waiting to send`;
  const box = $("#refused"), list = refusedActions();
  box.hidden = list.length === 0;
  box.querySelector("ul").innerHTML = list.map((a, i) => `<li><strong>${esc(a.what)}</strong> was not accepted by the
    service: ${esc(a.reason)}${a.note ? `<blockquote>${esc(a.note)}</blockquote>` : ""}
    <button class="secondary" data-dismiss="${i}">Dismiss</button></li>`).join("");
}
$("#refused").addEventListener("click", (ev) => {
  const i = ev.target.dataset?.dismiss;
  if (i === undefined) return;
  const list = refusedActions(); list.splice(Number(i), 1); store.set("refused", list); showQueue();
});
async function act(method, path, body, what) {
  try { return await api(method, path, body); }
  catch (e) {
    if (!(e instanceof Offline)) throw e;
    store.set("queue", [...queued(), { method, path, body, what }]); showQueue();
    return null;
  }
}
let replaying = false;
async function replay() {
  if (replaying) return;
  replaying = true;
  try {
    let q = queued();
    while (q.length) {
      const [first, ...rest] = q;
      try { await api(first.method, first.path, first.body); }
      catch (e) {
        if (e instanceof Offline) break;
        store.set("refused", [...refusedActions(), { what: first.what || `${first.method} ${first.path}`,
          reason: e.body?.detail || e.message, note: first.body?.handover_note || "" }]);
      }
      q = rest; store.set("queue", q);
    }
  } finally { replaying = false; }
  showQueue();
  if (store.get("token")) await loadJobs().catch(() => {});
}
window.addEventListener("online", () => { line(socket?.readyState === 1); replay(); });
window.addEventListener("offline", () => line(false));

// -- screens ------------------------------------------------------------------------------------------------
function show(id) { for (const s of ["login", "bag", "jobs"]) $("#" + s).hidden = s !== id; }

function logout() {
  const token = store.get("token");
  if (token) fetch("/api/auth/logout", { method: "POST", headers: { Authorization: "Bearer " + token } }).catch(() => {});
  store.del("token"); store.del("nurse"); if (socket) { socket.onclose = null; socket.close(); socket = null; }
  jobs.clear(); render(); show("login");  // nothing of her jobs (a revealed code, a summary) stays in the page
  $("#who").hidden = true;
}
$("#logout").addEventListener("click", logout);

$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  $("#login-error").textContent = "";
  try {
    const t = await api("POST", "/api/auth/token", { username: f.get("username"), password: f.get("password") }, { form: true });
    store.set("token", t.access_token);
    await start();
  } catch (e) { $("#login-error").textContent = e.body?.detail || e.message; }
});

async function start() {
  let me;
  try { me = await api("GET", "/api/nurses/me"); }
  catch (e) {
    if (e instanceof Refused && e.status === 403) {
      logout(); $("#login-error").textContent = "This login is not a night nurse: the nurse app is for nurses.";
      return;
    }
    throw e;
  }
  if (store.get("nurse")?.id !== me.nurse.id) { store.set("lastSeq", 0); store.set("queue", []); }
  store.set("nurse", me.nurse); store.set("timezone", me.timezone); zone = me.timezone;
  $("#who").hidden = false;
  $("#who-name").textContent = me.nurse.name;
  $("#shift").textContent = shiftText(me.shift, me.now);
  if (me.shift?.bag_check_due) return bagCheck(me.shift);
  openJobs();
}

function shiftText(shift, now) {
  if (!shift) return "No shift planned";
  const span = `${day(shift.starts_at, now)}${time(shift.starts_at)}–${time(shift.ends_at)}`;
  return new Date(shift.starts_at) <= new Date(now) ? `On shift until ${time(shift.ends_at)}` : `Next shift ${span}`;
}

async function bagCheck(shift) {
  show("bag");
  $("#bag-shift").textContent = `${time(shift.starts_at)}–${time(shift.ends_at)}`;
  const items = await api("GET", "/api/nightbag/items");
  const box = $("#bag-items"); box.innerHTML = "";
  for (const it of items) {
    const row = document.createElement("div"); row.className = "bag-row";
    row.innerHTML = `<label></label><input type="number" min="0" inputmode="numeric" aria-label="count">
      <div class="dates"><label>Expires <input type="date" data-f="expires_on"></label>
      ${it.kind === "device" ? '<label>Calibration due <input type="date" data-f="calibration_due"></label>' : ""}</div>`;
    row.querySelector("label").textContent = `${it.name} (${it.quantity})`;
    row.querySelector("input").value = it.quantity;
    row.querySelector("input").setAttribute("aria-label", `${it.name}: count`);
    row.dataset.item = it.id;
    box.append(row);
  }
  $("#bag-form").onsubmit = async (ev) => {
    ev.preventDefault();
    const counted = [...box.children].map((row) => {
      const c = { item_id: Number(row.dataset.item), quantity: Number(row.querySelector("input").value || 0) };
      for (const d of row.querySelectorAll("input[type=date]")) if (d.value) c[d.dataset.f] = d.value;
      return c;
    });
    const r = await api("POST", `/api/shifts/${shift.id}/start`, { items: counted });
    $("#bag-result").innerHTML = r.flags.length
      ? "<p>Flagged for the morning restock:</p><ul>" + r.flags.map((f) => `<li class="flag">${esc(f.name)}: ${esc(f.problem)} (${esc(f.detail)})</li>`).join("") + "</ul>"
      : "<p>Bag complete.</p>";
    $("#shift").textContent = `On shift until ${time(shift.ends_at)}`;
    setTimeout(openJobs, r.flags.length ? 1500 : 0);
  };
}

function openJobs() { show("jobs"); loadJobs(); connect(); }

async function loadJobs() {
  const me = store.get("nurse");
  const states = ["assigned", "accepted", "en_route", "on_scene"].map((s) => "state=" + s).join("&");
  const visits = await api("GET", `/api/visits?${states}&nurse_id=${me.id}`);
  jobs.clear();
  for (const v of visits) jobs.set(v.id, v);
  render();
}

// -- live channel -------------------------------------------------------------------------------------------
function connect() {
  if (socket && socket.readyState <= 1) return;
  const url = location.origin.replace(/^http/, "ws") + "/ws/nurse";
  socket = new WebSocket(url);
  socket.onopen = () => socket.send(JSON.stringify({ type: "hello", token: store.get("token"), last_seq: store.get("lastSeq", 0) }));
  socket.onmessage = async (ev) => {
    const f = JSON.parse(ev.data);
    if (f.type === "welcome") { line(true); retry = 1; replay(); return; }
    if (f.type === "heartbeat") { socket.send(JSON.stringify({ type: "ping" })); return; }  // a silent phone is dropped
    if (f.type === "caught_up") {  // what she no longer needs was passed over: she is up to date to here
      store.set("lastSeq", f.last_seq); socket.send(JSON.stringify({ type: "ack", seq: f.last_seq })); return;
    }
    if (f.type !== "message") return;
    await handle(f);
    store.set("lastSeq", f.seq);
    socket.send(JSON.stringify({ type: "ack", seq: f.seq }));
  };
  socket.onclose = (ev) => {
    line(false);
    if (ev.code === 4401) return logout();
    setTimeout(connect, retry * 1000); retry = Math.min(retry * 2, 10);
  };
}
function line(up) {
  const el = $("#line"); el.textContent = up ? "live" : "no connection"; el.classList.toggle("off", !up);
}

const CLOSED = ["completed", "cancelled"];
async function handle(m) {
  const p = m.payload;
  if (m.kind === "job.cancelled") { jobs.delete(p.visit_id); render(); return; }
  if (m.kind === "plan.changed") { await loadJobs(); return; }
  try {
    const v = await api("GET", `/api/visits/${p.visit_id}`);
    if (CLOSED.includes(v.state) || v.nurse_id !== store.get("nurse")?.id) jobs.delete(v.id); else jobs.set(v.id, v);
  }
  catch (e) { if (e instanceof Refused) jobs.delete(p.visit_id); }
  if (m.kind === "job.offered" && navigator.vibrate) navigator.vibrate([300, 100, 300]);
  render();
}

// -- jobs ---------------------------------------------------------------------------------------------------
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
// 24-hour times in the region's own zone, whatever the phone's settings.
const time = (iso) => iso ? new Date(iso).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone }) : "—";
const dayKey = (iso) => new Date(iso).toLocaleDateString("en-CA", { timeZone: zone });
const day = (iso, now) => dayKey(iso) === dayKey(now) ? "today " :
  new Date(iso).toLocaleDateString("en-GB", { weekday: "short", timeZone: zone }) + " ";
const ORDER = ["on_scene", "en_route", "accepted", "assigned"];
const ALWAYS = ["summary", "navigate"];  // her own open job: the client and the way there

// Cards are kept and updated in place, never rebuilt: a job update arriving over the socket (any re-plan in the
// region) must not wipe a revealed key-safe code, an open client summary or a half-typed completion form.
const cards = new Map();  // visit id -> its <li>

function render() {
  const list = $("#job-list");
  const sorted = [...jobs.values()].sort((a, b) => ORDER.indexOf(a.state) - ORDER.indexOf(b.state)
    || new Date(a.eta || a.window_start) - new Date(b.eta || b.window_start));
  $("#no-jobs").hidden = sorted.length > 0;
  for (const [id, li] of cards) if (!jobs.has(id)) { li.remove(); cards.delete(id); }
  sorted.forEach((v, i) => {
    if (!cards.has(v.id)) cards.set(v.id, card(v));
    const li = cards.get(v.id);
    fill(li, v);
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);  // moved only when out of place
  });
}

const may = (v, action) => ALWAYS.includes(action) || (v.allowed_actions || []).includes(action);

function fill(li, v) {
  const u = li.querySelector(".urgency"); u.textContent = v.urgency || "planned"; u.className = "urgency " + (v.urgency || "planned");
  li.querySelector(".kind").textContent = v.kind === "planned" ? (v.notes || "planned visit") : (v.notes || "call");
  li.querySelector(".state").textContent = v.state.replace("_", " ");
  li.querySelector(".times").textContent = `ETA ${time(v.eta)} · window ${time(v.window_start)}–${time(v.window_end)} · ${v.service_minutes} min`;
  for (const b of li.querySelectorAll("[data-act]")) b.hidden = !may(v, b.dataset.act);
  if (!may(v, "keysafe")) hideCode(li);  // the code only while the job is under way
  if (!may(v, "complete")) li.querySelector(".complete-form").hidden = true;
}

function hideCode(li) { const box = li.querySelector(".code"); box.textContent = ""; box.hidden = true; clearTimeout(li._codeTimer); }

function recordHtml(r) {
  if (!r.available) return `<p class="flag">Record: ${esc(r.reason || "not available")}</p>`;
  const part = (title, items) => items?.length ? `<p><strong>${title}:</strong> ${items.map(esc).join("; ")}</p>` : "";
  return r.alerts.map((a) => `<p class="flag">${esc(a.text)}</p>`).join("") + `<p><strong>Record (${esc(r.source)})</strong></p>`
    + part("Problems", r.problems) + part("Medication", r.medication) + part("Allergies", r.allergies)
    + part("Care plan", r.care_plan) + part("Contacts", r.contacts.map((x) => [x.name, x.relationship, x.phone].filter(Boolean).join(", ")));
}

function card(v) {
  const id = v.id;
  const li = $("#job-template").content.firstElementChild.cloneNode(true);
  li.dataset.visit = id;
  li.querySelector(".address").textContent = `Client ${v.client_id}`;
  const err = li.querySelector(".error");
  const guard = (fn) => async () => { err.textContent = ""; try { await fn(); } catch (e) { err.textContent = e.body?.detail || e.message; } };
  const known = clients.get(v.client_id);
  (known ? Promise.resolve(known) : api("GET", `/api/clients/${v.client_id}`)).then((c) => {
    clients.set(v.client_id, c);
    li.querySelector(".address").textContent = `${c.street} ${c.house_number}, ${c.city}`;
    li.querySelector("[data-act=navigate]").href = `https://www.google.com/maps/dir/?api=1&destination=${c.lat},${c.lon}`;
    li._client = c;
  }).catch(() => {});
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
    render();
  };
  li.querySelector("[data-act=accept]").onclick = guard(() => step("accept"));
  li.querySelector("[data-act=en_route]").onclick = guard(() => step("en_route"));
  li.querySelector("[data-act=on_scene]").onclick = guard(() => step("on_scene"));
  li.querySelector("[data-act=decline]").onclick = guard(async () => {
    const reason = prompt("Why can't you take this job? (the operators see this)");
    if (!reason) return;
    await act("POST", `/api/visits/${id}/decline`, { reason }, `Decline (job ${id})`);
    jobs.delete(id); render();
  });
  li.querySelector("[data-act=keysafe]").onclick = guard(async () => {
    const r = await api("POST", `/api/visits/${id}/keysafe`);  // never queued: shown only live, and logged
    if (!may(jobs.get(id) || {}, "keysafe")) return;  // the job moved on while the code was on its way
    const box = li.querySelector(".code"); box.textContent = r.code; box.hidden = false;
    clearTimeout(li._codeTimer); li._codeTimer = setTimeout(() => hideCode(li), 60000);
  });
  li.querySelector("[data-act=summary]").onclick = guard(async () => {
    const c = li._client || await api("GET", `/api/clients/${v.client_id}`);
    const box = li.querySelector(".summary"); box.hidden = !box.hidden;
    const who = `${c.given_name} ${c.family_name}, born ${c.date_of_birth || "?"}. Access: ${c.access_notes || "—"}.`
      + (c.restricted ? " (The client has not consented to share more with the night team.)" : ` Phone: ${(c.phones || []).join(", ")}`);
    box.innerHTML = `<div class="record"><p>Record: asking her organisation's system…</p></div><p>${esc(who)}</p>`;
    if (box.hidden || c.restricted) { box.querySelector(".record").remove(); return; }
    let r;  // her own record system, alerts first; slow or down, she sees why and goes on
    try { r = await api("GET", `/api/clients/${v.client_id}/summary?visit_id=${id}`); }
    catch (e) { r = { available: false, reason: e.body?.detail || e.message }; }
    const rec = box.querySelector(".record");
    if (rec) rec.innerHTML = recordHtml(r);
  });
  const form = li.querySelector(".complete-form");
  form.onsubmit = (ev) => { ev.preventDefault(); guard(() => complete(jobs.get(id) || v, form, step))(); };
  li.querySelector("[data-act=complete]").onclick = guard(async () => {
    form.hidden = false;
    if (form.dataset.ready) return;  // opened before: keep what she has typed
    form.dataset.ready = "1";
    let items;
    try { items = await api("GET", "/api/nightbag/items"); } catch (e) { delete form.dataset.ready; throw e; }
    form.querySelector(".materials").innerHTML = "<p>Materials used</p>" + items.filter((i) => i.kind === "material")
      .map((i) => `<label>${esc(i.name)} <input type="number" min="0" value="0" data-item="${i.id}" inputmode="numeric"></label>`).join("");
  });
  return li;
}

const VITALS = { respiration_rate: "respiration rate", spo2: "SpO₂", systolic_bp: "systolic blood pressure",
  pulse: "pulse", temperature: "temperature" };

async function complete(v, form, step) {
  const f = new FormData(form);
  const typed = Object.keys(VITALS).filter((k) => f.get(k));
  if (typed.length && typed.length < Object.keys(VITALS).length) {
    // A NEWS2 score needs every vital sign: nothing is scored or sent in part.
    const missing = Object.keys(VITALS).filter((k) => !f.get(k)).map((k) => VITALS[k]);
    throw new Error(`Observations incomplete: ${missing.join(", ")} missing. Fill them in, or clear the observations to complete without a NEWS2 score.`);
  }
  if (typed.length) {
    const obs = await act("POST", `/api/visits/${v.id}/observations`, {
      respiration_rate: Number(f.get("respiration_rate")), spo2: Number(f.get("spo2")), on_oxygen: f.get("on_oxygen") === "on",
      systolic_bp: Number(f.get("systolic_bp")), pulse: Number(f.get("pulse")), consciousness: f.get("consciousness"),
      temperature: Number(f.get("temperature")) }, `Observations (job ${v.id})`);
    if (obs) form.querySelector(".news2").textContent = `NEWS2 ${obs.news2_total} (${obs.news2_risk}): ${obs.clinical_response}`;
  }
  const materials = [...form.querySelectorAll("[data-item]")].filter((i) => Number(i.value) > 0)
    .map((i) => ({ item_id: Number(i.dataset.item), quantity: Number(i.value) }));
  await step("completed", { handover_note: f.get("note") || "", materials });
}

if ("serviceWorker" in navigator) navigator.serviceWorker.register("/nurse/sw.js", { scope: "/nurse/" }).catch(() => {});
showQueue();
if (store.get("token")) start().catch(() => show("login")); else show("login");
