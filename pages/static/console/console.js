/* The console's only script (no inline script: the CSP forbids it).
 * - htmx 2 does not swap 4xx/5xx responses; we show the JSON error's Chinese message
 *   (and each field's problem) in #flash instead, deliberately, for every status.
 * - Charts: elements with data-chart read their data from a JSON <script> block and are
 *   drawn with ECharts in its Chinese locale. */
(function () {
  "use strict";

  function flash(message, fields, kind) {
    var box = document.getElementById("flash");
    if (!box) { return; }
    box.textContent = "";
    var alert = document.createElement("div");
    alert.className = "alert alert-" + (kind || "danger");
    alert.textContent = message;
    (fields || []).forEach(function (f) {
      if (!f || !f.message) { return; }
      var line = document.createElement("div");
      line.className = "small";
      var name = f.label || f.field;  /* the Chinese label when the page gave one */
      line.textContent = (name ? name + "：" : "") + f.message;
      alert.appendChild(line);
    });
    box.appendChild(alert);
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status < 400) { return; }
    event.detail.shouldSwap = false;
    event.detail.isError = false;
    var message = "操作失败（" + xhr.status + "）", fields = [];
    try {
      var body = JSON.parse(xhr.responseText);
      if (body && body.error) { message = body.error.message || message; fields = body.error.fields || []; }
    } catch (ignored) { /* not JSON: keep the generic message */ }
    flash(message, fields);
  });

  document.addEventListener("htmx:sendError", function () {
    flash("网络连接失败，请检查网络后重试");
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.status < 400 && event.detail.requestConfig && event.detail.requestConfig.verb !== "get") {
      var box = document.getElementById("flash");
      if (box && !event.detail.elt.closest("[data-keep-flash]")) { box.textContent = ""; }
    }
  });

  function series(kind, data) {
    if (kind === "funnel") {
      var largest = Math.max.apply(null, [1].concat(data.map(function (d) { return d.count; })));
      return {
        tooltip: { trigger: "item", formatter: "{b}：{c}" },
        series: [{ type: "funnel", sort: "none", left: "5%", width: "60%", min: 0, max: largest,
          minSize: "4%", gap: 2,
          label: { show: true, position: "right", formatter: "{b} {c}" },
          labelLine: { show: true },
          data: data.map(function (d) { return { name: d.label, value: d.count }; }) }]
      };
    }
    if (kind === "bar") {
      var rows = data.slice(0, 15).reverse();
      return {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: rows.map(function (d) { return d.name; }) },
        series: [{ type: "bar", data: rows.map(function (d) { return d.count; }),
          label: { show: true, position: "right" } }]
      };
    }
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 16, top: 40, bottom: 32 },
      xAxis: { type: "category", data: data.days },
      yAxis: { type: "value", minInterval: 1 },
      series: data.series.map(function (s) { return { name: s.name, type: "line", data: s.values }; })
    };
  }

  function drawCharts(root) {
    if (!window.echarts) { return; }
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.dataset.source);
      if (!source) { return; }
      var data = JSON.parse(source.textContent);
      var chart = window.echarts.getInstanceByDom(el) || window.echarts.init(el, null, { locale: "ZH", renderer: "canvas" });
      chart.setOption(series(el.dataset.chart, data), true);
    });
  }

  /* htmx says "htmx:load" once it has read the page: from then on its controls work, so they
   * may take clicks (console.css keeps them inert before, when a click would be lost). */
  document.addEventListener("htmx:load", function () {
    document.documentElement.classList.add("console-ready");
  });
  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawCharts(event.target); });
  window.addEventListener("resize", function () {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var chart = window.echarts.getInstanceByDom(el);
      if (chart) { chart.resize(); }
    });
  });
}());
