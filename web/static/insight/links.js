// What the coordinator manages next to the figures: the protocol versions (published, and drafts awaiting
// sign-off; their printable books) and the nurses' shifts of the coming nights.
import { api, token, message } from "/console/api.js";
import { esc, dayTime, now } from "/console/util.js";

export async function loadProtocols(box) {
  const [versions, drafts, current] = await Promise.all([api("GET", "/api/protocols"), api("GET", "/api/protocols/drafts"),
    api("GET", "/api/protocols/current")]);
  const book = (kind, p) => `<button type="button" class="ghost small" data-book="/api/protocols/${encodeURIComponent(p.protocol_id)}/${kind}/${p.version}/book">Book</button>`;
  const waiting = drafts.filter((x) => x.state !== "published");
  box.innerHTML = `<p>In use for new triages: <strong>${esc(current.title)}</strong> v${current.version}${current.pinned ? " (pinned)" : ""}.</p>
    <table class="list"><thead><tr><th scope="col">Version</th><th scope="col">Title</th><th scope="col">Published</th><th scope="col">By</th><th scope="col">Book</th></tr></thead>
    <tbody>${versions.map((v) => `<tr><td>${esc(v.protocol_id)} v${v.version}</td><td>${esc(v.title)}</td><td>${dayTime(v.published_at)}</td>
      <td>${esc(v.published_by)}</td><td>${book("versions", v)}</td></tr>`).join("")}</tbody></table>
    <h3>Drafts awaiting sign-off</h3>
    ${waiting.length ? `<ul>${waiting.map((x) => `<li>${esc(x.protocol_id)} v${x.version} — ${esc(x.title)}:
      ${x.signoffs.filter((s) => s.valid).length} of ${x.signoffs_needed} sign-offs${x.ready_to_publish ? ", <strong>ready to publish</strong>" : ""} ${book("drafts", x)}</li>`).join("")}</ul>`
      : '<p class="muted">None.</p>'}`;
  for (const b of box.querySelectorAll("[data-book]")) b.onclick = () => openBook(b.dataset.book, box);
}

// A book is HTML behind the login (a header), so it is fetched and opened as a local copy.
async function openBook(path, box) {
  try {
    const r = await fetch(path, { headers: { Authorization: "Bearer " + token.get() }, cache: "no-store" });
    if (!r.ok) throw new Error((await r.json().catch(() => ({}))).detail || `HTTP ${r.status}`);
    window.open(URL.createObjectURL(await r.blob()), "_blank");
  } catch (e) { box.insertAdjacentHTML("afterbegin", `<p class="error" role="alert">${esc(message(e))}</p>`); }
}

export async function loadComingShifts(box) {
  const from = now(), to = new Date(from.getTime() + 7 * 24 * 3600 * 1000);
  const [nurses, shifts] = await Promise.all([api("GET", "/api/nurses"),
    api("GET", `/api/shifts?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`)]);
  const names = new Map(nurses.map((n) => [n.id, n.name]));
  box.innerHTML = `<h3>Shifts of the coming seven nights</h3>${shifts.length ? `<table class="list compact"><thead><tr><th scope="col">Nurse</th>
    <th scope="col">From</th><th scope="col">To</th><th scope="col">State</th></tr></thead><tbody>${shifts.map((s) => `<tr>
    <td>${esc(names.get(s.nurse_id) || `nurse ${s.nurse_id}`)}</td><td>${dayTime(s.starts_at)}</td><td>${dayTime(s.ends_at)}</td>
    <td>${esc(s.state)}</td></tr>`).join("")}</tbody></table>` : '<p class="flag">No shifts planned for the coming nights.</p>'}
    <p class="muted small">${nurses.filter((n) => n.active).length} active nurses.</p>`;
}
