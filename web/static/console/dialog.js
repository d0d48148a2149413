// One modal dialog for every question the console asks (a reason, an override, a nurse): its fields are kept
// as drafts until the service has accepted them, and a refusal is shown in the dialog with the field named.
import { $, drafts } from "./util.js";
import { message } from "./api.js";

export function ask(title, html, { submit, setup, draftKey, ok = "OK" } = {}) {
  const dialog = $("#dialog"), form = $("#dialog-form"), body = $("#dialog-body"), error = $("#dialog-error");
  $("#dialog-title").textContent = title;
  $("#dialog-ok").textContent = ok;
  body.innerHTML = html;
  error.textContent = "";
  if (setup) setup(form);
  const fields = [...body.querySelectorAll("input, textarea, select")];
  const saved = draftKey ? drafts.get(draftKey) : "";
  // Restored in order, each choice told to the fields that follow it (an urgency fills its dispositions before the
  // kept disposition is chosen among them).
  for (const f of fields) {
    if (saved && saved[f.name] !== undefined && f.type !== "checkbox") {
      f.value = saved[f.name];
      if (f.tagName === "SELECT" && f.selectedIndex < 0) f.selectedIndex = 0;  // a kept choice no longer offered
      if (f.tagName === "SELECT") f.dispatchEvent(new Event("change"));
    }
    f.addEventListener("input", () => draftKey && drafts.set(draftKey, values()));
  }
  function values() { return Object.fromEntries(fields.map((f) => [f.name, f.type === "checkbox" ? f.checked : f.value])); }
  return new Promise((resolve) => {
    const close = (result) => {
      dialog.close(); form.onsubmit = null; $("#dialog-cancel").onclick = null; dialog.onclose = null; resolve(result);
    };
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      const v = values();
      try {
        if (submit) await submit(v);
        if (draftKey) drafts.del(draftKey);
        close(v);
      } catch (e) {
        error.textContent = message(e);
        const field = e?.body?.field && body.querySelector(`[name="${e.body.field.split(".")[0]}"]`);
        if (field) field.focus();
      }
    };
    $("#dialog-cancel").onclick = () => close(null);
    dialog.onclose = () => resolve(null);
    dialog.showModal();
    (fields.find((f) => f.tagName !== "SELECT") || fields[0] || $("#dialog-ok")).focus();
  });
}
