/* The monitoring dashboard: draws the JSON from dashboard.json as cards, bar charts and tables, and fetches it
 * again every 30 seconds with the page's filters. Today's visits by town and the providers' compliance are
 * Chart.js charts (portal/charts.js) over tables the server rendered: both are refreshed in place, the charts
 * created once. Everything else is rebuilt each time, with textContent. While the month's figures are being
 * computed by a worker (month_pending: a costly view no one had open, or one whose cost is not known), they read
 * 计算中… and the page asks again within seconds. */
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root) { return; }
  var REFRESH_MS = 30000;
  var PENDING_MS = 3000;  // while the month's figures are being computed (month_pending), ask again this soon
  var PENDING = "计算中…";
  var soon = null;
  var charts = window.PortalCharts;  // absent if Chart.js did not load: the tables still refresh

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else if (k === "cls") { node.className = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function kpi(label, value, warn) {
    var text = value == null ? PENDING : String(value);  // null: a month figure still being computed
    return el("div", { cls: "card" }, [el("span", { cls: "value" + (warn ? " error" : ""), text: text }), el("span", { cls: "muted", text: label })]);
  }

  /* The filled part of a bar. Its width goes through the CSSOM: a style="" attribute, even one set from script,
   * is refused by the Content-Security-Policy (style-src 'self'). */
  function fill(percent) {
    var node = el("span");
    node.style.width = percent + "%";
    return node;
  }

  function bars(title, rows, valueOf, labelOf, empty) {
    var max = 1;
    rows.forEach(function (r) { max = Math.max(max, valueOf(r)); });
    var list = el("ul", { cls: "bars" });
    rows.forEach(function (r) {
      var v = valueOf(r);
      list.appendChild(el("li", {}, [
        el("span", { text: labelOf(r), title: labelOf(r) }),
        el("span", { cls: "bar", role: "img", "aria-label": labelOf(r) + " " + v }, [fill(Math.round(v * 100 / max))]),
        el("span", { cls: "num", text: String(v) })
      ]));
    });
    if (!rows.length) { list.appendChild(el("li", { cls: "muted", text: empty || "暂无数据" })); }
    return el("section", { cls: "card" }, [el("h2", { text: title }), list]);
  }

  function table(title, headers, rows, cellsOf, note, empty) {
    var head = el("tr", {}, headers.map(function (h) { return el("th", { text: h }); }));
    var body = el("tbody");
    rows.forEach(function (r) { body.appendChild(el("tr", {}, cellsOf(r).map(function (c) { return c instanceof Node ? el("td", {}, [c]) : el("td", { text: c == null ? "" : String(c) }); }))); });
    if (!rows.length) { body.appendChild(el("tr", {}, [el("td", { colspan: String(headers.length), cls: "muted", text: empty || "暂无" })])); }
    return el("section", { cls: "card" }, [
      el("h2", { text: title }),
      note ? el("p", { cls: "muted", text: note }) : null,
      el("div", { cls: "table-wrap" }, [el("table", {}, [el("thead", {}, [head]), body])])
    ]);
  }

  /* A chart figure of the page: its table body and, where Chart.js is there, its chart (made on first use). */
  function figure(id, options) {
    var node = document.getElementById(id);
    return {
      body: node.querySelector("tbody"),
      columns: node.querySelectorAll("thead th").length,
      canvas: node.querySelector("canvas"),
      chart: null,
      options: options
    };
  }

  function refreshFigure(fig, rows, labelOf, valueOf, cellsOf, colorOf, empty) {
    fig.body.textContent = "";
    rows.forEach(function (r) {
      fig.body.appendChild(el("tr", {}, cellsOf(r).map(function (c, i) { return el("td", { cls: i ? "num" : "", text: String(c) }); })));
    });
    if (!rows.length) { fig.body.appendChild(el("tr", {}, [el("td", { colspan: String(fig.columns), cls: "muted", text: empty || "暂无" })])); }
    if (!charts) { return; }
    if (!fig.chart) { fig.chart = charts.bars(fig.canvas, fig.options); }
    charts.update(fig.chart, rows.map(labelOf), rows.map(valueOf), colorOf ? rows.map(colorOf) : null);
  }

  var byTown = figure("fig-today-by-town", {
    tooltip: function (v) { return "上门 " + v + " 次"; }
  });
  var compliance = figure("fig-provider-compliance", {
    max: 1,
    tick: function (v) { return Math.round(v * 100) + "%"; },
    tooltip: function (v) { return "达标率 " + (v * 100).toFixed(1) + "%"; }
  });

  function drawCharts(d) {
    var colors = charts && charts.colors;
    var title = document.getElementById("compliance-title");
    if (title && d.compliance_title) { title.textContent = d.compliance_title; }
    refreshFigure(byTown, d.today_by_town, function (r) { return r.name; }, function (r) { return r.visits; },
      function (r) { return [r.name, r.visits]; });
    refreshFigure(compliance, d.provider_compliance, function (r) { return r.name; }, function (r) { return r.rate; },
      function (r) { return [r.name, r.required, r.met, r.percent]; },
      function (r) { return r.rate < 0.6 ? colors.red : (r.rate < 0.9 ? colors.amber : colors.blue); },
      d.month_pending ? PENDING : null);
  }

  function link(visit) {
    return el("a", { href: root.dataset.detail + visit.client_id + "/", text: visit.recipient });
  }

  function draw(d) {
    var c = d.counts;
    var kpis = document.getElementById("dash-kpis");
    kpis.textContent = "";
    [
      kpi("正在服务", c.in_progress), kpi("今日上门", c.today), kpi(d.month_label + "累计上门", c.month),
      kpi("异常待审核", c.exceptions, c.exceptions > 0), kpi(d.overdue_days + "天以上未上门", c.overdue, c.overdue > 0),
      kpi("计划未按时开始", c.late_plans, c.late_plans > 0), kpi("今日紧急救援", c.emergencies_today, c.emergencies_today > 0),
      kpi("今日离线补传", c.late_synced_today)
    ].forEach(function (card) { kpis.appendChild(card); });
    drawCharts(d);
    root.innerHTML = "";
    var grid = el("div", { cls: "grid" });
    var monthEmpty = d.month_pending ? PENDING : null;
    grid.appendChild(bars("本月上门（按镇街）", d.month_by_town, function (r) { return r.visits; }, function (r) { return r.name; }, monthEmpty));
    grid.appendChild(bars("本月上门（按服务机构）", d.month_by_provider, function (r) { return r.visits; }, function (r) { return r.name; }, monthEmpty));
    root.appendChild(grid);
    root.appendChild(table("正在服务", ["服务对象", "照料护理人", "镇（街道）", "签到时间"], d.in_progress, function (v) { return [link(v), v.caregiver, v.town, v.started_at]; }));
    root.appendChild(table("异常待审核", ["服务对象", "照料护理人", "镇（街道）", "时间", "异常原因"], d.exceptions, function (v) { return [link(v), v.caregiver, v.town, v.started_at, v.reasons.join("；")]; }));
    root.appendChild(table("计划上门未按时开始", ["服务对象", "照料护理人", "镇（街道）", "计划时间"], d.late_plans, function (p) { return [p.recipient, p.caregiver, p.town, p.planned_time]; }));
    var checked = d.flags.day ? "每日检查：" + d.flags.day + "（此后已上门的不再列出）" : "尚未运行每日检查";
    root.appendChild(table(d.overdue_days + " 天以上未上门的服务对象", ["服务对象", "镇（街道）", "照料护理人", "未上门天数"], d.overdue, function (r) { return [r.recipient, r.town, r.caregiver, r.days == null ? "从未上门" : r.days + " 天"]; }, checked, monthEmpty));
    root.appendChild(table("有异常记录的照料护理人（近30天）", ["照料护理人", "镇（街道）", "情况"], d.flags.rows, function (f) { return [f.who, f.town, f.detail]; }, checked));
    document.getElementById("dash-time").textContent = d.generated_at;
    var monthTime = document.getElementById("dash-month-time");
    if (monthTime) { monthTime.textContent = d.month_pending ? PENDING : (d.month_figures_at || ""); }
    if (d.month_pending && !soon) { soon = setTimeout(function () { soon = null; refresh(); }, PENDING_MS); }
  }

  function refresh() {
    fetch(root.dataset.url + window.location.search, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(draw)
      .catch(function () { document.getElementById("dash-time").textContent += "（刷新失败，稍后重试）"; });
  }

  draw(JSON.parse(document.getElementById("dashboard-data").textContent));
  setInterval(refresh, REFRESH_MS);
}());
