// The call being handled: who is calling (identify them, correct a wrong match), what the night team knows of
// them, the triage, the nurse on her way, the calls to 112 or the GP post, and the call's history.
import { api, message } from "./api.js";
import { state, subscribe } from "./store.js";
import { $, esc, hhmm, dayTime, label, waited, keep, drafts, now, lastAt } from "./util.js";
import { Triage } from "./triage.js";
import { recordHtml } from "./record.js";
import { ask } from "./dialog.js";
const WISH = { do_not_hospitalise: "do not hospitalise", do_not_resuscitate: "do not resuscitate" };

let current = null;  // the panel of the selected call

// The summary from the client's record system: alerts first, then what a night nurse needs.
export function selected() { return current; }

export async function open(callId) {
  state.selected = callId;
  if (current?.id === callId) { current.focus(); return; }
  current = new CallPanel(callId);
  await current.load();
}

export function close() { current = null; state.selected = null; $("#call-body").hidden = true; $("#call-empty").hidden = false; }

// "night team yes (signed form, 2026-10-01); summary no"
function consentLine(cl) {
  const one = (label, given, source, on) => {
    const why = [source, on].filter(Boolean).join(", ");
    return `${label} ${given ? "yes" : "no"}${why ? ` (${why})` : ""}`;
  };
  return esc(`${one("night team", cl.consent_night_team, cl.consent_night_team_source, cl.consent_night_team_date)}; ${
    one("summary", cl.consent_summary, cl.consent_summary_source, cl.consent_summary_date)}`);
}

class CallPanel {
  constructor(id) {
    this.id = id; this.call = state.calls.get(id) || null; this.detail = null; this.night = null;
    this.results = []; this.highlight = 0; this.correcting = false;
    const body = $("#call-body");
    body.innerHTML = `<section class="call-head"></section><section class="client"></section><section class="triage"></section>
      <section class="visit" hidden></section><section class="escalations" hidden></section>
      <details class="history"><summary>History</summary><ol class="history-list"></ol></details>`;
    body.hidden = false; $("#call-empty").hidden = true;
    this.el = body;
    this.triage = new Triage(body.querySelector(".triage"), { id, state: this.call?.state }, () => this.reload(),
      () => this.findClient());
  }

  focus() { $("#call").focus(); }

  // The cursor where the client is named: her search (a call nobody has identified yet), in view.
  findClient() {
    const box = this.searchBox();
    box?.scrollIntoView({ block: "nearest" });
    box?.focus();
  }

  async load() {
    await this.reload();
    await this.triage.load();
    if (current !== this) return;  // another call was opened meanwhile: the cursor is its
    if (!this.call?.client) this.searchBox()?.focus(); else this.focus();
  }

  async reload() {
    try { this.detail = await api("GET", `/api/calls/${this.id}`); }
    catch (e) { this.el.querySelector(".call-head").innerHTML = `<p class="error">${esc(message(e))}</p>`; return; }
    this.call = state.calls.get(this.id) || this.call;
    this.triage.call.state = this.detail.state;
    const clientId = this.detail.client_id;
    if (clientId && (!this.night || this.night.client.id !== clientId)) {
      try { this.night = await api("GET", `/api/clients/${clientId}/night?call_id=${this.id}`); }
      catch { this.night = null; }
    }
    if (!clientId) this.night = null;
    if (clientId && this.record?.client_id !== clientId) this.loadRecord(clientId);  // not awaited: never blocks
    if (!clientId) this.record = null;
    this.render();
  }

  // The client's own record system (her organisation's), asked in the background: slow or down, the panel goes on.
  async loadRecord(clientId) {
    this.record = { client_id: clientId, loading: true };
    let r;
    try { r = await api("GET", `/api/clients/${clientId}/summary?call_id=${this.id}`); }
    catch (e) { r = { client_id: clientId, available: false, reason: message(e) }; }
    if (this.record?.client_id !== clientId || current !== this) return;
    this.record = r;
    if (!this.correcting) this.renderClient();
  }

  render() {
    const d = this.detail, c = state.calls.get(this.id) || this.call;
    if (!d) return;
    // While the protocol is walked, the client's details shrink to a line: the question stays in one place.
    this.el.querySelector(".client").classList.toggle("compact", Boolean(this.triage.question || this.triage.outcome));
    const closed = !d.allowed_transitions.length;
    const me = state.me || {};
    this.el.querySelector(".call-head").innerHTML = `<div class="head">
        <span class="title">Call ${d.id}</span><span class="urgency ${esc(c?.urgency || "")}">${esc(c?.urgency || "—")}</span>
        <span>${esc(label(d.state))}</span>
        <span class="muted">${esc(d.source)}${d.caller_phone ? " · " + esc(d.caller_phone) : ""} · in at ${hhmm(d.received_at)}
          ${closed ? "" : `· waiting <span class="waited">${waited(d.received_at)}</span>`}</span>
        ${d.team === "backup" ? '<span class="overflow-state">backup team</span>' : ""}
      </div>${d.text ? `<p>${esc(d.text)}</p>` : ""}
      <div class="actions">
        ${!closed && d.team === "regional" && me.team === "regional" ? '<button type="button" class="handover ghost">Hand to backup <kbd>H</kbd></button>' : ""}
        ${!closed && d.team === "backup" ? '<button type="button" class="handback ghost">Hand back to the region</button>' : ""}
        ${["escalated", "queued", "assigned", "accepted", "en_route", "on_scene"].includes(d.state) || c?.triage?.disposition === "gp_post"
          ? '<button type="button" class="escalate ghost">Record call to 112 / GP post</button>' : ""}
        ${!closed ? '<button type="button" class="cancel-call danger">Cancel call…</button>' : ""}
      </div>`;
    const on = (sel, fn) => { const b = this.el.querySelector(sel); if (b) b.onclick = fn; };
    on(".handover", () => this.handOver("backup"));
    on(".handback", () => this.handOver("regional"));
    on(".escalate", () => this.escalate());
    on(".cancel-call", () => this.cancelCall());
    this.renderClient();
    this.renderVisit();
    this.renderEscalations();
    this.el.querySelector(".history-list").innerHTML = d.events.map((e) =>
      `<li>${hhmm(e.at)} ${esc(e.actor)}: ${e.from_state === e.to_state ? "" : esc(label(e.to_state)) + (e.reason ? " — " : "")}${esc(e.reason)}</li>`).join("");
  }

  // -- who is calling ------------------------------------------------------------------------------------------
  searchBox() { return this.el.querySelector(".client-search"); }

  renderClient() {
    const box = this.el.querySelector(".client"), d = this.detail, n = this.night;
    if (d.client_id && !this.correcting) {
      const cl = n?.client;
      box.innerHTML = `<h2>Client</h2>${cl ? `
        ${cl.wishes?.length ? `<p class="flag">Recorded wish: ${cl.wishes.map((w) => esc(WISH[w] || w)).join("; ")}</p>` : ""}
        <p class="title"><strong>${esc(cl.given_name)} ${esc(cl.family_name)}</strong>
          ${cl.date_of_birth ? `<span class="muted">born ${esc(cl.date_of_birth)}</span>` : ""}
          <span class="muted">· ${esc(state.organisations.get(cl.organisation_id)?.name || "organisation " + cl.organisation_id)}</span></p>
        <dl class="facts"><dt>Address</dt><dd>${esc(cl.street)} ${esc(cl.house_number)}, ${esc(cl.postcode)} ${esc(cl.city)}</dd>
          <dt>Access</dt><dd>${esc(cl.access_notes || "—")}${cl.has_keysafe ? " (key safe)" : ""}</dd>
          ${cl.phones?.length ? `<dt>Phone</dt><dd>${esc(cl.phones.join(", "))}</dd>` : ""}
          ${cl.risks?.length ? `<dt>Known risks</dt><dd>${esc(cl.risks.map((r) => r.replaceAll("_", " ")).join(", "))}</dd>` : ""}
          <dt>Consent</dt><dd class="consent">${consentLine(cl)}</dd></dl>
        ${recordHtml(this.record)}
        ${n.restricted ? '<p class="restricted">No consent to share more with the night team: identity, address and access only.</p>' : ""}
        ${n.calls_30d?.length ? `<p><strong>${n.calls_24h.length}</strong> other call${n.calls_24h.length === 1 ? "" : "s"} in the last 24 h,
          <strong>${n.calls_30d.length}</strong> in 30 days:</p><ul class="history">${n.calls_30d.slice(0, 6).map((p) =>
          `<li>${dayTime(p.received_at)}: ${esc(p.triage?.complaint || p.text || p.source)} ${p.urgency ? `(${esc(p.urgency)})` : ""} — ${esc(label(p.state))}</li>`).join("")}</ul>` : '<p class="muted">No other calls in 30 days.</p>'}
        ${n.night_notes?.length ? `<p>Night notes:</p><ul class="history">${n.night_notes.map((x) =>
          `<li>${dayTime(x.completed_at)}: ${esc(x.note)}</li>`).join("")}</ul>` : ""}` : '<p class="muted">…</p>'}
        ${d.allowed_transitions.length ? '<button type="button" class="correct ghost">Wrong client? Correct…</button>' : ""}`;
      const correct = box.querySelector(".correct");
      if (correct) correct.onclick = () => { this.correcting = true; this.renderClient(); this.searchBox()?.focus(); };
      return;
    }
    if (!box.querySelector(".client-search")) {
      box.innerHTML = `<h2>${this.correcting ? "Correct the client" : "Who is calling?"}</h2>
        <label>Find the client (name, born dd-mm-yyyy, phone, postcode + number, or their organisation's id)
          <input class="client-search" autocomplete="off" placeholder="e.g. Bakker Kerkstraat, or 06 1234 5678"></label>
        <ol class="results" aria-label="Clients found"></ol>
        <p class="muted small">↑ ↓ to choose, Enter to take it. Searches are logged.</p>
        ${this.correcting ? '<button type="button" class="stop-correct ghost">Keep the current client</button>' : ""}
        <p class="error client-error" role="alert"></p>`;
      const input = this.searchBox();
      keep(input, `search.${this.id}`);
      let timer = null;
      input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => this.search(input.value), 250); });
      input.addEventListener("keydown", (ev) => {
        if (ev.key === "ArrowDown") { this.highlight = Math.min(this.results.length - 1, this.highlight + 1); this.renderResults(); ev.preventDefault(); }
        else if (ev.key === "ArrowUp") { this.highlight = Math.max(0, this.highlight - 1); this.renderResults(); ev.preventDefault(); }
        else if (ev.key === "Enter") { ev.preventDefault(); if (this.results[this.highlight]) this.identify(this.results[this.highlight]); }
      });
      const stop = box.querySelector(".stop-correct");
      if (stop) stop.onclick = () => { this.correcting = false; this.renderClient(); };
      if (input.value) this.search(input.value);
    }
  }

  async search(text) {
    const q = text.trim(), err = this.el.querySelector(".client-error");
    if (q.length < 2) { this.results = []; this.renderResults(); return; }
    const params = new URLSearchParams({ call_id: this.id, limit: 20 });
    const dob = q.match(/^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$/);
    const phone = q.replace(/[\s-]/g, "");
    const postcode = q.match(/^(\d{4}\s?[A-Za-z]{2})\s+(\S+)$/);
    if (dob) params.set("date_of_birth", `${dob[3]}-${dob[2].padStart(2, "0")}-${dob[1].padStart(2, "0")}`);
    else if (/^\+?\d{8,15}$/.test(phone)) params.set("phone", phone);
    else if (postcode) { params.set("postcode", postcode[1]); params.set("house_number", postcode[2]); }
    else if (/^[A-Z]{1,4}-?\d+$/i.test(q)) params.set("external_id", q);
    else params.set("q", q);
    try { this.results = await api("GET", `/api/clients?${params}`); err.textContent = ""; }
    catch (e) { this.results = []; err.textContent = message(e); }
    if (!this.results.length && params.has("external_id")) {  // looked like an id but was a name after all
      params.delete("external_id"); params.set("q", q);
      try { this.results = await api("GET", `/api/clients?${params}`); } catch { /* shown above */ }
    }
    this.highlight = 0;
    this.renderResults();
  }

  renderResults() {
    const list = this.el.querySelector(".results[aria-label='Clients found']");
    if (!list) return;
    list.innerHTML = this.results.map((c, i) => `<li class="${i === this.highlight ? "active" : ""}" data-i="${i}">
      <strong>${esc(c.given_name)} ${esc(c.family_name)}</strong> ${c.date_of_birth ? `<span class="muted">${esc(c.date_of_birth)}</span>` : ""}<br>
      <span class="muted">${esc(c.street)} ${esc(c.house_number)}, ${esc(c.city)} · ${esc(state.organisations.get(c.organisation_id)?.name || "")}</span></li>`).join("")
      || (this.searchBox()?.value.trim().length >= 2 ? '<li class="muted">No client found.</li>' : "");
    for (const li of list.querySelectorAll("li[data-i]")) li.onclick = () => this.identify(this.results[Number(li.dataset.i)]);
  }

  async identify(client) {
    const err = this.el.querySelector(".client-error");
    let reason = "";
    if (this.correcting) {
      const v = await ask(`Correct the client to ${client.given_name} ${client.family_name}`,
        `<label>Why (in the call's history) <input name="reason" required minlength="3"></label>`,
        { draftKey: `correct.${this.id}`, submit: async (values) => {
          await api("POST", `/api/calls/${this.id}/client`, { client_id: client.id, reason: values.reason });
        } });
      if (!v) return;
      reason = v.reason;
    } else {
      try { await api("POST", `/api/calls/${this.id}/client`, { client_id: client.id, reason }); }
      catch (e) { err.textContent = message(e); return; }
    }
    drafts.del(`search.${this.id}`);
    this.correcting = false; this.night = null;
    this.el.querySelector(".client").innerHTML = "";
    this.triage.error = "";  // a refusal for want of her name is answered
    await this.reload();
    await this.triage.load();  // what waited for her name (a nurse after 112) has been done: the outcome says so
    if (current === this) this.focus();  // (the operator may have opened another call meanwhile)
  }

  // -- the nurse -----------------------------------------------------------------------------------------------
  renderVisit() {
    const box = this.el.querySelector(".visit"), row = state.calls.get(this.id);
    const v = row?.visit;
    box.hidden = !v;
    if (!v) return;
    const full = state.visits.get(v.id);
    const actions = full ? ["assign", "lock", "unlock", "cancel"] : [];
    box.innerHTML = `<h2>Nurse</h2>
      <p class="big">${v.nurse ? esc(v.nurse) : "No nurse yet"} · ${esc(label(v.state))}${v.locked ? " · locked by hand" : ""}</p>
      <dl class="facts"><dt>ETA</dt><dd>${hhmm(v.eta)}</dd><dt>Target</dt><dd>${hhmm(v.deadline)}</dd></dl>
      <div class="actions">
        <button type="button" class="why ghost">Why this nurse?</button>
        ${actions.includes("assign") ? '<button type="button" class="assign ghost">Assign by hand…</button>' : ""}
        ${v.locked ? '<button type="button" class="unlock ghost">Unlock</button>' : (v.nurse_id ? '<button type="button" class="lock ghost">Lock to her</button>' : "")}
        <button type="button" class="cancel-visit danger">Cancel visit…</button>
      </div><div class="why-box"></div><p class="error visit-error" role="alert"></p>`;
    const on = (sel, fn) => { const b = box.querySelector(sel); if (b) b.onclick = fn; };
    on(".why", () => this.why(v.id));
    on(".assign", () => this.assign(v.id));
    on(".lock", () => this.visitMove(v.id, "lock"));
    on(".unlock", () => this.visitMove(v.id, "unlock"));
    on(".cancel-visit", () => this.cancelVisit(v.id));
  }

  async why(visitId) {
    const box = this.el.querySelector(".why-box");
    try {
      const x = await api("GET", `/api/visits/${visitId}/explanation`);
      box.innerHTML = x.nurses.length ? `<table><caption class="muted small">Decided ${hhmm(x.decided_at)}</caption>
        <tr><th>Nurse</th><th>ETA</th><th>Late</th></tr>${x.nurses.map((n) => `<tr><td>${n.chosen ? "▶ " : ""}${esc(n.name)}</td>
        <td>${n.eta ? hhmm(n.eta) : "cannot take it"}</td><td>${n.late_s ? Math.round(n.late_s / 60) + " min" : ""}</td></tr>`).join("")}</table>`
        : `<p class="muted">${esc(x.unassigned_reason || x.detail || "not planned yet")}</p>`;
    } catch (e) { box.innerHTML = `<p class="error">${esc(message(e))}</p>`; }
  }

  async assign(visitId) {
    const nurses = [...state.nurses.values()];
    await ask("Assign by hand", `<p class="muted">The visit stays with her through re-plans until it is released or unlocked.</p>
      <label>Nurse <select name="nurse_id">${nurses.map((n) => `<option value="${n.id}">${esc(n.name)}${n.on_duty ? "" : " (not on duty)"}</option>`).join("")}</select></label>`,
      { ok: "Assign", submit: (v) => api("POST", `/api/visits/${visitId}/assign`, { nurse_id: Number(v.nurse_id) }) });
  }

  async visitMove(visitId, move) {
    try { await api("POST", `/api/visits/${visitId}/${move}`, {}); }
    catch (e) { this.el.querySelector(".visit-error").textContent = message(e); }
  }

  async cancelVisit(visitId) {
    await ask("Cancel the visit", `<p>The nurse is told, and the call is cancelled with it.</p>
      <label>Reason <input name="reason" required minlength="3"></label>`,
      { ok: "Cancel visit", draftKey: `cancel-visit.${visitId}`, submit: (v) => api("POST", `/api/visits/${visitId}/cancel`, { reason: v.reason }) });
  }

  async cancelCall() {
    await ask(`Cancel call ${this.id}`, `<label>Reason <input name="reason" required minlength="3"></label>`,
      { ok: "Cancel call", draftKey: `cancel-call.${this.id}`,
        submit: (v) => api("POST", `/api/calls/${this.id}/transitions`, { to: "cancelled", reason: v.reason }) });
    await this.reload();
  }

  async handOver(to) {
    const v = await ask(to === "backup" ? "Hand the call to the backup team" : "Hand the call back to the region",
      `<label>Note for them (optional) <input name="reason"></label>`,
      { ok: to === "backup" ? "Hand over" : "Hand back", submit: (x) => api("POST", `/api/calls/${this.id}/handover`, { to, reason: x.reason }) });
    if (v) await this.reload();
  }

  // -- 112 and the GP post -------------------------------------------------------------------------------------
  async escalate() {
    const disposition = state.calls.get(this.id)?.triage?.disposition;
    const v = await ask("Record the call to 112 or the GP post", `
      <label>Called <select name="to"><option value="call_112" ${disposition !== "gp_post" ? "selected" : ""}>112</option>
        <option value="gp_post" ${disposition === "gp_post" ? "selected" : ""}>GP out-of-hours post</option></select></label>
      <label>At (24-hour, region time) <input name="called_at" value="${hhmm(now().toISOString())}" inputmode="numeric" pattern="[0-2]?[0-9][:.]?[0-5][0-9]"></label>
      <label>Spoke with (name, reference) <input name="contact" required minlength="2"></label>
      <label>What was agreed <textarea name="note" rows="2"></textarea></label>`,
      { ok: "Record", draftKey: `escalation.${this.id}`, submit: (x) => {
        const at = lastAt(x.called_at);
        if (!at) throw new Error("At: give the time as HH:MM (24-hour)");
        return api("POST", `/api/calls/${this.id}/escalations`, { to: x.to, contact: x.contact, note: x.note, called_at: at.toISOString() });
      } });
    if (v) await this.reload();
  }

  renderEscalations() {
    const box = this.el.querySelector(".escalations"), list = state.calls.get(this.id)?.escalations || [];
    box.hidden = !list.length;
    box.innerHTML = `<h2>Called</h2><ul class="history">${list.map((e) =>
      `<li>${e.to === "call_112" ? "112" : "GP post"} at ${hhmm(e.called_at)}: ${esc(e.contact)} (${esc(e.by)})</li>`).join("")}</ul>`;
  }

  tick() { const w = this.el.querySelector(".waited"); if (w && this.detail) w.textContent = waited(this.detail.received_at); }
}

export function init() {
  subscribe((change) => {
    if (!current) return;
    if ((change.kind === "call" && change.id === current.id) || (change.kind === "visit" && change.call === current.id)) {
      current.reload();
      if (!current.triage.active && change.kind === "call") current.triage.load();
    }
  });
  setInterval(() => current?.tick(), 1000);
}
