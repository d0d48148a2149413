// nightcare operator console: one live board where every night call is taken, triaged and followed.
// Plain ES modules served by the service (no build step); Leaflet and axe-core come from the npm registry.
import { api, message, token, whenUnauthorized, Refused, loginForm } from "./api.js";
import { applyEvent, loadBoard, state, subscribe } from "./store.js";
import * as board from "./board.js";
import * as calls from "./callpanel.js";
import * as night from "./night.js";
import { $, esc, hhmm, hhmmss, now, waited, drafts } from "./util.js";
import { ask } from "./dialog.js";

let socket = null, retry = 1, offlineSince = null, pinged = 0;

// The service drops a socket that says nothing for three heartbeats; while events pour in it sends no heartbeat,
// so the console answers whatever arrives with a ping — at most one every few seconds.
function keepAlive() {
  if (Date.now() - pinged < 5000 || socket?.readyState !== 1) return;
  pinged = Date.now();
  socket.send(JSON.stringify({ type: "ping" }));
}

function show(logged) { $("#login").hidden = logged; $("#console").hidden = !logged; }
function line(up, text) { const el = $("#line"); el.textContent = text || (up ? "live" : "offline"); el.classList.toggle("off", !up); }
function banner(text, ok = false) {
  const b = $("#banner"); b.hidden = !text; b.textContent = text || ""; b.classList.toggle("ok", ok);
  if (ok) setTimeout(() => { if (b.textContent === text) b.hidden = true; }, 8000);
}

function logout() {
  const t = token.get();
  if (t) fetch("/api/auth/logout", { method: "POST", headers: { Authorization: "Bearer " + t } }).catch(() => {});
  token.del();
  if (socket) { socket.onclose = null; socket.close(); socket = null; }
  calls.close(); show(false);
}
whenUnauthorized(() => { logout(); $("#login-error").textContent = "Your session ended: log in again."; });
$("#logout").addEventListener("click", logout);

loginForm($("#login-form"), $("#login-error"),
  { roles: ["operator", "coordinator"], refusal: "The console is for operators and coordinators.", start: () => start() });

async function start() {
  show(true);  // on screen before the board is drawn: the map measures its box
  await loadBoard();
  tickClock();
  night.shown();
  const me = state.me;
  $("#who").textContent = `${me.username}${me.team === "backup" ? " · backup team" : ""}`;
  document.body.classList.toggle("backup-team", me.team === "backup");
  showOverflow();
  connect();
}

// -- the live channel: no polling; after a reconnect the board is loaded again and the operator told ------------
function connect() {
  if (socket && socket.readyState <= 1) return;
  socket = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws/operators");
  socket.onopen = () => socket.send(JSON.stringify({ type: "hello", token: token.get() }));
  socket.onmessage = async (ev) => {
    const f = JSON.parse(ev.data);
    if (f.type === "welcome") {
      retry = 1; line(true);
      if (offlineSince) {  // what happened meanwhile: the whole board again, and say so
        const away = waited(offlineSince.toISOString());
        await loadBoard().catch(() => {});
        banner(`Back online: the connection was lost for ${away}; the board has been reloaded.`, true);
        offlineSince = null;
      }
      return;
    }
    keepAlive();
    if (f.type === "event") applyEvent(f);
  };
  socket.onclose = (ev) => {
    if (ev.code === 4401) { logout(); $("#login-error").textContent = "Your session ended: log in again."; return; }
    if (!offlineSince) offlineSince = now();  // the service's time, as every time on the console
    line(false, "offline");
    banner(`Offline since ${hhmm(offlineSince.toISOString())}: reconnecting… What you type is kept.`);
    setTimeout(connect, retry * 1000); retry = Math.min(retry * 2, 10);
  };
}

// -- taking a call by hand -----------------------------------------------------------------------------------
async function newCall() {
  let made = null;
  await ask("New call", `
    <label>Source <select name="source"><option value="manual">by hand (another line, walk-in)</option>
      <option value="phone">phone</option><option value="alarm">social alarm</option></select></label>
    <label>Caller's number (if known) <input name="caller_phone" inputmode="tel"></label>
    <label>What the caller says <textarea name="text" rows="3"></textarea></label>`,
    { ok: "Take call", draftKey: "new-call", submit: async (v) => {
      const body = { source: v.source, text: v.text };
      if (v.caller_phone.trim()) body.caller_phone = v.caller_phone.trim();
      if (v.source !== "manual") body.source_ref = `console-${Date.now()}`;
      made = await api("POST", "/api/calls", body);
    } });
  if (made) await openCall(made.id);
}

async function openCall(id) {
  state.selected = id; board.render();
  await calls.open(id);
}

// -- overflow to the backup team -----------------------------------------------------------------------------
function showOverflow() {
  const el = $("#overflow-state"), o = state.overflow;
  el.hidden = !o?.backup_until;
  if (o?.backup_until) el.textContent = `New calls go to the backup team until ${hhmm(o.backup_until)}`;
  if (state.me?.role === "coordinator") {
    el.hidden = false;
    el.textContent = o?.backup_until ? `New calls → backup until ${hhmm(o.backup_until)} (change)` : "Overflow: off (set)";
    el.setAttribute("role", "button"); el.tabIndex = 0;
    el.onclick = setOverflow;
  }
}
async function setOverflow() {
  const v = await ask("Send new calls to the backup team", `<label>Until (24-hour, region time; empty: stop now)
      <input name="until" placeholder="e.g. 03:30" inputmode="numeric"></label><label>Why <input name="reason"></label>`,
    { ok: "Set", submit: async (x) => {
      let until = null;
      if (x.until.trim()) {
        const m = x.until.trim().match(/^([01]?\d|2[0-3])[:.]?([0-5]\d)$/);
        if (!m) throw new Error("Until: give the time as HH:MM");
        const target = `${m[1].padStart(2, "0")}:${m[2]}`;
        const start = now(); start.setSeconds(0, 0);
        for (let k = 1; k <= 24 * 60; k++) { const t = new Date(start.getTime() + k * 60000); if (hhmm(t.toISOString()) === target) { until = t.toISOString(); break; } }
      }
      await api("PUT", "/api/overflow", { backup_until: until, reason: x.reason });
    } });
  if (v) { await loadBoard(); showOverflow(); }
}

// -- the keyboard --------------------------------------------------------------------------------------------
function typing(el) { return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable); }

// Which key does what: decided at once (so that only our own keys are taken from the browser), done after.
function shortcut(key, panel) {
  const is = (...keys) => keys.includes(key);
  if (is("n", "N")) return newCall;
  if (is("ArrowDown", "j")) return () => board.move(1);
  if (is("ArrowUp", "k")) return () => board.move(-1);
  if (is("m", "M")) return board.toggleMute;
  if (key === "Enter" && state.selected && (!panel || panel.id !== state.selected)) return () => openCall(state.selected);
  if (!panel) return null;
  if (key === "/") return () => { if (!panel.searchBox()) { panel.correcting = true; panel.renderClient(); } panel.searchBox()?.focus(); };
  if (is("t", "T")) return () => panel.triage.start();
  if (/^[1-9]$/.test(key) && (panel.triage.question || panel.triage.picking)) return () => panel.triage.answer(Number(key));
  if (key === "Backspace" && panel.triage.run?.state === "in_progress") return () => panel.triage.back();
  if ((is("d", "D") || key === "Enter") && panel.triage.outcome) return () => panel.triage.decide();
  if (is("o", "O") && (panel.triage.outcome || panel.triage.question)) return () => panel.triage.override();
  if (is("c", "C") && (panel.triage.outcome || panel.triage.question)) return () => panel.triage.concern();
  if (is("s", "S") && panel.triage.run) return () => panel.triage.tickNext();
  if (is("h", "H") && state.me?.team === "regional" && panel.detail?.team === "regional") return () => panel.handOver("backup");
  return null;
}

document.addEventListener("keydown", (ev) => {
  if ($("#console").hidden || $("#dialog").open || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.key === "Escape") { if (typing(document.activeElement)) document.activeElement.blur(); return; }
  if (typing(document.activeElement) || (ev.key === "Enter" && document.activeElement?.tagName === "BUTTON")) return;
  const action = shortcut(ev.key, calls.selected());
  if (!action) return;
  ev.preventDefault();
  Promise.resolve().then(action).catch((e) => banner(message(e)));
});

// -- the clock and the ticking board -------------------------------------------------------------------------
const tickClock = () => { $("#clock").textContent = hhmmss(now()); };
setInterval(() => { tickClock(); board.tick(); }, 1000);

board.init((id) => openCall(id));
calls.init();
night.init();
subscribe((change) => { if (change.kind === "board") showOverflow(); });
if (token.get()) start().catch((e) => { show(false); if (!(e instanceof Refused)) $("#login-error").textContent = message(e); });
else show(false);
export { esc, drafts };
