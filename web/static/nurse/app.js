// nightcare nurse app: jobs live over the websocket, actions over the HTTP API, queued while offline.
// The service decides what she may do with a job (each visit carries its `allowed_actions`), what time it is (the
// phone's clock may be off) and what a NEWS2 score calls for; this page keeps no copy of those rules.
import { $, Offline, Refused, api, date, day, esc, now, on, queued, refusedActions, setClock, stepper, store, time } from "./core.js";
import { CLOSED, card, connectionBack, fill, forgetClients, lastNews2 } from "./card.js";
import { endPosition, startPosition } from "./position.js";

const jobs = new Map();   // visit id -> visit
let socket = null, retry = 1, live = false, graceTimer = null;

// -- the connection: a banner while the socket is down or the phone is offline; it clears by itself -----------
function showQueue() {
  const q = queued(), el = $("#queued");
  el.hidden = q.length === 0; el.textContent = `${q.length} waiting to send`;
  $("#offline-waiting").textContent = q.length ? ` ${q.length} waiting to send.` : "";
  const box = $("#refused"), list = refusedActions();
  box.hidden = list.length === 0;
  box.querySelector("ul").innerHTML = list.map((a, i) => `<li><strong>${esc(a.what)}</strong> was not accepted by the
    service: ${esc(a.reason)}${a.note ? `<blockquote>${esc(a.note)}</blockquote>` : ""}
    <button class="secondary" data-dismiss="${i}">Dismiss</button></li>`).join("");
}
on("onQueueChange", showQueue);
$("#refused").addEventListener("click", (ev) => {
  const i = ev.target.dataset?.dismiss;
  if (i === undefined) return;
  const list = refusedActions(); list.splice(Number(i), 1); store.set("refused", list); showQueue();
});

function banner() {
  const expected = !!store.get("token") && !$("#jobs").hidden;  // the socket belongs to the jobs screen
  $("#offline").hidden = navigator.onLine && (live || !expected);
}
function line(up) {
  live = up;
  const el = $("#line"); el.textContent = up ? "live" : "no connection"; el.classList.toggle("off", !up);
  clearTimeout(graceTimer);
  if (up) for (const li of cards.values()) connectionBack(li);
  if (up || !navigator.onLine) banner();
  else graceTimer = setTimeout(banner, 1500);  // a reconnect within a breath is no news to her
}

let replaying = false;
async function replay() {
  if (replaying) return;
  replaying = true;
  try {
    let q = queued();
    while (q.length) {
      const [first, ...rest] = q;
      try { await api(first.method, first.path, first.body); sent(first, true); }
      catch (e) {
        if (e instanceof Offline) break;
        store.set("refused", [...refusedActions(), { what: first.what || `${first.method} ${first.path}`,
          reason: e.body?.detail || e.message, note: first.body?.handover_note || "" }]);
        sent(first, false);
      }
      q = rest; store.set("queue", q);
    }
  } finally { replaying = false; }
  showQueue();
  for (const li of cards.values()) if (li.querySelector(".news2.waiting")) lastNews2(li);  // scored now
  if (store.get("token")) await loadJobs().catch(() => {});
}
window.addEventListener("online", () => {
  line(socket?.readyState === 1);
  if (store.get("token") && !$("#jobs").hidden) connect();
  replay();
});
window.addEventListener("offline", () => line(false));

// -- a completed visit: a confirmation she dismisses; one kept on the phone says so until it has been sent -----
const confirmations = new Map();  // visit id -> <p> (in memory only: it names the client's address)
function confirmDone(visitId, { address, at, note, queued }) {
  let el = confirmations.get(visitId);
  if (!el) {
    el = document.createElement("p"); el.className = "done-item"; el.tabIndex = -1; el.dataset.visit = visitId;
    confirmations.set(visitId, el);
  }
  el._done = { address, at, note };
  el.classList.toggle("waiting", queued);
  const outcome = queued ? "will be sent when the connection returns" : note ? "handover note sent" : "no handover note";
  el.innerHTML = `<span>Visit at ${esc(address)} completed at ${esc(at)} — ${outcome}.</span>
    <button type="button" class="secondary" data-dismiss-done>Dismiss</button>`;
  if (!el.isConnected) {
    $("#done").prepend(el);
    window.scrollTo(0, 0); el.focus({ preventScroll: true });  // her card is gone: she reads this, at the top
  }
}
/** A queued action reached the service (or was refused): a completion's confirmation follows it. */
function sent(action, accepted) {
  const id = action.body?.state === "completed" && Number(action.path.match(/\/visits\/(\d+)\//)?.[1]);
  const el = confirmations.get(id);
  if (!el) return;
  if (accepted) confirmDone(id, { ...el._done, queued: false });
  else { el.remove(); confirmations.delete(id); }  // shown under "Not sent" with the reason instead
}
$("#done").addEventListener("click", (ev) => {
  const el = ev.target.closest("[data-dismiss-done]")?.parentElement;
  if (el) { el.remove(); confirmations.delete(Number(el.dataset.visit)); }
});

// -- screens ------------------------------------------------------------------------------------------------
function show(id) {
  for (const s of ["login", "bag", "jobs"]) $("#" + s).hidden = s !== id;
  $("#line").hidden = id !== "jobs";  // the live channel belongs to the jobs screen
  banner();
}

function logout() {
  const token = store.get("token");
  if (token) fetch("/api/auth/logout", { method: "POST", headers: { Authorization: "Bearer " + token } }).catch(() => {});
  endPosition();
  store.del("token"); store.del("nurse"); if (socket) { socket.onclose = null; socket.close(); socket = null; }
  // Nothing of her jobs (a revealed code, a summary, a confirmation naming an address) stays in the page.
  jobs.clear(); forgetClients(); render(); show("login");
  confirmations.clear(); $("#done").innerHTML = "";
  if ($("#decline-dialog").open) $("#decline-dialog").close();
  $("#who").hidden = true;
}
on("onUnauthorised", logout);
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
      logout(); $("#login-error").textContent = "This login is not a night nurse: the nurse app is for nurses. Use the operators' console or the partner portal instead.";
      return;
    }
    throw e;
  }
  if (store.get("nurse")?.id !== me.nurse.id) { store.set("lastSeq", 0); store.set("queue", []); }
  store.set("nurse", me.nurse); store.set("timezone", me.timezone); setClock(me.now, me.timezone);
  $("#who").hidden = false;
  $("#who-name").textContent = me.nurse.name;
  $("#shift").textContent = shiftText(me.shift);
  if (me.shift?.bag_check_due) return bagCheck(me.shift, me.nurse);
  openJobs(me.nurse, me.shift);
}

function shiftText(shift) {
  if (!shift) return "No shift planned";
  const span = `${day(shift.starts_at, now())}${time(shift.starts_at)}–${time(shift.ends_at)}`;
  return new Date(shift.starts_at) <= now() ? `On shift until ${time(shift.ends_at)}` : `Next shift ${span}`;
}

async function bagCheck(shift, nurse) {
  show("bag");
  $("#bag-flags").hidden = true; $("#bag-check").hidden = false; $("#bag-result").textContent = "";
  $("#bag-shift").textContent = `${time(shift.starts_at)}–${time(shift.ends_at)}`;
  const items = await api("GET", "/api/nightbag/items");
  const box = $("#bag-items"); box.innerHTML = "";
  for (const it of items) {  // counts on steppers; the dates the bag remembers from the last check are filled in
    const row = document.createElement("div"); row.className = "bag-row"; row.dataset.item = it.id;
    row.append(stepper(`${it.name} (of ${it.quantity})`, it.quantity));
    const dates = document.createElement("div"); dates.className = "dates";
    dates.innerHTML = `<label>Expiry date <input type="date" data-f="expires_on"></label>
      ${it.kind === "device" ? '<label>Calibration due date <input type="date" data-f="calibration_due"></label>' : ""}`;
    for (const input of dates.querySelectorAll("input")) {
      input.value = it[input.dataset.f] || "";
      input.setAttribute("aria-label", `${it.name}: ${input.dataset.f === "expires_on" ? "expiry date" : "calibration due date"}`);
      if (it[input.dataset.f]) input.insertAdjacentHTML("afterend", `<small class="muted">from the last check: ${esc(date(it[input.dataset.f]))}</small>`);
    }
    row.append(dates);
    box.append(row);
  }
  $("#bag-form").onsubmit = async (ev) => {
    ev.preventDefault();
    const counted = [...box.children].map((row) => {
      const c = { item_id: Number(row.dataset.item), quantity: Number(row.querySelector(".stepper").dataset.value) };
      for (const d of row.querySelectorAll("input[type=date]")) if (d.value) c[d.dataset.f] = d.value;
      return c;
    });
    let r;
    try { r = await api("POST", `/api/shifts/${shift.id}/start`, { items: counted }); }
    catch (e) {
      $("#bag-result").innerHTML = `<p class="error">${esc(e instanceof Offline ? "No connection: the bag check was not sent. "
        + "Try again when the connection returns." : e.body?.detail || e.message)}</p>`;
      return;
    }
    const started = { ...shift, state: "started" };
    $("#shift").textContent = shiftText(started);
    if (!r.flags.length) { $("#bag-result").innerHTML = "<p>Bag complete.</p>"; openJobs(nurse, started); return; }
    // What is wrong with the bag is hers to see before the night starts: at the top, until she goes on herself.
    $("#bag-flags ul").innerHTML = r.flags.map((f) => `<li class="flag"><strong>${esc(f.name)}</strong>: ${esc(f.problem)}
      (${esc(f.detail.replace(/\d{4}-\d{2}-\d{2}/g, date))})</li>`).join("");
    $("#bag-check").hidden = true; $("#bag-result").textContent = ""; $("#bag-flags").hidden = false;
    window.scrollTo(0, 0);
    $("#bag-continue").onclick = () => openJobs(nurse, started);
    $("#bag-continue").focus({ preventScroll: true });
  };
}

function openJobs(nurse, shift) { show("jobs"); loadJobs(); connect(); startPosition(nurse, shift); }

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
const ORDER = ["on_scene", "en_route", "accepted", "assigned"];
const cards = new Map();  // visit id -> its <li>

function render() {
  const list = $("#job-list");
  const sorted = [...jobs.values()].sort((a, b) => ORDER.indexOf(a.state) - ORDER.indexOf(b.state)
    || new Date(a.eta || a.window_start) - new Date(b.eta || b.window_start));
  $("#no-jobs").hidden = sorted.length > 0;
  for (const [id, li] of cards) if (!jobs.has(id)) { li.remove(); cards.delete(id); }
  sorted.forEach((v, i) => {
    if (!cards.has(v.id)) cards.set(v.id, card(v, { jobs, render, completed: confirmDone }));
    const li = cards.get(v.id);
    fill(li, v);
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);  // moved only when out of place
  });
}

if ("serviceWorker" in navigator) navigator.serviceWorker.register("/nurse/sw.js", { scope: "/nurse/" }).catch(() => {});
showQueue();
if (store.get("token")) start().catch(() => show("login")); else show("login");
