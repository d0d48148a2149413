// The service's public HTTP API, with the operator's token. A refusal carries the service's {error, detail,
// field}; no connection is its own error, so that what the operator typed is kept and can be sent again.
// Each page keeps its own login (a partner's portal and an operator's console may be open side by side).
const PAGE_TOKENS = { "/partner": "nc.partner.token", "/insight": "nc.insight.token" };
const TOKEN = Object.entries(PAGE_TOKENS).find(([page]) => location.pathname.startsWith(page))?.[1] || "nc.console.token";
export class Offline extends Error {}
export class Refused extends Error {
  constructor(status, body) { super(body?.detail || `HTTP ${status}`); this.status = status; this.body = body || {}; }
}
export const token = { get: () => localStorage.getItem(TOKEN), set: (t) => localStorage.setItem(TOKEN, t), del: () => localStorage.removeItem(TOKEN) };
let onUnauthorized = () => {};
export function whenUnauthorized(fn) { onUnauthorized = fn; }

export async function api(method, path, body, { form = false } = {}) {
  const headers = {};
  const t = token.get();
  if (t) headers.Authorization = "Bearer " + t;
  let payload;
  if (form) payload = new URLSearchParams(body);
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  let r;
  try { r = await fetch(path, { method, headers, body: payload, cache: "no-store" }); }
  catch { throw new Offline("no connection to the service"); }
  const data = r.status === 204 ? null : await r.json().catch(() => ({}));
  if (r.status === 401 && t && !path.startsWith("/api/auth/token")) { onUnauthorized(); }
  if (!r.ok) throw new Refused(r.status, data);
  return data;
}
export const message = (e) => e?.body?.detail || e?.message || String(e);

// A page's login form: the token is kept only for the roles the page is for; a refusal is said in `errorBox`.
export function loginForm(form, errorBox, { roles, refusal, start }) {
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    errorBox.textContent = "";
    try {
      const t = await api("POST", "/api/auth/token", { username: f.get("username"), password: f.get("password") }, { form: true });
      if (!roles.includes(t.role)) { errorBox.textContent = refusal; return; }
      token.set(t.access_token);
      await start();
    } catch (e) { errorBox.textContent = message(e); }
  });
}

// A page behind one login (the partner portal, insight): the login section or the page's main section, a log-out
// button, and a page that starts again from a kept token. Returns show(loggedIn) for the page's own use.
export function signIn({ main, roles, refusal, start }) {
  const show = (loggedIn) => {
    document.querySelector("#login").hidden = loggedIn; main.hidden = !loggedIn;
    document.querySelector("#logout").hidden = !loggedIn;
    if (!loggedIn) document.querySelector("#login input[name=username]").focus();
  };
  loginForm(document.querySelector("#login-form"), document.querySelector("#login-error"), { roles, refusal, start });
  document.querySelector("#logout").onclick = async () => {
    try { await api("POST", "/api/auth/logout"); } catch { /* gone already */ }
    token.del(); show(false);
  };
  if (token.get()) start().catch(() => { token.del(); show(false); });
  else show(false);
  return show;
}
