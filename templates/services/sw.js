{% load static %}/* Service worker for the caregiver pages: keeps the day page and its assets on the phone so that
 * visits can be logged with no signal. Visits themselves are queued by caregiver.js in IndexedDB. */
"use strict";
const CACHE = "shenxian-visits-{{ version }}";
const PAGE = "{% url 'services:caregiver_day' %}";
const ASSETS = [{% for name in assets %}"{% static name %}"{% if not forloop.last %}, {% endif %}{% endfor %}];
const TODAY_API = "/api/v1/visits/today/";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then(async (cache) => {
      await cache.addAll(ASSETS);
      try {
        const page = await fetch(PAGE, { credentials: "same-origin" });
        if (page.ok && !page.redirected) { await cache.put(PAGE, page); }
      } catch (e) { /* offline at install: the page is cached on the next visit */ }
    }).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("shenxian-visits-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

async function networkFirst(request, key) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected) { await cache.put(key, response.clone()); }
    return response;
  } catch (e) {
    const cached = await cache.match(key);
    if (cached) { return cached; }
    throw e;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") { return; }  // writes go straight to the network; the page queues them
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname === PAGE) {
    event.respondWith(networkFirst(request, PAGE));
  } else if (url.pathname === TODAY_API) {
    event.respondWith(networkFirst(request, TODAY_API));
  } else if (ASSETS.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname).then((hit) => hit || fetch(request)));
  }
});
