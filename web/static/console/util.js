// Small helpers shared by the console's modules: the DOM, text, the region's time, the service's clock.
export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
export const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

// The service decides what time it is (a phone's or a PC's clock may be off): we keep the difference.
let skewMs = 0, zone = "Europe/Amsterdam";
export function setServerTime(iso, timezone) { skewMs = new Date(iso).getTime() - Date.now(); zone = timezone || zone; }
export const now = () => new Date(Date.now() + skewMs);
// 24-hour times in the region's zone, whatever this computer's settings.
// Formatters are made once per zone (making one per call was most of a board redraw's time).
const formats = new Map();
function format(kind, options) {
  const key = kind + zone;
  if (!formats.has(key)) formats.set(key, new Intl.DateTimeFormat("en-GB", { ...options, hourCycle: "h23", timeZone: zone }));
  return formats.get(key);
}
export const hhmm = (iso) => iso ? format("hm", { hour: "2-digit", minute: "2-digit" }).format(new Date(iso)) : "—";
export const hhmmss = (d) => format("hms", { hour: "2-digit", minute: "2-digit", second: "2-digit" }).format(d);
export const dayTime = (iso) => iso ? new Date(iso).toLocaleString("en-GB", { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone }) : "—";
export function waited(iso) {  // "4:07" or "1:02:33" since then
  const s = Math.max(0, Math.floor((now() - new Date(iso)) / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}
export const seconds = (iso) => Math.floor((now() - new Date(iso)) / 1000);
export const label = (state) => String(state || "").replace(/_/g, " ");
export const plural = (n, one, many = one + "s") => `${n} ${n === 1 ? one : many}`;  // "1 call", "3 calls"

// What an operator types is kept until it is sent (a reload, a dropped connection, another call in between).
export const drafts = {
  get(key) { try { return JSON.parse(sessionStorage.getItem("nc.draft." + key)) ?? ""; } catch { return ""; } },
  set(key, value) { sessionStorage.setItem("nc.draft." + key, JSON.stringify(value)); },
  del(key) { sessionStorage.removeItem("nc.draft." + key); },
};
export function keep(input, key) {  // bind an input to a draft
  const saved = drafts.get(key);
  if (saved && !input.value) input.value = saved;
  input.addEventListener("input", () => drafts.set(key, input.value));
}

// A short two-tone chime for a new call, made here (no sound file to load).
let audio = null;
export function chime() {
  try {
    audio = audio || new AudioContext();
    const t = audio.currentTime;
    for (const [i, f] of [[0, 880], [0.18, 1320]]) {
      const o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = f; g.gain.setValueAtTime(0.0001, t + i);
      g.gain.exponentialRampToValueAtTime(0.25, t + i + 0.02); g.gain.exponentialRampToValueAtTime(0.0001, t + i + 0.16);
      o.connect(g).connect(audio.destination); o.start(t + i); o.stop(t + i + 0.17);
    }
  } catch { /* no audio device: the visual announcement stays */ }
}

// "02:14" typed by an operator: the last moment (within a day) that was 02:14 in the region.
export function lastAt(text) {
  const m = String(text).trim().match(/^([01]?\d|2[0-3])[:.]?([0-5]\d)$/);
  if (!m) return null;
  const want = `${m[1].padStart(2, "0")}:${m[2]}`;
  const start = now();
  start.setSeconds(0, 0);
  for (let k = 0; k < 24 * 60; k++) {
    const t = new Date(start.getTime() - k * 60000);
    if (hhmm(t.toISOString()) === want) return t;
  }
  return null;
}
