// What the console knows of the night: the board's rows, kept up to date by the events on /ws/operators (the
// same rows as GET /api/board, so no call is fetched per event). Views subscribe and redraw what changed.
import { api } from "./api.js";
import { setServerTime } from "./util.js";

const CLOSED = new Set(["advice", "deferred_to_day", "completed", "cancelled"]);
const VISIT_CLOSED = new Set(["completed", "cancelled"]);

export const state = {
  me: null, calls: new Map(), visits: new Map(), nurses: new Map(), alerts: new Map(), routes: { routes: {} },
  overflow: null, map: null, organisations: new Map(), selected: null, loadedAt: null,
};
const listeners = new Set();
export function subscribe(fn) { listeners.add(fn); }
function emit(change) { for (const fn of listeners) fn(change); }

export async function loadBoard() {
  const b = await api("GET", "/api/board");
  setServerTime(b.now, b.timezone);
  state.me = b.me; state.overflow = b.overflow; state.map = b.map; state.routes = b.routes;
  state.calls = new Map(b.calls.map((c) => [c.id, c]));
  state.visits = new Map(b.visits.map((v) => [v.id, v]));
  state.nurses = new Map(b.nurses.map((n) => [n.id, n]));
  state.alerts = new Map(b.alerts.map((a) => [a.id, a]));
  for (const c of b.calls) if (c.organisation) state.organisations.set(c.organisation.id, c.organisation);
  state.loadedAt = Date.now();
  emit({ kind: "board" });
}

function putCall(row) {
  if (!row) return;
  if (row.organisation) state.organisations.set(row.organisation.id, row.organisation);
  // Closed, or handed back by the backup team: off this board.
  const gone = CLOSED.has(row.state) || (state.me?.team === "backup" && row.team !== "backup");
  const isNew = !gone && !state.calls.has(row.id) && row.state === "received";
  if (gone) state.calls.delete(row.id); else state.calls.set(row.id, row);
  return isNew;
}

let routesTimer = null;
export function applyEvent(ev) {
  switch (ev.kind) {
    case "call.changed": {
      const isNew = putCall(ev.call);
      emit({ kind: "call", id: ev.call.id, row: ev.call, isNew });
      break;
    }
    case "visit.changed": {
      const v = ev.visit;
      if (VISIT_CLOSED.has(v.state)) state.visits.delete(v.id); else state.visits.set(v.id, v);
      if (ev.call) putCall(ev.call);
      emit({ kind: "visit", id: v.id, row: v, call: ev.call?.id });
      break;
    }
    case "nurse.changed": state.nurses.set(ev.nurse.id, ev.nurse); emit({ kind: "nurse", id: ev.nurse.id }); break;
    case "alert":
      if (ev.alert.resolved_at) state.alerts.delete(ev.alert.id); else state.alerts.set(ev.alert.id, ev.alert);
      emit({ kind: "alert", id: ev.alert.id, isNew: !ev.alert.resolved_at });
      break;
    case "plan.changed":  // routes are fetched once per re-plan burst, not per event
      clearTimeout(routesTimer);
      routesTimer = setTimeout(async () => {
        try { state.routes = await api("GET", "/api/board/routes"); emit({ kind: "routes" }); } catch { /* next one */ }
      }, 400);
      break;
    case "board.reload": loadBoard().catch(() => {}); break;
  }
}

export function counts() {
  const c = { waiting: 0, queued: 0, en_route: 0, on_scene: 0, past_target: 0 };
  for (const row of state.calls.values()) {
    if (row.waiting_for_triage) c.waiting++;
    if (row.past_target) c.past_target++;
    if (row.state in c) c[row.state]++;
  }
  return c;
}
