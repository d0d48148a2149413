// nightcare nurse app, the shared parts: storage, the API, the offline queue, times in the region's zone, steppers.
export const $ = (sel, root = document) => root.querySelector(sel);
export const store = {
  get(k, d) { try { return JSON.parse(localStorage.getItem("nc." + k)) ?? d; } catch { return d; } },
  set(k, v) { localStorage.setItem("nc." + k, JSON.stringify(v)); },
  del(k) { localStorage.removeItem("nc." + k); },
};
export const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

export class Offline extends Error {}
export class Refused extends Error { constructor(status, body) { super(body.detail || status); this.status = status; this.body = body; } }

const hooks = { onUnauthorised: () => {}, onQueueChange: () => {} };
export function on(name, fn) { hooks[name] = fn; }

export async function api(method, path, body, { form = false } = {}) {
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
  if (r.status === 401 && token) { hooks.onUnauthorised(); throw new Refused(401, data); }
  if (!r.ok) throw new Refused(r.status, data);
  return data;
}

// -- the offline queue: actions taken without a connection are sent in order when it returns -------------------
export const queued = () => store.get("queue", []);
export const refusedActions = () => store.get("refused", []);
export async function act(method, path, body, what) {
  try { return await api(method, path, body); }
  catch (e) {
    if (!(e instanceof Offline)) throw e;
    store.set("queue", [...queued(), { method, path, body, what }]); hooks.onQueueChange();
    return null;
  }
}

// -- the service's time and zone: the phone's own clock may be off --------------------------------------------
let zone = store.get("timezone", "Europe/Amsterdam"), offset = 0;
export function setClock(serviceNow, timezone) { zone = timezone; offset = new Date(serviceNow) - Date.now(); }
export const now = () => new Date(Date.now() + offset);
// 24-hour times in the region's own zone, whatever the phone's settings.
export const time = (iso) => iso ? new Date(iso).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone }) : "—";
const dayKey = (iso) => new Date(iso).toLocaleDateString("en-CA", { timeZone: zone });
export const day = (iso, ref) => dayKey(iso) === dayKey(ref) ? "today " :
  new Date(iso).toLocaleDateString("en-GB", { weekday: "short", timeZone: zone }) + " ";
export const date = (iso) => iso ? new Date(iso + "T12:00:00Z").toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }) : "";

// -- a stepper: − count + with big targets, instead of a number field -----------------------------------------
export function stepper(name, value, { min = 0, max = 1000, dataset = {} } = {}) {
  const box = document.createElement("div"); box.className = "stepper"; box.setAttribute("role", "group");
  box.setAttribute("aria-label", name);
  box.innerHTML = `<span class="stepper-name"></span><button type="button" class="step-down secondary">−</button>
    <output class="count" aria-live="polite"></output><button type="button" class="step-up secondary">+</button>`;
  box.querySelector(".stepper-name").textContent = name;
  box.querySelector(".step-down").setAttribute("aria-label", `One fewer: ${name}`);
  box.querySelector(".step-up").setAttribute("aria-label", `One more: ${name}`);
  const out = box.querySelector("output"); out.setAttribute("aria-label", `${name}: count`);
  Object.assign(box.dataset, dataset);
  const set = (n) => { box.dataset.value = String(Math.max(min, Math.min(max, n))); out.textContent = box.dataset.value; };
  box.querySelector(".step-down").onclick = () => set(Number(box.dataset.value) - 1);
  box.querySelector(".step-up").onclick = () => set(Number(box.dataset.value) + 1);
  set(value);
  return box;
}
