// The portal's words for what the service records in codes: amounts of money, and the access log's audit actions
// (the raw action stays available in a title attribute, for whoever needs to match it with the service's log).

// Euros as the region writes them in English: € 42,000.00.
const EURO = new Intl.NumberFormat("en-GB", { style: "currency", currency: "EUR" });
export const money = (value) => (value == null || value === "" || Number.isNaN(Number(value)) ? "—" : EURO.format(Number(value)));

const ACTION = { read: "Read {}", list: "Saw {} in a list", search: "Found {} in a search", update: "Changed {}",
  create: "Added {}", push: "Sent {}", reveal: "Revealed {}", import: "Imported {}", identify: "Identified {}",
  triage: "Triaged {}" };
const DATA = {
  "client": "her record", "client.record": "her record", "client.identity": "her name and address",
  "client.summary": "the summary from your record system", "client.night": "her record on the night board",
  "client.consent": "her consent", "client (import)": "her record (client import)", "clients.csv": "a client list (CSV)",
  "call": "a call about her", "call.triage": "the triage of a call about her", "call.client": "who a call is about",
  "visit": "a visit to her", "visit.record": "a visit's record", "visit.brief": "the nurse's brief for a visit",
  "visit.materials": "the materials used on a visit", "visit.address": "her address", "observations": "observations (NEWS2)",
  "keysafe": "the key safe code", "day_task": "a day task", "handover": "the night's handover",
  "board": "the dispatch board", "board.call": "a call about her", "assignment.decision": "the planner's choice of nurse",
};
// Some pairs say more in words of their own.
const PAIR = {
  "push visit.address": "Her address sent to the nurse's phone",
  "push handover": "The night's handover sent to your record system",
  "push board.call": "A call about her shown to the dispatchers",
  "list board": "Shown on the dispatch board",
  "identify call.client": "Identified as the client a call is about",
  "search client.identity": "Her name and address shown in a search",
  "triage call.triage": "Triaged a call about her",
};
// A visit's moves (action "visit.<move>").
const MOVE = { create: "Visit planned", update: "Visit changed", offer: "Visit offered to a nurse", withdraw: "Visit offer withdrawn",
  assign: "Visit given to a nurse", release: "Visit handed back to the planner", lock: "Visit kept with its nurse",
  unlock: "Visit free to be re-planned", accept: "Visit accepted by the nurse", decline: "Visit declined by a nurse",
  unanswered: "Visit offer not answered in time", en_route: "Nurse on her way", on_scene: "Nurse arrived",
  complete: "Visit completed", cancel: "Visit cancelled" };
const words = (code) => String(code || "").replace(/[._]/g, " ");
const capital = (text) => text.charAt(0).toUpperCase() + text.slice(1);

// An audit entry's action and data in plain words.
export function accessWhat(action, data) {
  const [base, detail] = String(data || "").split(/:(.*)/s);
  const fields = detail ? ` (${detail.split(",").map(words).join(", ")})` : "";
  if (PAIR[`${action} ${base}`]) return PAIR[`${action} ${base}`] + fields;
  if (String(action).startsWith("visit.")) {
    const move = action.slice("visit.".length);
    return MOVE[move] || `Visit: ${words(move)}`;
  }
  return (ACTION[action] || `${capital(words(action))} {}`).replace("{}", DATA[base] || words(base)) + fields;
}
