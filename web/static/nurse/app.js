// nightcare nurse app: jobs live over the websocket, actions over the HTTP API, queued while offline.
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
  if (r.status === 401) { logout(); throw new Refused(401, data); }
  if (!r.ok) throw new Refused(r.status, data);
  return data;
}

// -- offline queue: actions taken without a connection are replayed in order when it returns ----------
function queued() { return store.get("queue", []); }
function showQueue() {
  const q = queued(), el = $("#queued");
  el.hidden = q.length === 0; el.textContent = `${q.length} waiting to send`;
}
async function act(method, path, body) {
  try { return await api(method, path, body); }
  catch (e) {
    if (!(e instanceof Offline)) throw e;
    store.set("queue", [...queued(), { method, path, body }]); showQueue();
    return null;
  }
}
async function replay() {
  let q = queued();
  while (q.length) {
    const [first, ...rest] = q;
    try { await api(first.method, first.path, first.body); }
    catch (e) { if (e instanceof Offline) break; /* refused now (e.g. job moved): dropped, the list is reloaded */ }
    q = rest; store.set("queue", q);
  }
  showQueue();
  if (store.get("token")) await loadJobs();
}
window.addEventListener("online", () => { line(socket?.readyState === 1); replay(); });
window.addEventListener("offline", () => line(false));

// -- screens -------------------------------------------------------------------------------------------
function show(id) { for (const s of ["login", "bag", "jobs"]) $("#" + s).hidden = s !== id; }

function logout() {
  store.del("token"); store.del("nurse"); if (socket) socket.close();
  jobs.clear(); render(); show("login");  // nothing of her jobs (a revealed code, a summary) stays in the page
}

$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  try {
    const t = await api("POST", "/api/auth/token", { username: f.get("username"), password: f.get("password") }, { form: true });
    store.set("token", t.access_token);
    await start();
  } catch (e) { $("#login-error").textContent = e.body?.detail || e.message; }
});

async function start() {
  const me = (await api("GET", "/api/nurses"))[0];
  if (!me) { $("#login-error").textContent = "This login is not a night nurse."; return logout(); }
  if (store.get("nurse")?.id !== me.id) { store.set("lastSeq", 0); }
  store.set("nurse", me);
  const now = new Date();
  const shifts = await api("GET", "/api/shifts?from=" + encodeURIComponent(now.toISOString()));
  // Her current shift, or the next one tonight (the bag is checked before setting off).
  const shift = shifts.find((s) => new Date(s.starts_at) <= new Date(now.getTime() + 12 * 3600e3) && new Date(s.ends_at) > now);
  if (shift && shift.state === "planned") return bagCheck(shift);
  openJobs();
}

async function bagCheck(shift) {
  show("bag");
  const items = await api("GET", "/api/nightbag/items");
  const box = $("#bag-items"); box.innerHTML = "";
  for (const it of items) {
    const row = document.createElement("div"); row.className = "bag-row";
    row.innerHTML = `<label></label><input type="number" min="0" inputmode="numeric" aria-label="count">
      <div class="dates"><label>Expires <input type="date" data-f="expires_on"></label>
      ${it.kind === "device" ? '<label>Calibration due <input type="date" data-f="calibration_due"></label>' : ""}</div>`;
    row.querySelector("label").textContent = `${it.name} (${it.quantity})`;
    row.querySelector("input").value = it.quantity;
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

// -- live channel --------------------------------------------------------------------------------------
function connect() {
  if (socket && socket.readyState <= 1) return;
  const url = location.origin.replace(/^http/, "ws") + "/ws/nurse";
  socket = new WebSocket(url);
  socket.onopen = () => socket.send(JSON.stringify({ type: "hello", token: store.get("token"), last_seq: store.get("lastSeq", 0) }));
  socket.onmessage = async (ev) => {
    const f = JSON.parse(ev.data);
    if (f.type === "welcome") { line(true); retry = 1; replay(); return; }
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
function line(up) { const el = $("#line"); el.textContent = up ? "live" : "offline"; el.classList.toggle("off", !up); }

async function handle(m) {
  const p = m.payload;
  if (m.kind === "job.cancelled") { jobs.delete(p.visit_id); render(); return; }
  if (m.kind === "plan.changed") { await loadJobs(); return; }
  try { jobs.set(p.visit_id, await api("GET", `/api/visits/${p.visit_id}`)); }
  catch (e) { if (e instanceof Refused) jobs.delete(p.visit_id); }
  if (m.kind === "job.offered" && navigator.vibrate) navigator.vibrate([300, 100, 300]);
  render();
}

// -- jobs ----------------------------------------------------------------------------------------------
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const time = (iso) => iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "—";
const ORDER = ["on_scene", "en_route", "accepted", "assigned"];
const ENABLED = {
  accept: ["assigned"], decline: ["assigned", "accepted"], keysafe: ["accepted", "en_route", "on_scene"],
  en_route: ["accepted"], on_scene: ["accepted", "en_route"], complete: ["on_scene"], summary: ORDER, navigate: ORDER,
};

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

function fill(li, v) {
  const u = li.querySelector(".urgency"); u.textContent = v.urgency || "planned"; u.className = "urgency " + (v.urgency || "planned");
  li.querySelector(".kind").textContent = v.kind === "planned" ? (v.notes || "planned visit") : (v.notes || "call");
  li.querySelector(".state").textContent = v.state.replace("_", " ");
  li.querySelector(".times").textContent = `ETA ${time(v.eta)} · window ${time(v.window_start)}–${time(v.window_end)} · ${v.service_minutes} min`;
  for (const b of li.querySelectorAll("[data-act]")) b.hidden = !ENABLED[b.dataset.act].includes(v.state);
  if (!ENABLED.keysafe.includes(v.state)) hideCode(li);  // the code only while the job is active
  if (v.state !== "on_scene") li.querySelector(".complete-form").hidden = true;
}

function hideCode(li) { const box = li.querySelector(".code"); box.textContent = ""; box.hidden = true; clearTimeout(li._codeTimer); }

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
  const step = async (state, extra = {}) => {
    const r = await act("POST", `/api/visits/${id}/${state === "accepted" ? "accept" : "progress"}`,
      state === "accepted" ? undefined : { state, ...extra });
    if (state === "completed") jobs.delete(id);
    else if (jobs.has(id)) jobs.get(id).state = r ? r.state : state;
    render();
  };
  li.querySelector("[data-act=accept]").onclick = guard(() => step("accepted"));
  li.querySelector("[data-act=en_route]").onclick = guard(() => step("en_route"));
  li.querySelector("[data-act=on_scene]").onclick = guard(() => step("on_scene"));
  li.querySelector("[data-act=decline]").onclick = guard(async () => {
    const reason = prompt("Why can't you take this job? (the operators see this)");
    if (!reason) return;
    await act("POST", `/api/visits/${id}/decline`, { reason });
    jobs.delete(id); render();
  });
  li.querySelector("[data-act=keysafe]").onclick = guard(async () => {
    const r = await api("POST", `/api/visits/${id}/keysafe`);  // never queued: shown only live, and logged
    if (!ENABLED.keysafe.includes(jobs.get(id)?.state)) return;  // the job moved on while the code was on its way
    const box = li.querySelector(".code"); box.textContent = r.code; box.hidden = false;
    clearTimeout(li._codeTimer); li._codeTimer = setTimeout(() => hideCode(li), 60000);
  });
  li.querySelector("[data-act=summary]").onclick = guard(async () => {
    const c = li._client || await api("GET", `/api/clients/${v.client_id}`);
    const box = li.querySelector(".summary"); box.hidden = !box.hidden;
    box.textContent = `${c.given_name} ${c.family_name}, born ${c.date_of_birth || "?"}. Access: ${c.access_notes || "—"}. Phone: ${(c.phones || []).join(", ")}`;
  });
  li.querySelector("[data-act=complete]").onclick = guard(async () => {
    const form = li.querySelector(".complete-form"); form.hidden = false;
    if (form.dataset.ready) return;  // opened before: keep what she has typed
    const items = await api("GET", "/api/nightbag/items");
    form.querySelector(".materials").innerHTML = "<p>Materials used</p>" + items.filter((i) => i.kind === "material")
      .map((i) => `<label>${esc(i.name)} <input type="number" min="0" value="0" data-item="${i.id}" inputmode="numeric"></label>`).join("");
    form.dataset.ready = "1";
    form.onsubmit = (ev) => { ev.preventDefault(); guard(() => complete(jobs.get(id) || v, form, step))(); };
  });
  return li;
}

async function complete(v, form, step) {
  const f = new FormData(form);
  if (f.get("respiration_rate") && f.get("spo2") && f.get("systolic_bp") && f.get("pulse") && f.get("temperature")) {
    await act("POST", `/api/visits/${v.id}/observations`, {
      respiration_rate: Number(f.get("respiration_rate")), spo2: Number(f.get("spo2")), on_oxygen: f.get("on_oxygen") === "on",
      systolic_bp: Number(f.get("systolic_bp")), pulse: Number(f.get("pulse")), consciousness: f.get("consciousness"),
      temperature: Number(f.get("temperature")) });
  }
  const materials = [...form.querySelectorAll("[data-item]")].filter((i) => Number(i.value) > 0)
    .map((i) => ({ item_id: Number(i.dataset.item), quantity: Number(i.value) }));
  await step("completed", { handover_note: f.get("note") || "", materials });
}

if ("serviceWorker" in navigator) navigator.serviceWorker.register("/nurse/sw.js", { scope: "/nurse/" }).catch(() => {});
showQueue();
if (store.get("token")) start().catch(() => show("login")); else show("login");
