/* Long work (roster import, settlement, exports) runs in the background; its page polls where it has got
   to and reloads when it is done. Markup: <div data-progress-url="..."> with a <progress> and an output. */
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box) { return; }
  var bar = box.querySelector("progress");
  var text = box.querySelector("output");
  var url = box.getAttribute("data-progress-url");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (p) {
        if (p.total) { bar.max = p.total; bar.value = p.done; }
        text.textContent = p.status_display + (p.total ? "：" + p.done + " / " + p.total : "");
        if (p.running) { window.setTimeout(poll, 1000); } else { window.location.reload(); }
      })
      .catch(function () { text.textContent = "网络不稳定，正在重试…"; window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
