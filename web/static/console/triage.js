// Triage, keyboard first: the entry complaint (type to narrow, a number or Enter to choose), then the protocol
// question by question in the same place (number keys answer, Backspace goes back), then the outcome with the
// advice to read to the caller written out in full — what happens, the steps to read and tick off one by one (S), and
// the safety net; D accepts it, O overrides it (or decides before the protocol's outcome) with a reason, C raises
// the call to 112 on the operator's concern. A refusal of any of these is said where the operator is looking (role
// alert); one that needs the client named puts the cursor in the client search. A call to 112 or the GP post is
// recorded without a name: what needs her (the nurse, her own team) waits for it, and the outcome says so.
import { api, message } from "./api.js";
import { $, esc, hhmm, label } from "./util.js";
import { ask } from "./dialog.js";

const SIGNALS = {
  second_call_24h: "second call within 24 h", severe_pain_or_anxiety: "severe pain or anxiety",
  rapid_deterioration: "rapid deterioration", operator_concern: "something is wrong (operator's concern)",
  known_high_risk: "known high risk (client record)",
};
const DETECTED = new Set(["second_call_24h", "known_high_risk"]);  // set by the service, not by the operator
const FOLLOW_UP = { day_task: "a task for her own team in the morning", gp_notification: "the GP post is notified" };

// The advice as read: message lines, the numbered steps (ticked off one by one), then the safety net.
function adviceParts(text) {
  const lines = (text || "").split("\n"), steps = [], before = [], after = [];
  for (const line of lines) {
    const m = /^(\d+)\. (.*)$/.exec(line);
    if (m) steps.push(m[2]); else (steps.length ? after : before).push(line);
  }
  return { message: before.join(" "), steps, safetyNet: after.join(" ") };
}
const ticked = {
  get(callId) { try { return JSON.parse(sessionStorage.getItem(`steps.${callId}`) || "[]"); } catch { return []; } },
  set(callId, list) { sessionStorage.setItem(`steps.${callId}`, JSON.stringify(list)); },
};
function adviceHtml(text, callId) {
  const { message: msg, steps, safetyNet } = adviceParts(text);
  const done = new Set(ticked.get(callId));
  const next = steps.findIndex((_, i) => !done.has(i));
  return `<p class="advice">${esc(msg)}</p>
    ${steps.length ? `<ol class="steps" aria-label="Steps to read to the caller">${steps.map((t, i) =>
      `<li class="${done.has(i) ? "done" : ""}${i === next ? " next" : ""}"><label><input type="checkbox" data-step="${i}" ${done.has(i) ? "checked" : ""}> ${esc(t)}</label></li>`).join("")}</ol>
      <p class="muted small"><kbd>S</kbd> ticks the next step read</p>` : ""}
    ${safetyNet ? `<p class="safety-net"><strong>If things change:</strong> ${esc(safetyNet)}</p>` : ""}`;
}
const DISPOSITION_LABEL = { call_112: "call 112", gp_post: "GP out-of-hours post", nurse_visit: "nurse visit",
  defer_to_day: "the client's day team", advice: "advice by phone" };

let protocol = null;  // the protocol in use: its complaints, and which dispositions fit each urgency (the service's)
export async function complaints() {
  protocol = protocol || await api("GET", "/api/protocols/current");
  return protocol;
}

// The triage panel of one call. `box` is its section; `refresh` is called after every change it makes;
// `findClient` puts the cursor where the client is named (a refusal for want of her name, a nurse waiting for it).
export class Triage {
  constructor(box, call, refresh, findClient = () => {}) {
    this.box = box; this.call = call; this.refresh = refresh; this.findClient = findClient;
    this.run = null; this.picking = false; this.filter = ""; this.highlight = 0; this.busy = false; this.error = "";
  }

  get waiting() { return this.run?.decision?.waiting_for_client || []; }  // what waits for the client's name

  async load() {
    try { this.run = await api("GET", `/api/calls/${this.call.id}/triage`); }
    catch (e) { if (e.status !== 404) throw e; this.run = null; }
    this.render();
  }

  get question() { return this.run && this.run.state === "in_progress" && this.run.step.type === "question" ? this.run.step : null; }
  get outcome() { return this.run && this.run.state === "in_progress" && this.run.step.type === "outcome" ? this.run.step : null; }
  get active() { return this.picking || Boolean(this.question || this.outcome); }

  async start() {  // T
    if (this.run?.state === "in_progress") return;
    await complaints();
    this.picking = true; this.filter = ""; this.highlight = 0;
    this.render();
    this.box.querySelector(".complaint-filter")?.focus();
  }

  visibleComplaints() {
    const f = this.filter.trim().toLowerCase();
    return (protocol?.complaints || []).filter((c) => !f || c.title.toLowerCase().includes(f) || c.id.includes(f));
  }

  async pick(complaint) {
    await this.act(() => api("POST", `/api/calls/${this.call.id}/triage`, { complaint: complaint.id }));
    this.picking = false;
    this.render();
    this.box.closest("#call")?.focus();
  }

  async answer(n) {  // number keys
    if (this.picking) { const c = this.visibleComplaints()[n - 1]; if (c) await this.pick(c); return true; }
    const q = this.question;
    if (!q || !q.answers[n - 1]) return false;
    await this.act(() => api("POST", `/api/calls/${this.call.id}/triage/answers`, { node: q.node, answer: q.answers[n - 1].id }));
    return true;
  }

  async back() {  // Backspace
    if (!this.run || this.run.state !== "in_progress" || !this.run.answers.length) return false;
    await this.act(() => api("POST", `/api/calls/${this.call.id}/triage/back`));
    return true;
  }

  async toggleSignal(signal) {
    const now = new Set(this.run.signals.filter((s) => !DETECTED.has(s)));
    if (now.has(signal)) now.delete(signal); else now.add(signal);
    await this.act(() => api("PUT", `/api/calls/${this.call.id}/triage/signals`, { signals: [...now] }));
  }

  async decide(override = null) {  // D, or O with an override
    if (!this.outcome) return false;
    await this.act(() => api("POST", `/api/calls/${this.call.id}/triage/decision`, override || {}));
    return true;
  }

  tickNext() {  // S: the next pre-arrival step has been read to the caller
    const text = this.outcome ? this.outcome.advice : this.run?.decision?.advice_given;
    const { steps } = adviceParts(text);
    const done = ticked.get(this.call.id);
    const next = steps.findIndex((_, i) => !done.includes(i));
    if (next < 0) return false;
    ticked.set(this.call.id, [...done, next]);
    this.render();
    return true;
  }

  async concern() {  // C: "something is wrong": 112 and a nurse, with the operator's reason
    if (!this.run || this.run.state !== "in_progress") return false;
    const values = await ask("Concern: send an ambulance (112)", `
      <p>Your concern raises this call to <strong>U1</strong>: 112, and a night nurse as well.${this.question
        ? " The protocol's remaining questions are skipped (counted for the protocol's review)." : ""}</p>
      <label>Why are you concerned? <textarea name="reason" rows="2"></textarea></label>`, {
      draftKey: `concern.${this.call.id}`, ok: "Raise to 112",
      submit: async (v) => {
        if (!v.reason.trim()) throw new Error("Say why you are concerned: the reason is kept with the call.");
        if (this.question) {
          this.run = await api("POST", `/api/calls/${this.call.id}/triage/decision`, { urgency: "U1", disposition: "call_112", reason: v.reason });
        } else {
          this.run = await api("PUT", `/api/calls/${this.call.id}/triage/signals`,
            { signals: this.run.signals.filter((s) => !DETECTED.has(s)), concern_to_112_reason: v.reason });
        }
      },
    });
    if (values) { this.error = ""; this.render(); this.refresh(); this.afterDecision(); }
    return true;
  }

  afterDecision() { if (this.waiting.length) this.findClient(); }

  async override() {  // O: an override of the outcome, or a decision before the protocol reached one
    const o = this.outcome, q = this.question;
    if (!o && !q) return false;
    const fits = (await complaints()).dispositions_for;
    const current = o ? o.urgency : "U3";
    const values = await ask(o ? "Override the outcome" : "Decide before the protocol's outcome", `
      ${o ? `<p>The protocol says <strong>${esc(o.urgency)}</strong>, ${esc(DISPOSITION_LABEL[o.disposition] || o.disposition)}.</p>`
        : `<p>The protocol still has at least ${q.remaining} question(s) to ask; deciding now skips them (counted for the protocol's review).</p>`}
      <label>Urgency <select name="urgency">${Object.entries(fits).map(([u, ds]) => `<option value="${u}" ${u === current ? "selected" : ""}>${u} — ${esc(ds.map((d) => DISPOSITION_LABEL[d] || d).join(" or "))}</option>`).join("")}</select></label>
      <label>Disposition <select name="disposition"></select></label>
      <label>Reason ${o ? "(needed when lowering the urgency)" : "(needed)"} <textarea name="reason" rows="2"></textarea></label>`, {
      draftKey: `override.${this.call.id}`,
      setup(form) {
        const urgency = form.querySelector("[name=urgency]"), disposition = form.querySelector("[name=disposition]");
        const fillDispositions = () => {
          disposition.innerHTML = fits[urgency.value].map((d) => `<option value="${d}">${esc(DISPOSITION_LABEL[d])}</option>`).join("");
        };
        urgency.addEventListener("change", fillDispositions); fillDispositions();
      },
      submit: async (v) => {
        await api("POST", `/api/calls/${this.call.id}/triage/decision`, { urgency: v.urgency, disposition: v.disposition, reason: v.reason });
      },
    });
    if (values) { this.error = ""; await this.load(); this.refresh(); this.afterDecision(); }
    return true;
  }

  wireSteps() {
    for (const cb of this.box.querySelectorAll("[data-step]")) {
      cb.onchange = () => {
        const i = Number(cb.dataset.step), done = ticked.get(this.call.id).filter((x) => x !== i);
        ticked.set(this.call.id, cb.checked ? [...done, i] : done);
        this.render();
      };
    }
  }

  // Every action of the panel: a refusal stays on screen (in whichever view is drawn next) until the next action.
  async act(request) {
    if (this.busy) return;
    this.busy = true;
    let refusal = null;
    try { this.run = await request(); this.error = ""; }
    catch (e) { refusal = e; this.error = message(e); }
    finally { this.busy = false; }
    this.render();
    this.refresh();
    if (refusal?.body?.field === "client_id") this.findClient();
    else if (!refusal && this.run?.decision) this.afterDecision();
  }

  errorHtml() { return `<p class="error triage-error" role="alert">${esc(this.error)}</p>`; }

  render() {
    const r = this.run, box = this.box;
    if (this.picking) {
      const list = this.visibleComplaints();
      this.highlight = Math.min(this.highlight, Math.max(0, list.length - 1));
      if (!box.querySelector(".complaint-filter")) {
        box.innerHTML = `<h2>Triage: what is the call about?</h2>
          <label>Entry complaint <input class="complaint-filter" placeholder="type to narrow, Enter or a number to choose" autocomplete="off"></label>
          <ol class="results complaints" aria-label="Entry complaints" tabindex="0"></ol>${this.errorHtml()}`;
        const input = box.querySelector(".complaint-filter");
        input.addEventListener("input", () => { this.filter = input.value; this.highlight = 0; this.render(); });
        input.addEventListener("keydown", (ev) => {
          const shown = this.visibleComplaints();
          if (ev.key === "ArrowDown") { this.highlight = Math.min(shown.length - 1, this.highlight + 1); this.render(); ev.preventDefault(); }
          else if (ev.key === "ArrowUp") { this.highlight = Math.max(0, this.highlight - 1); this.render(); ev.preventDefault(); }
          else if (ev.key === "Enter") { ev.preventDefault(); if (shown[this.highlight]) this.pick(shown[this.highlight]); }
          else if (/^[1-9]$/.test(ev.key) && !input.value) { ev.preventDefault(); const c = shown[Number(ev.key) - 1]; if (c) this.pick(c); }
          else if (ev.key === "Escape") { this.picking = false; this.render(); }
        });
      }
      box.querySelector(".triage-error").textContent = this.error;
      box.querySelector(".complaints").innerHTML = list.map((c, i) =>
        `<li class="${i === this.highlight ? "active" : ""}" data-i="${i}">${i < 9 ? `<kbd>${i + 1}</kbd> ` : ""}${esc(c.title)}</li>`).join("");
      for (const li of box.querySelectorAll(".complaints li")) li.onclick = () => this.pick(list[Number(li.dataset.i)]);
      return;
    }
    if (!r) {
      box.innerHTML = `<h2>Triage</h2><p class="muted">Not triaged yet.</p>
        <button type="button" class="start-triage">Start triage <kbd>T</kbd></button>${this.errorHtml()}`;
      box.querySelector(".start-triage").onclick = () => this.start();
      return;
    }
    const trail = r.answers.length
      ? `<ol class="trail">${r.answers.map((a) => `<li>${esc(a.question)} — <strong>${esc(a.label)}</strong></li>`).join("")}</ol>` : "";
    const head = `<h2>Triage: ${esc(r.complaint.title)} <span class="muted small">(${esc(r.protocol.id)} v${r.protocol.version}${r.state !== "in_progress" ? ", " + esc(r.state) : ""})</span></h2>`;
    if (this.question) {
      const q = this.question;
      box.innerHTML = `${head}<div class="step" aria-live="polite">
        ${q.abcd ? '<p class="muted small">Safety first (ABCD)</p>' : ""}
        <p class="question">${esc(q.question)}</p>
        <ol class="answers">${q.answers.map((a, i) => `<li><button type="button" data-n="${i + 1}"><kbd>${i + 1}</kbd>${esc(a.label)}</button></li>`).join("")}</ol>
        </div><p class="muted small">${r.answers.length ? "<kbd>Backspace</kbd> takes the last answer back · " : ""}<kbd>O</kbd> decides now · <kbd>C</kbd> concern: 112</p>
        ${this.errorHtml()}${trail}`;
      for (const b of box.querySelectorAll(".answers button")) b.onclick = () => this.answer(Number(b.dataset.n));
      return;
    }
    if (this.outcome) {
      const o = this.outcome;
      box.innerHTML = `${head}<div class="outcome" aria-live="polite">
        <p class="big"><span class="urgency ${esc(o.urgency)}">${esc(o.urgency)}</span> ${esc(DISPOSITION_LABEL[o.disposition] || o.disposition)}
          ${o.also_send_nurse ? " and a nurse" : ""}</p>
        <p class="muted">${o.skills?.length ? "Skills: " + esc(o.skills.join(", ")) + " · " : ""}${o.service_minutes} min at the client</p>
        ${o.flags?.includes("senior_review") ? '<p class="flag" role="alert">Second call within 24 h about an urgent outcome: the senior triage nurse reviews this call.</p>' : ""}
        ${r.concern_reason ? `<p class="flag">Operator's concern: ${esc(r.concern_reason)}</p>` : ""}
        <h3>Read to the caller</h3>${adviceHtml(o.advice, this.call.id)}
        ${o.follow_up?.length ? `<p class="muted small">Follow-up: ${o.follow_up.map((f) => esc(FOLLOW_UP[f] || f)).join("; ")}</p>` : ""}
        ${o.explanation?.length > 1 ? `<details class="why"><summary>Why this outcome</summary><ul>${o.explanation.map((e) => `<li>${esc(e)}</li>`).join("")}</ul></details>` : ""}
        <div class="signals" role="group" aria-label="Alarm signals">${Object.entries(SIGNALS).map(([s, text]) =>
          `<label><input type="checkbox" data-signal="${s}" ${r.signals.includes(s) ? "checked" : ""} ${DETECTED.has(s) ? "disabled" : ""}> ${esc(text)}</label>`).join("")}</div>
        <div class="actions"><button type="button" class="decide">Accept outcome <kbd>D</kbd></button>
          <button type="button" class="override ghost">Override… <kbd>O</kbd></button>
          ${o.disposition !== "call_112" ? '<button type="button" class="concern ghost">Concern: 112… <kbd>C</kbd></button>' : ""}</div>
        </div>${this.errorHtml()}${trail}`;
      box.querySelector(".decide").onclick = () => this.decide();
      box.querySelector(".override").onclick = () => this.override();
      const concern = box.querySelector(".concern");
      if (concern) concern.onclick = () => this.concern();
      this.wireSteps();
      for (const cb of box.querySelectorAll("[data-signal]")) cb.onchange = () => this.toggleSignal(cb.dataset.signal);
      return;
    }
    const d = r.decision;
    box.innerHTML = `${head}${d ? `<div class="outcome">
        <p class="big"><span class="urgency ${esc(d.urgency)}">${esc(d.urgency)}</span> ${esc(DISPOSITION_LABEL[d.disposition] || d.disposition)}
          <span class="muted small">decided ${hhmm(d.decided_at)} by ${esc(d.decided_by)}</span></p>
        ${d.override_reason ? `<p>Override: ${esc(d.override_reason)}</p>` : ""}
        ${d.visit ? `<p>Visit ${d.visit.id}: ${esc(label(d.visit.state))}, target ${hhmm(d.visit.deadline)}</p>` : ""}
        ${this.waiting.length ? `<p class="flag waiting-for-client" role="alert">${d.disposition === "call_112" ? "112 called" : "The GP post is called"}:
          identify the client to ${esc(this.waiting.join(" and "))} <kbd>/</kbd></p>` : ""}
        <h3>Read to the caller</h3>${adviceHtml(d.advice_given, this.call.id)}
        ${d.gp_notifications?.length ? `<p class="muted small">GP post notified ${d.gp_notifications.map((n) => hhmm(n.created_at)).join(", ")}</p>` : ""}
        <p class="muted small">${d.questions_asked} question(s) asked${d.questions_skipped ? `, ${d.questions_skipped} skipped` : ""}${d.dont_know ? `, ${d.dont_know} "don't know"` : ""}</p>
      </div>` : '<p class="muted">Superseded by a later run.</p>'}
      ${["triaged", "queued"].includes(this.call.state) ? '<button type="button" class="start-triage ghost">Triage again <kbd>T</kbd></button>' : ""}
      ${this.errorHtml()}${trail}`;
    this.wireSteps();
    const again = box.querySelector(".start-triage");
    if (again) again.onclick = () => { this.run = null; this.start(); };
  }
}
