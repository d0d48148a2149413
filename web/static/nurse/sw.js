// nightcare nurse app service worker: the app shell works without a connection. API calls are never cached
// (health data stays off the device's cache); actions taken offline are queued by the page (app.js).
const SHELL = "nightcare-nurse-v3";
const FILES = ["/nurse/", "/nurse/app.js", "/nurse/core.js", "/nurse/card.js", "/nurse/position.js", "/nurse/app.css", "/nurse/manifest.webmanifest", "/nurse/icon.svg"];
self.addEventListener("install", (e) => e.waitUntil(caches.open(SHELL).then((c) => c.addAll(FILES))));
self.addEventListener("activate", (e) => e.waitUntil(caches.keys().then((keys) =>
  Promise.all(keys.filter((k) => k !== SHELL).map((k) => caches.delete(k))))));
self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== "GET" || !url.pathname.startsWith("/nurse/")) return;
  e.respondWith(fetch(e.request).then((r) => {
    const copy = r.clone();
    caches.open(SHELL).then((c) => c.put(e.request, copy));
    return r;
  }).catch(() => caches.match(e.request)));
});
