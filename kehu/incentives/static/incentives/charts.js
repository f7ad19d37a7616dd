// Incentive charts: <div data-chart="bar|line" data-source="json-script-id">, where the
// JSON is {"names": [...], "values": [...]} or {"names": [...], "series": {name: [...]}}.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.echarts) { return; }
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var source = document.getElementById(el.getAttribute("data-source"));
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    var kind = el.getAttribute("data-chart");
    var series = [];
    if (data.series) {
      Object.keys(data.series).forEach(function (name) {
        series.push({ name: name, type: kind, data: data.series[name], smooth: kind === "line" });
      });
    } else {
      series.push({
        type: kind,
        data: data.values.map(function (v) {
          return { value: v, itemStyle: { color: v < 0 ? "#dc3545" : "#198754" } };
        }),
      });
    }
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: data.series ? { top: 0 } : undefined,
      grid: { left: 8, right: 8, top: data.series ? 32 : 8, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.names, axisLabel: { interval: 0, rotate: data.names.length > 6 ? 45 : 0 } },
      yAxis: { type: "value" },
      series: series,
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
});
