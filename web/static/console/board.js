// The live board: every open call, the longest waiting first among those waiting for triage, the rest by
// urgency; the waiting time ticks; calls waiting for triage and calls past their target stand out.
import { state, subscribe, counts } from "./store.js";
import { $, esc, hhmm, label, now, waited, seconds, chime } from "./util.js";

const NOT_THERE_YET = new Set(["open", "assigned", "accepted", "en_route"]);
const RANK = { U0: 0, U1: 1, U2: 2, U3: 3, U4: 4, U5: 5 };
const rows = new Map();  // call id -> <li>, updated in place
let onOpen = () => {};
let muted = localStorage.getItem("nc.console.muted") === "1";

export function isLate(call) {
  const v = call.visit;
  return Boolean(v && v.deadline && NOT_THERE_YET.has(v.state) && new Date(v.deadline) < now());
}

function filters() {  // read once per redraw, not once per call
  return { state: $("#filter-state").value, org: $("#filter-org").value, urgency: $("#filter-urgency").value };
}

function matches(call, f) {
  if (f.state === "waiting" && !call.waiting_for_triage) return false;
  if (f.state === "past_target" && !isLate(call)) return false;
  if (f.state && !["waiting", "past_target"].includes(f.state) && call.state !== f.state) return false;
  if (f.org && String(call.organisation?.id ?? "") !== f.org) return false;
  if (f.urgency === "none" && call.urgency) return false;
  if (f.urgency && f.urgency !== "none" && call.urgency !== f.urgency) return false;
  return true;
}

const receivedMs = (c) => Date.parse(c.received_at);
function order(a, b) {  // waiting for triage first (longest first), then by urgency, then oldest first
  if (a.waiting_for_triage !== b.waiting_for_triage) return a.waiting_for_triage ? -1 : 1;
  const ua = RANK[a.urgency] ?? 9, ub = RANK[b.urgency] ?? 9;
  if (!a.waiting_for_triage && ua !== ub) return ua - ub;
  return receivedMs(a) - receivedMs(b);
}

export function visibleCalls() { const f = filters(); return [...state.calls.values()].filter((c) => matches(c, f)).sort(order); }

function fill(li, c) {
  li._row = c; li._selected = state.selected === c.id;
  li.className = "row" + (c.waiting_for_triage ? " waiting" : "") + (isLate(c) ? " late" : "")
    + (state.selected === c.id ? " selected" : "") + (c.team === "backup" ? " backup" : "") + (li._new ? " new" : "");
  li.setAttribute("aria-selected", String(state.selected === c.id));
  const who = c.client ? `${c.client.name}` : (c.caller_phone ? `${c.caller_phone} (not identified)` : "caller not identified");
  const org = c.organisation ? ` · ${c.organisation.name}` : "";
  const nurse = c.visit?.nurse ? ` · ${c.visit.nurse}${c.visit.eta ? " ETA " + hhmm(c.visit.eta) : ""}` : "";
  li.innerHTML = `<span class="wait" title="waiting since ${hhmm(c.received_at)}">${waited(c.received_at)}</span>
    <span><span class="urgency ${esc(c.urgency || "")}">${esc(c.urgency || "—")}</span> <span class="who">${esc(who)}</span></span>
    <span class="state">${esc(label(c.state))}${c.team === "backup" ? " · backup" : ""}</span>
    <span class="what">${esc(c.triage?.complaint || c.text || c.source)}${esc(org)}${esc(nurse)}</span>`;
}

// A redraw touches only the rows that changed: the store replaces a call's row object when an event brings news of
// it, so a row still holding the same object (and the same selection) is up to date; the waiting times and the
// past-target colour are tick()'s. (Rewriting every row on every event made each new call cost a long task once
// the board held a few hundred calls.)
export function render() {
  const list = $("#calls");
  const shown = visibleCalls();
  const ids = new Set(shown.map((c) => c.id));
  for (const [id, li] of rows) if (!ids.has(id)) { li.remove(); rows.delete(id); }
  shown.forEach((c, i) => {
    let li = rows.get(c.id);
    if (!li) {
      li = document.createElement("li"); li.dataset.call = c.id; li.tabIndex = -1; li.setAttribute("role", "option");
      li.addEventListener("click", () => onOpen(c.id));
      rows.set(c.id, li);
    }
    if (li._row !== c || li._selected !== (state.selected === c.id)) fill(li, c);
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
  });
  $("#no-calls").hidden = shown.length > 0;
  const n = counts();
  for (const [key, value] of Object.entries(n)) {
    const el = $(`#count-${key}`); if (!el) continue;
    el.textContent = value; el.closest(".count").classList.toggle("hot", value > 0 && (key === "waiting" || key === "past_target"));
  }
  const orgs = $("#filter-org");
  for (const o of state.organisations.values()) {
    if (![...orgs.options].some((opt) => opt.value === String(o.id))) orgs.add(new Option(o.name, String(o.id)));
  }
  offerOverflow();
}

function offerOverflow() {
  const box = $("#overflow-offer");
  const o = state.overflow, me = state.me;
  if (!o || !me || me.team !== "regional") { box.hidden = true; return; }
  const waiting = [...state.calls.values()].filter((c) => c.waiting_for_triage && c.team === "regional");
  const longest = waiting.reduce((m, c) => Math.max(m, seconds(c.received_at)), 0);
  const offer = waiting.length >= o.offer_when_waiting || longest >= o.offer_after_s;
  box.hidden = !offer;
  if (offer) box.innerHTML = `${waiting.length} call${waiting.length === 1 ? "" : "s"} waiting for triage (longest ${waited(new Date(now().getTime() - longest * 1000).toISOString())}):
    hand the selected call to the backup team with <kbd>H</kbd>.`;
}

export function tick() {  // every second: waiting times, calls slipping past their target
  for (const [id, li] of rows) {
    const c = state.calls.get(id); if (!c) continue;
    li.querySelector(".wait").textContent = waited(c.received_at);
    li.classList.toggle("late", isLate(c));
  }
  const n = counts(); n.past_target = [...state.calls.values()].filter(isLate).length;
  $("#count-past_target").textContent = n.past_target;
  $("#count-past_target").closest(".count").classList.toggle("hot", n.past_target > 0);
  offerOverflow();
}

export function move(step) {  // ↑ / ↓ through the board
  const shown = visibleCalls();
  if (!shown.length) return;
  const at = shown.findIndex((c) => c.id === state.selected);
  const next = shown[Math.max(0, Math.min(shown.length - 1, at < 0 ? 0 : at + step))];
  state.selected = next.id; render();
  rows.get(next.id)?.scrollIntoView({ block: "nearest" });
}

export function setMuted(value) {
  muted = value; localStorage.setItem("nc.console.muted", value ? "1" : "0");
  const b = $("#mute"); b.textContent = value ? "Sound off" : "Sound on"; b.setAttribute("aria-pressed", String(value));
}

export function init(open) {
  onOpen = open;
  for (const id of ["#filter-state", "#filter-org", "#filter-urgency"]) $(id).addEventListener("change", render);
  for (const b of document.querySelectorAll(".count")) b.addEventListener("click", () => {
    $("#filter-state").value = $("#filter-state").value === b.dataset.filter ? "" : b.dataset.filter; render();
  });
  $("#mute").addEventListener("click", () => setMuted(!muted));
  setMuted(muted);
  subscribe((change) => {
    if (change.kind === "call" && change.isNew) {
      if (!muted) chime();
      if (!state.selected) state.selected = change.id;  // nothing in hand: Enter opens the new call
      render();
      const li = rows.get(change.id);
      if (li) { li._new = true; li.classList.add("new"); setTimeout(() => { li._new = false; li.classList.remove("new"); }, 3000); }
      document.title = `(${counts().waiting}) nightcare — operator console`;
      return;
    }
    if (["board", "call", "visit"].includes(change.kind)) render();
  });
}
export const toggleMute = () => setMuted(!muted);
