// Following the night: the map (Leaflet, from the npm registry; the tile server is a setting, and with no tiles
// reachable the markers stand on a plain background), the nurses with their job now and next, and the alerts.
import { api, message } from "./api.js";
import { state, subscribe } from "./store.js";
import { $, esc, hhmm, label } from "./util.js";
import { open } from "./callpanel.js";

const COLOURS = { U0: "#ff6b6b", U1: "#ff6b6b", U2: "#ff6b6b", U3: "#ffb347", U4: "#7fb3ff", U5: "#9be39b" };
const NURSE_COLOURS = ["#7cc4ff", "#c792ea", "#6fdc8c", "#ffd54a", "#f78c6c", "#89ddff"];
let map = null, layers = null, fitted = false;

function nurseColour(id) { return NURSE_COLOURS[id % NURSE_COLOURS.length]; }

function setUpMap() {
  if (map || !state.map) return;
  if (!window.L) {
    $("#map").hidden = true;
    const note = $("#map-note"); note.hidden = false;
    note.textContent = "The map's library is not installed (run `make`): nurses and visits are listed below.";
    return;
  }
  map = window.L.map("map", { zoomControl: true, attributionControl: true, keyboard: true })
    .setView(state.map.center, 11);
  window.L.tileLayer(state.map.tile_url, { attribution: esc(state.map.attribution), maxZoom: 18 }).addTo(map);
  layers = { visits: window.L.layerGroup().addTo(map), nurses: window.L.layerGroup().addTo(map),
             routes: window.L.layerGroup().addTo(map) };
}

function drawMap() {
  setUpMap();
  if (!map) return;
  const L = window.L;
  map.invalidateSize({ pan: false });  // its box may have changed since (a banner, a wider screen)
  for (const layer of Object.values(layers)) layer.clearLayers();
  const where = new Map();
  for (const v of state.visits.values()) {
    const colour = v.kind === "planned" ? "#c0c7d0" : (COLOURS[v.urgency] || "#c0c7d0");
    where.set(v.id, [v.client.lat, v.client.lon]);
    L.circleMarker([v.client.lat, v.client.lon], { radius: v.kind === "planned" ? 6 : 9, color: "#000", weight: 1,
      fillColor: colour, fillOpacity: 0.95 })
      .bindTooltip(`${v.urgency || "planned"} · ${v.client.name}, ${v.client.address}<br>${label(v.state)}${v.nurse ? " · " + v.nurse : ""}${v.eta ? " · ETA " + hhmm(v.eta) : ""}`)
      .on("click", () => { if (v.call_id) open(v.call_id); })
      .addTo(layers.visits);
  }
  if (!fitted && where.size && $("#map").offsetHeight) {  // the first time it is on screen: show the night's area
    map.invalidateSize();
    map.fitBounds(window.L.latLngBounds([...where.values(), state.map.center]), { padding: [20, 20], maxZoom: 13 });
    fitted = true;
  }
  const sides = ["right", "left", "top", "bottom"];
  [...state.nurses.values()].forEach((n, i) => {
    const at = [n.lat ?? state.map.center[0], n.lon ?? state.map.center[1]];
    L.circleMarker(at, { radius: 11, color: "#fff", weight: 2, fillColor: nurseColour(n.id), fillOpacity: n.on_duty ? 1 : 0.3 })
      .bindTooltip(`${n.name.split(" ")[0]}${n.on_duty ? "" : " (off)"}${n.current ? " · " + label(n.current.state) : ""}`,
        { permanent: n.on_duty, direction: sides[i % 4], className: "marker-label" })
      .addTo(layers.nurses);
    const stops = (state.routes.routes || {})[String(n.id)] || [];
    const line = [at, ...stops.map((s) => where.get(s.visit_id)).filter(Boolean)];
    if (line.length > 1) L.polyline(line, { color: nurseColour(n.id), weight: 3, opacity: 0.8, dashArray: "6 6" }).addTo(layers.routes);
  });
}

function drawNurses() {
  const list = $("#nurses");
  const nurses = [...state.nurses.values()].sort((a, b) => (b.on_duty - a.on_duty) || a.name.localeCompare(b.name));
  list.innerHTML = nurses.map((n) => {
    const visit = (id) => state.visits.get(id);
    const job = (j) => { const v = visit(j.visit_id); return `${v ? esc(v.client.name) : "visit " + j.visit_id} (${esc(label(j.state))}${j.eta ? ", ETA " + hhmm(j.eta) : ""})`; };
    return `<li class="${n.on_duty ? "" : "off"}"><strong class="dot nc${n.id % NURSE_COLOURS.length}" aria-hidden="true">●</strong> <strong>${esc(n.name)}</strong>
      <span class="muted">${n.on_duty ? "on duty" : (n.shift ? `shift ${hhmm(n.shift.starts_at)}–${hhmm(n.shift.ends_at)}` : "no shift")}${n.available ? "" : " · unavailable"}${n.skills.length ? " · " + esc(n.skills.join(", ")) : ""}</span>
      ${n.current ? `<br>Now: ${job(n.current)}` : ""}
      ${n.next.length ? `<br>Next: ${n.next.slice(0, 3).map(job).join("; ")}${n.next.length > 3 ? ` +${n.next.length - 3}` : ""}` : ""}
      ${n.bag_flags.length ? `<br><span class="flag">Bag: ${n.bag_flags.map((f) => esc(`${f.name} ${f.problem}`)).join("; ")}</span>` : ""}</li>`;
  }).join("") || '<li class="muted">No nurses.</li>';
}

function drawAlerts() {
  const alerts = [...state.alerts.values()].sort((a, b) => b.id - a.id);
  $("#alerts").innerHTML = alerts.map((a) => `<li data-alert="${a.id}"><span><span class="muted">${hhmm(a.at)}</span> ${esc(a.message)}
      ${a.call_id ? `<a href="#" data-call="${a.call_id}">call ${a.call_id}</a>` : ""}</span>
      <button type="button" class="ghost ack" data-ack="${a.id}">Acknowledge</button></li>`).join("");
  $("#no-alerts").hidden = alerts.length > 0;
  const badge = $("#alert-count"); badge.hidden = !alerts.length; badge.textContent = alerts.length;
  for (const b of $("#alerts").querySelectorAll("[data-ack]")) b.onclick = async () => {
    try { await api("POST", `/api/alerts/${b.dataset.ack}/acknowledge`); state.alerts.delete(Number(b.dataset.ack)); drawAlerts(); }
    catch (e) { b.closest("li").append(Object.assign(document.createElement("span"), { className: "error", textContent: message(e) })); }
  };
  for (const a of $("#alerts").querySelectorAll("[data-call]")) a.onclick = (ev) => { ev.preventDefault(); open(Number(a.dataset.call)); };
}

let pending = null;
function soon(fn) { clearTimeout(pending); pending = setTimeout(fn, 150); }  // a burst of events, one redraw

export function shown() { if (map) { map.invalidateSize(); drawMap(); } }

export function init() {
  window.addEventListener("resize", () => map?.invalidateSize());
  subscribe((change) => {
    if (change.kind === "board") { drawMap(); drawNurses(); drawAlerts(); return; }
    if (["visit", "nurse", "routes"].includes(change.kind)) soon(() => { drawMap(); drawNurses(); });
    if (change.kind === "alert") drawAlerts();
  });
}
