// The two charts, drawn with Chart.js (the npm package's UMD build, loaded by index.html as window.Chart). Each
// canvas carries a text summary for screen readers; the figures are also in the tables and tiles.
const charts = new Map();
const COLOURS = { U0: "#7a0019", U1: "#b3261e", U2: "#d9822b", U3: "#2f6fb0", U4: "#6b8e23", U5: "#7d7d7d", untriaged: "#c9c9c9" };
export const URGENCIES = ["U0", "U1", "U2", "U3"];  // the urgencies with a response target (tiles, chart)

function draw(canvas, config) {
  if (!window.Chart) {  // web/node_modules not installed (`make` installs it): the tables still hold the figures
    if (!canvas.parentElement.querySelector(".no-chart")) {
      canvas.insertAdjacentHTML("afterend", '<p class="muted no-chart">The chart library is not installed (run <code>make</code>); the figures are in the tables.</p>');
    }
    return;
  }
  charts.get(canvas)?.destroy();
  const chart = new window.Chart(canvas, { ...config, options: { animation: false, responsive: true, maintainAspectRatio: false, ...config.options } });
  charts.set(canvas, chart);
  canvas.dataset.drawn = "true";
}

// Calls per hour of the night, stacked by urgency, from the handover hour round the clock (hours without calls at
// either end are left out, so a night's few hours are readable).
export function drawHours(canvas, d) {
  const used = d.hours.map((h, i) => h.calls ? i : -1).filter((i) => i >= 0);
  const hours = used.length ? d.hours.slice(used[0], used[used.length - 1] + 1) : [];
  const keys = ["U0", "U1", "U2", "U3", "U4", "U5", "untriaged"];
  draw(canvas, {
    type: "bar",
    data: {
      labels: hours.map((h) => h.label),
      datasets: keys.map((k) => ({ label: k === "untriaged" ? "not triaged" : k, data: hours.map((h) => h.by_urgency[k]), backgroundColor: COLOURS[k] })),
    },
    options: {
      scales: { x: { stacked: true, title: { display: true, text: `hour of the night (${d.time_zone})` } },
                y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "calls" } } },
      plugins: { legend: { position: "bottom" } },
    },
  });
  const busiest = hours.reduce((a, h) => (h.calls > (a?.calls ?? 0) ? h : a), null);
  canvas.setAttribute("aria-label", `Calls per hour of the night: ${d.calls} in all` + (busiest ? `, most at ${busiest.label} (${busiest.calls})` : ""));
}

// Response times per urgency: median and p90 in minutes, with the region's target as a line.
export function drawTimes(canvas, d) {
  const mins = (s) => s == null ? null : Math.round(s / 60);
  const r = URGENCIES.map((u) => d.responses[u]);
  draw(canvas, {
    type: "bar",
    data: {
      labels: URGENCIES,
      datasets: [
        { label: "median", data: r.map((x) => mins(x.p50_s)), backgroundColor: "#8fb3d9", order: 1 },
        { label: "p90", data: r.map((x) => mins(x.p90_s)), backgroundColor: "#0b4f8a", order: 1 },
        // The target as a short red bar across each urgency's pair of bars.
        { type: "line", label: "target", data: r.map((x) => x.target_min), showLine: false, borderColor: "#a00",
          backgroundColor: "#a00", pointStyle: "line", pointRadius: 28, pointHoverRadius: 28, borderWidth: 3, order: 0 },
      ],
    },
    options: {
      scales: { y: { beginAtZero: true, grace: "5%", title: { display: true, text: "minutes to the nurse on scene" } } },
      plugins: { legend: { position: "bottom" } },
    },
  });
  canvas.setAttribute("aria-label", "Response times per urgency: " + URGENCIES.map((u, i) =>
    `${u} median ${mins(r[i].p50_s) ?? "none"}, p90 ${mins(r[i].p90_s) ?? "none"} minutes, target ${r[i].target_min}`).join("; "));
}
