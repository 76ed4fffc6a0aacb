/* The caregiver's day page, offline first.
 *
 * Every check-in, check-out, emergency, photo and confirmation goes into a queue in IndexedDB first, with the
 * time and position taken on the phone at that moment, then is sent to /api/v1/visits/… when the network is
 * there: the visits waiting in a row together to /visits/sync/, photos and confirmations one by one. Each record
 * carries its own client id, so a send that is retried never makes a second record on the server. Plain script,
 * no library; without script the same forms post to the portal views.
 */
(function () {
  "use strict";

  var app = document.getElementById("caregiver-app");
  if (!app) { return; }
  var API = app.dataset.api;
  var MAX_PHOTOS = parseInt(app.dataset.maxPhotos, 10) || 3;
  var MAX_BYTES = (parseInt(app.dataset.maxPhotoMb, 10) || 5) * 1024 * 1024;
  var PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp"];
  var OPEN_KEY = "shenxian-open-visits";
  var DB_NAME = "shenxian-visits";
  var STORE = "queue";
  var syncing = false;

  /* ---------- storage ---------- */
  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(STORE, mode);
        var request = work(transaction.objectStore(STORE));
        transaction.oncomplete = function () { resolve(request ? request.result : undefined); };
        transaction.onerror = function () { reject(transaction.error); };
      });
    });
  }

  function enqueue(item) {
    item.queuedAt = new Date().toISOString();
    item.offline = !navigator.onLine;
    return withStore("readwrite", function (store) { return store.add(item); });
  }
  function queued() { return withStore("readonly", function (store) { return store.getAll(); }); }
  function drop(seq) { return withStore("readwrite", function (store) { return store.delete(seq); }); }
  function save(item) { return withStore("readwrite", function (store) { return store.put(item); }); }

  function openVisits() {
    try { return JSON.parse(localStorage.getItem(OPEN_KEY) || "{}"); } catch (e) { return {}; }
  }
  function setOpenVisit(recipient, value) {
    var all = openVisits();
    if (value) { all[recipient] = value; } else { delete all[recipient]; }
    localStorage.setItem(OPEN_KEY, JSON.stringify(all));
  }

  /* ---------- helpers ---------- */
  function uuid4() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) { return decodeURIComponent(match[1]); }
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  /* Position now, or null after a short wait: a visit is never held back for want of GPS. */
  function position(timeoutMs) {
    return new Promise(function (resolve) {
      if (!navigator.geolocation) { resolve(null); return; }
      navigator.geolocation.getCurrentPosition(
        function (p) { resolve({ lat: p.coords.latitude, lng: p.coords.longitude, accuracy: Math.round(p.coords.accuracy) }); },
        function () { resolve(null); },
        { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 60000 }
      );
    });
  }

  function say(card, text, isError) {
    var box = card.querySelector(".js-say");
    if (!box) {
      box = document.createElement("p");
      box.className = "js-say";
      box.setAttribute("role", "status");
      card.insertBefore(box, card.querySelector("form"));
    }
    box.className = "js-say " + (isError ? "error" : "saved");
    box.textContent = text;
  }

  /* ---------- sending ---------- */
  function request(item) {
    var headers = { "X-CSRFToken": csrfToken() };
    var body;
    if (item.files) {
      body = new FormData();
      Object.keys(item.body).forEach(function (k) { body.append(k, item.body[k]); });
      Object.keys(item.files).forEach(function (k) { body.append(k, item.files[k].blob, item.files[k].name); });
    } else {
      headers["Content-Type"] = "application/json";
      var payload = Object.assign({}, item.body);
      if ("offline" in payload || item.kind !== "photo") { payload.offline = item.offline || !!item.tries; }
      body = JSON.stringify(payload);
    }
    return fetch(item.url, { method: "POST", credentials: "same-origin", headers: headers, body: body });
  }

  function describe(item) {
    return { "check-in": "签到", "check-out": "签退", emergency: "紧急救援", photo: "照片", confirm: "确认" }[item.kind] || item.kind;
  }

  /* The check-ins, check-outs and emergencies waiting in a row go up together, up to BATCH in one request to
   * /visits/sync/ (one round trip on a weak signal instead of one per record); photos and confirmations carry a
   * file and go one by one, in queue order, so a photo never reaches the server before its visit. */
  var BATCH = 50;
  var BATCHED = { "check-in": true, "check-out": true, emergency: true };

  function syncItem(item) {
    if (item.files || !BATCHED[item.kind]) { return null; }
    var body = item.body;
    var out = { offline: item.offline || !!item.tries };
    if (item.kind === "check-out") {
      // records queued before batches existed name their visit only in the address
      var visit = item.visit || (item.url.match(/([0-9a-f-]{36})\/check-out\/$/) || [])[1];
      if (!visit) { return null; }
      out.client_id = visit;
      out.ended_at = body.ended_at;
      out.service_items = body.service_items;
      out.note = body.note || "";
      if (body.latitude != null) { out.checkout_latitude = body.latitude; out.checkout_longitude = body.longitude; }
      return out;
    }
    Object.keys(body).forEach(function (k) { out[k] = body[k]; });
    if (item.kind === "emergency") { out.kind = "emergency"; }
    return out;
  }

  function failed(item, detail) {
    item.failed = describe(item) + "未能上传：" + detail;
    return save(item).then(function () { return undefined; });
  }

  function sync() {
    if (syncing) { return Promise.resolve(); }
    syncing = true;
    var sentSomething = false;

    // the answer to a request that was not accepted: stop for now (with a message), or undefined to go on
    function refused(response, items) {
      if (response.status === 401 || response.status === 403) {
        return Promise.resolve({ done: false, message: "登录已过期，请重新登录后自动上传。" });
      }
      if (response.status >= 500 || response.status === 429) { return Promise.resolve({ done: false }); }
      return response.json().catch(function () { return {}; }).then(function (data) {
        return failed(items[0], data.detail || JSON.stringify(data) || response.status);
      });
    }
    function unreachable(items) {
      return Promise.all(items.map(function (item) {
        item.tries = (item.tries || 0) + 1;
        item.offline = true;
        return save(item);
      })).then(function () { return { done: false }; });
    }
    function sendOne(item) {
      return request(item).then(function (response) {
        if (response.ok) { sentSomething = true; return drop(item.seq); }
        return refused(response, [item]);
      }, function () { return unreachable([item]); });
    }
    function sendBatch(items, bodies) {
      var headers = { "X-CSRFToken": csrfToken(), "Content-Type": "application/json" };
      var sent = fetch(API + "sync/", {
        method: "POST", credentials: "same-origin", headers: headers, body: JSON.stringify({ visits: bodies })
      });
      return sent.then(function (response) {
        var status = response.status;
        if (status === 401 || status === 403 || status === 429 || status >= 500) { return refused(response, items); }
        if (!response.ok) {
          // a record the server cannot read: each goes on its own, so that only that one is held back
          return items.reduce(function (chain, item) {
            return chain.then(function (stop) { return stop || sendOne(item); });
          }, Promise.resolve());
        }
        return response.json().then(function (results) {
          return Promise.all(items.map(function (item, i) {
            var result = results[i] || {};
            if (result.outcome === "error") { return failed(item, result.detail); }
            sentSomething = true;
            return drop(item.seq);
          }));
        }).then(function () { return undefined; });
      }, function () { return unreachable(items); });
    }

    return queued().then(function (all) {
      var pending = all.filter(function (i) { return !i.failed; });
      function next(index) {
        if (index >= pending.length) { return { done: true }; }
        var bodies = [];
        while (index + bodies.length < pending.length && bodies.length < BATCH) {
          var body = syncItem(pending[index + bodies.length]);
          if (!body) { break; }
          bodies.push(body);
        }
        var step = bodies.length
          ? sendBatch(pending.slice(index, index + bodies.length), bodies)
          : sendOne(pending[index]);
        return step.then(function (stop) { return stop || next(index + (bodies.length || 1)); });
      }
      return next(0);
    }).then(function (result) {
      syncing = false;
      return render(result && result.message).then(function (left) {
        if (sentSomething && left === 0 && navigator.onLine) { window.location.reload(); }
      });
    }, function () { syncing = false; });
  }

  /* ---------- screen ---------- */
  function render(message) {
    var bar = document.getElementById("sync-bar");
    return queued().then(function (items) {
      var pending = items.filter(function (i) { return !i.failed; });
      var failed = items.filter(function (i) { return i.failed; });
      bar.hidden = items.length === 0 && navigator.onLine;
      document.getElementById("queue-count").textContent = pending.length;
      var state = document.getElementById("net-state");
      state.textContent = navigator.onLine ? "在线" : "无网络";
      state.className = "badge " + (navigator.onLine ? "ok" : "warn");
      var list = document.getElementById("queue-failed");
      list.innerHTML = "";
      if (message) { var li0 = document.createElement("li"); li0.textContent = message; list.appendChild(li0); }
      failed.forEach(function (item) {
        var li = document.createElement("li");
        li.textContent = item.failed + " ";
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "btn secondary";
        remove.textContent = "删除此条";
        remove.addEventListener("click", function () { drop(item.seq).then(function () { render(); }); });
        li.appendChild(remove);
        list.appendChild(li);
      });
      return pending.length;
    });
  }

  function showOpen(card, clientId, startedAt) {
    var checkIn = card.querySelector(".js-check-in");
    var checkOut = card.querySelector(".js-check-out");
    checkIn.hidden = !!clientId;
    checkOut.hidden = !clientId;
    checkOut.dataset.visit = clientId || "";
    var started = checkOut.querySelector(".js-started");
    if (started && startedAt) { started.textContent = "（" + new Date(startedAt).toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit" }) + " 签到）"; }
  }

  function onCheckIn(card, form) {
    var recipient = card.dataset.recipient;
    var clientId = uuid4();
    var startedAt = new Date().toISOString();
    say(card, "正在定位……");
    return position(15000).then(function (pos) {
      var body = { client_id: clientId, recipient: parseInt(recipient, 10), started_at: startedAt };
      if (pos) { body.latitude = pos.lat; body.longitude = pos.lng; body.accuracy_m = pos.accuracy; }
      return enqueue({ kind: "check-in", url: API + "check-in/", body: body }).then(function () {
        setOpenVisit(recipient, { id: clientId, startedAt: startedAt });
        showOpen(card, clientId, startedAt);
        say(card, pos ? "已签到（已记录位置）。" : "已签到，但未取得定位。");
      });
    });
  }

  function signatureBlob(form) {
    var canvas = form.querySelector("canvas.js-sign");
    if (!canvas || !canvas.dataset.signed) { return Promise.resolve(null); }
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/png"); });
  }

  function onCheckOut(card, form) {
    var clientId = form.dataset.visit;
    var items = Array.prototype.map.call(form.querySelectorAll("input[name=service_items]:checked"), function (i) { return i.value; });
    if (!items.length) { say(card, "请至少选择一项服务项目。", true); return Promise.resolve(); }
    var photos = Array.prototype.slice.call((form.querySelector("input[name=photos]") || {}).files || []);
    if (photos.length > MAX_PHOTOS) { say(card, "最多上传 " + MAX_PHOTOS + " 张照片。", true); return Promise.resolve(); }
    for (var i = 0; i < photos.length; i++) {
      if (PHOTO_TYPES.indexOf(photos[i].type) < 0) { say(card, "只能上传 JPEG、PNG 或 WebP 照片。", true); return Promise.resolve(); }
      if (photos[i].size > MAX_BYTES) { say(card, "照片 " + photos[i].name + " 太大。", true); return Promise.resolve(); }
    }
    var endedAt = new Date().toISOString();
    var note = form.querySelector("textarea[name=note]").value;
    var codeField = form.querySelector("input[name=code]");
    var base = API + clientId + "/";
    return Promise.all([position(8000), signatureBlob(form)]).then(function (got) {
      var pos = got[0], signature = got[1];
      var body = { ended_at: endedAt, service_items: items, note: note };
      if (pos) { body.latitude = pos.lat; body.longitude = pos.lng; }
      var chain = enqueue({ kind: "check-out", url: base + "check-out/", visit: clientId, body: body });
      photos.forEach(function (file) {
        chain = chain.then(function () {
          return enqueue({ kind: "photo", url: base + "photos/", body: { client_id: uuid4() }, files: { image: { blob: file, name: file.name } } });
        });
      });
      if (codeField && codeField.value) {
        chain = chain.then(function () { return enqueue({ kind: "confirm", url: base + "confirm/", body: { code: codeField.value }, files: {} }); });
      } else if (signature) {
        chain = chain.then(function () {
          return enqueue({ kind: "confirm", url: base + "confirm/", body: {}, files: { signature: { blob: signature, name: "signature.png" } } });
        });
      }
      return chain.then(function () {
        setOpenVisit(card.dataset.recipient, null);
        showOpen(card, null);
        form.reset();
        say(card, navigator.onLine ? "已签退，正在上传……" : "已签退，记录保存在手机上，联网后自动上传。");
      });
    });
  }

  function onEmergency(card, form) {
    var startedAt = new Date().toISOString();
    var what = form.querySelector("[name=what]").value.trim();
    var called = form.querySelector("[name=called]").value.trim();
    if (!what || !called) { say(card, "请填写经过和已联系的人。", true); return Promise.resolve(); }
    return position(8000).then(function (pos) {
      var body = { client_id: uuid4(), recipient: parseInt(card.dataset.recipient, 10), started_at: startedAt, what: what, called: called };
      if (pos) { body.latitude = pos.lat; body.longitude = pos.lng; }
      return enqueue({ kind: "emergency", url: API + "emergency/", body: body }).then(function () {
        form.reset();
        form.closest("details").open = false;
        say(card, "紧急救援已记录。");
      });
    });
  }

  function setUpSignature(canvas) {
    var ctx = canvas.getContext("2d");
    var drawing = false;
    ctx.lineWidth = 2.5;
    ctx.lineCap = "round";
    function point(e) {
      var r = canvas.getBoundingClientRect();
      return { x: (e.clientX - r.left) * canvas.width / r.width, y: (e.clientY - r.top) * canvas.height / r.height };
    }
    canvas.addEventListener("pointerdown", function (e) { drawing = true; var p = point(e); ctx.beginPath(); ctx.moveTo(p.x, p.y); canvas.setPointerCapture(e.pointerId); });
    canvas.addEventListener("pointermove", function (e) { if (!drawing) { return; } var p = point(e); ctx.lineTo(p.x, p.y); ctx.stroke(); canvas.dataset.signed = "1"; });
    canvas.addEventListener("pointerup", function () { drawing = false; });
    var clear = canvas.parentNode.querySelector(".js-sign-clear");
    if (clear) { clear.addEventListener("click", function () { ctx.clearRect(0, 0, canvas.width, canvas.height); delete canvas.dataset.signed; }); }
    var file = canvas.parentNode.querySelector(".js-sign-file");
    if (file) { file.hidden = true; }
  }

  function wire(card) {
    var open = openVisits()[card.dataset.recipient];
    if (card.dataset.open) { showOpen(card, card.dataset.open); }
    else if (open) { showOpen(card, open.id, open.startedAt); }
    [[".js-check-in", onCheckIn], [".js-check-out", onCheckOut], [".js-emergency", onEmergency]].forEach(function (pair) {
      var form = card.querySelector(pair[0]);
      if (!form) { return; }
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var button = form.querySelector("button[type=submit]");
        button.disabled = true;
        pair[1](card, form).then(function () { return sync(); }, function (err) { say(card, "保存失败：" + err, true); })
          .then(function () { button.disabled = false; });
      });
    });
    Array.prototype.forEach.call(card.querySelectorAll("canvas.js-sign"), setUpSignature);
  }

  if (!("indexedDB" in window) || !window.Promise || !window.fetch) { return; } // plain forms still work
  Array.prototype.forEach.call(document.querySelectorAll(".visit-card"), wire);
  document.getElementById("sync-now").addEventListener("click", function () { sync(); });
  window.addEventListener("online", function () { sync(); });
  window.addEventListener("offline", function () { render(); });
  setInterval(function () { if (navigator.onLine) { sync(); } }, 30000);
  render().then(function () { if (navigator.onLine) { sync(); } });

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(app.dataset.sw, { scope: app.dataset.scope }).catch(function () { /* page still works online */ });
  }
}());
