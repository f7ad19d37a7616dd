// The managers' overdue bar chart (kehu/cadence/templates/cadence/team.html).
document.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("team-chart");
  var data = document.getElementById("team-chart-data");
  if (!el || !data || !window.echarts) { return; }
  var chart = JSON.parse(data.textContent);
  var bars = window.echarts.init(el);
  bars.setOption({
    grid: { left: 8, right: 8, top: 16, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: chart.names, axisLabel: { rotate: 45, interval: 0 } },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ name: chart.label, type: "bar", data: chart.values, itemStyle: { color: "#dc3545" } }]
  });
  window.addEventListener("resize", function () { bars.resize(); });
});
