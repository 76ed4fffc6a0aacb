/* Bar charts drawn with the vendored Chart.js (static/vendor/chartjs/), for the dashboard and the month's page.
 * Each chart is a <figure> holding a hidden chart box and a table of the same figures: the table is what screen
 * readers, keyboards, print and browsers without scripts read, and the box is shown only once a chart is drawn.
 * Markup: <figure><figcaption>…</figcaption><div class="chart-box" hidden><canvas role="img" aria-label="…">
 * </canvas></div><table>…</table></figure>. No inline script or style attribute is needed. */
(function () {
  "use strict";
  if (typeof window.Chart !== "function") { return; }  // the library did not load: the tables stay
  var Chart = window.Chart;
  var root = getComputedStyle(document.documentElement);
  function cssVar(name, fallback) { return (root.getPropertyValue(name) || "").trim() || fallback; }

  var COLORS = { blue: cssVar("--blue", "#1d4f91"), amber: cssVar("--amber", "#9a6700"), red: cssVar("--red", "#b3261e") };
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#1f2933";
  Chart.defaults.animation = false;  // old office PCs, and screenshots of a settled chart
  var BAR_HEIGHT = 26;

  /* "1234.5" → "¥1,234.50": money arrives as the server's Decimal string and is formatted from the text, never
   * through a float (the server sends fen, two places; more would be cut, not rounded). */
  function yuan(text) {
    var s = String(text == null ? "0" : text).trim();
    var sign = "";
    if (s.charAt(0) === "-") { sign = "-"; s = s.slice(1); }
    var parts = s.split(".");
    var whole = (parts[0].replace(/^0+(?=\d)/, "") || "0").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return sign + "¥" + whole + "." + ((parts[1] || "") + "00").slice(0, 2);
  }

  /* Axis ticks: whole yuan with thousands separators (the exact amount is in the tooltip and the table). */
  var wholeYuan = new Intl.NumberFormat("zh-CN", { maximumFractionDigits: 0 });
  function yuanTick(value) { return "¥" + wholeYuan.format(value); }

  /* A horizontal bar chart (long Chinese names read better down the side). options: tooltip(raw, index) → text,
   * tick(value) → text, max (the scale's end, e.g. 1 for a rate). Returns the chart; feed it with update(). */
  function bars(canvas, options) {
    var x = { beginAtZero: true, ticks: { precision: 0 } };
    if (options.max != null) { x.max = options.max; }
    if (options.tick) { x.ticks.callback = options.tick; }
    return new Chart(canvas, {
      type: "bar",
      data: { labels: [], datasets: [{ data: [], backgroundColor: COLORS.blue, borderRadius: 3, maxBarThickness: 20 }] },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (ctx) { return options.tooltip(ctx.raw, ctx.dataIndex); } } }
        },
        scales: {
          x: x,
          y: { ticks: { autoSkip: false } }
        }
      }
    });
  }

  /* New figures into the same chart (no new chart each time): labels, values, optional colour per bar. The box
   * grows with the number of bars and is hidden when there is none (the table then says so). */
  function update(chart, labels, values, colors) {
    var box = chart.canvas.parentNode;
    chart.data.labels = labels;
    chart.data.datasets[0].data = values;
    chart.data.datasets[0].backgroundColor = colors || COLORS.blue;
    box.style.height = (labels.length * BAR_HEIGHT + 48) + "px";
    box.hidden = labels.length === 0;
    chart.resize();
    chart.update();
  }

  window.PortalCharts = { bars: bars, update: update, yuan: yuan, yuanTick: yuanTick, colors: COLORS };
}());
