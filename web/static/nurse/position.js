// Her position, from the phone, while she is on duty and only with her consent. Without it the planner plans her
// from the centre of the region (Assen). Asked once; the choice is remembered per nurse and she can change it.
// A report goes when she has moved more than 100 m since the last one, or at most once a minute otherwise.
import { $, api, now, store } from "./core.js";

const MOVE_M = 100, EVERY_MS = 60000;
let watch = null, endTimer = null, last = null, nurse = null, shift = null;

const key = () => `position.${nurse?.id}`;
export const consent = () => store.get(key(), null);  // "on" | "off" | null (not asked yet)

function metres(a, b) {
  const rad = Math.PI / 180, dlat = (b.lat - a.lat) * rad, dlon = (b.lon - a.lon) * rad;
  const h = Math.sin(dlat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dlon / 2) ** 2;
  return 2 * 6371000 * Math.asin(Math.sqrt(h));
}

const onDuty = () => shift && new Date(shift.starts_at) <= now() && now() < new Date(shift.ends_at);

function status(text) { $("#position-status").textContent = text; }

async function report(pos) {
  const here = { lat: pos.coords.latitude, lon: pos.coords.longitude };
  const due = !last || metres(last, here) > MOVE_M || Date.now() - last.at >= EVERY_MS;
  if (!due) return;
  const previous = last;
  last = { ...here, at: Date.now() };
  try {
    await api("POST", `/api/nurses/${nurse.id}/position`, here);
    if (watch !== null) status("Sharing your position while on duty");  // unless she switched it off meanwhile
  }
  catch { last = previous; }  // not sent (no connection): the next fix tries again; a stale position is not queued
}

function begin() {
  clearTimeout(endTimer);
  if (watch !== null || !navigator.geolocation || consent() !== "on" || !shift) return;
  if (!onDuty()) {  // the bag is checked before the shift: sharing begins when the shift does
    const wait = new Date(shift.starts_at) - now();
    if (wait > 0) endTimer = setTimeout(begin, wait);
    return;
  }
  watch = navigator.geolocation.watchPosition(report, (e) => {
    status(e.code === 1 ? "Position blocked in the phone's settings: the planner uses the centre of Assen"
                        : "Position not available right now");
  }, { enableHighAccuracy: true, maximumAge: 30000, timeout: 60000 });
  endTimer = setTimeout(stop, Math.max(0, new Date(shift.ends_at) - now()));  // the end of her shift ends it
  status("Sharing your position while on duty");
}

export function stop() {
  if (watch !== null) navigator.geolocation.clearWatch(watch);
  watch = null; last = null; clearTimeout(endTimer);
  if (nurse) status(consent() === "on" ? (onDuty() ? "" : "Your position is shared only while you are on duty")
                                       : "Position not shared: the planner uses the centre of Assen");
}

function choose(value) {
  store.set(key(), value);
  $("#position-consent").hidden = true;
  $("#position-toggle").checked = value === "on";
  if (value === "on") begin(); else stop();
}

/** After login (and after the bag check): ask once, then share while on duty if she agreed. */
export function startPosition(me, myShift) {
  nurse = me; shift = myShift;
  $("#position-settings").hidden = false;
  $("#position-toggle").checked = consent() === "on";
  $("#position-consent").hidden = consent() !== null;
  if (consent() === "on") begin(); else stop();
}

export function endPosition() { stop(); nurse = null; shift = null; $("#position-settings").hidden = true; $("#position-consent").hidden = true; }

$("#position-yes").addEventListener("click", () => choose("on"));
$("#position-no").addEventListener("click", () => choose("off"));
$("#position-toggle").addEventListener("change", (ev) => choose(ev.target.checked ? "on" : "off"));
