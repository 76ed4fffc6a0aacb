/* The month's page: spend by care level as a Chart.js chart (portal/charts.js) over the table of the same figures.
 * The figures come from the page's json_script "level-totals": amounts are the server's Decimal strings, shown in
 * the tooltip as ¥1,234.56 exactly as the table shows them. */
(function () {
  "use strict";
  var charts = window.PortalCharts;
  var source = document.getElementById("level-totals");
  var figure = document.getElementById("fig-levels");
  if (!charts || !source || !figure) { return; }
  var levels = JSON.parse(source.textContent);
  var chart = charts.bars(figure.querySelector("canvas"), {
    tick: charts.yuanTick,
    tooltip: function (amount, i) { return charts.yuan(amount) + "（" + levels[i].recipients + "人）"; }
  });
  charts.update(
    chart,
    levels.map(function (l) { return l.level; }),
    levels.map(function (l) { return l.amount; })
  );
}());
