// The programme dashboard's charts, drawn with the vendored uPlot from the JSON the
// page carries (<script type="application/json" id="dashboard-data">); no inline script.
// A suppressed cell (fewer than k people) is null with suppressed[i] true: the line or
// bar has a gap there, and a shaded band labelled "fewer than k" marks it. Never 0.
(function () {
  "use strict";

  var source = document.getElementById("dashboard-data");
  if (!source || typeof uPlot === "undefined") return;
  var data = JSON.parse(source.textContent);
  var lang = document.documentElement.lang || "en";
  var COLOURS = ["#1f5fa8", "#b34700", "#2e7d32", "#6a1b9a"];
  var DASHES = [[], [6, 4], [2, 3], [10, 3, 2, 3]];
  var HEIGHT = 240;
  var charts = [];

  // Month and weekday names in the page's language, dates in UTC (buckets start at 00:00 UTC).
  function names() {
    var months = [], monthsShort = [], days = [], daysShort = [], i;
    for (i = 0; i < 12; i++) {
      var m = new Date(Date.UTC(2026, i, 1));
      months.push(m.toLocaleString(lang, { month: "long", timeZone: "UTC" }));
      monthsShort.push(m.toLocaleString(lang, { month: "short", timeZone: "UTC" }));
    }
    for (i = 0; i < 7; i++) {
      var d = new Date(Date.UTC(2026, 1, 1 + i)); // 1 Feb 2026 is a Sunday
      days.push(d.toLocaleString(lang, { weekday: "long", timeZone: "UTC" }));
      daysShort.push(d.toLocaleString(lang, { weekday: "short", timeZone: "UTC" }));
    }
    return { MMMM: months, MMM: monthsShort, WWWW: days, WWW: daysShort };
  }
  var dateNames = names();

  // Runs of consecutive indices where some drawn series is suppressed.
  function suppressedRuns(chart) {
    var runs = [], start = -1, n = chart.x.length;
    for (var i = 0; i <= n; i++) {
      var hidden = i < n && chart.series.some(function (s) { return s.suppressed[i]; });
      if (hidden && start < 0) start = i;
      if (!hidden && start >= 0) { runs.push([start, i - 1]); start = -1; }
    }
    return runs;
  }

  function drawGaps(chart) {
    var runs = suppressedRuns(chart);
    return function (u) {
      if (!runs.length) return;
      var ctx = u.ctx, ratio = window.devicePixelRatio || 1, top = u.bbox.top, height = u.bbox.height;
      var step = chart.x.length > 1
        ? Math.abs(u.valToPos(chart.x[1], "x", true) - u.valToPos(chart.x[0], "x", true))
        : u.bbox.width;
      var lastLabel = -Infinity;
      ctx.save();
      runs.forEach(function (run) {
        var left = u.valToPos(chart.x[run[0]], "x", true) - step / 2;
        var right = u.valToPos(chart.x[run[1]], "x", true) + step / 2;
        left = Math.max(left, u.bbox.left);
        right = Math.min(right, u.bbox.left + u.bbox.width);
        ctx.fillStyle = "rgba(90, 90, 90, 0.14)";
        ctx.fillRect(left, top, right - left, height);
        ctx.strokeStyle = "#6b6b6b";
        ctx.setLineDash([3 * ratio, 3 * ratio]);
        ctx.lineWidth = ratio;
        ctx.strokeRect(left, top, right - left, height);
        var middle = (left + right) / 2;
        if (middle - lastLabel < 14 * ratio) return; // the neighbour's label is there already
        lastLabel = middle;
        ctx.save();
        ctx.fillStyle = "#222";
        ctx.font = 12 * ratio + "px system-ui, sans-serif";
        ctx.textBaseline = "middle";
        var wide = ctx.measureText(data.fewer).width + 8 * ratio;
        if (right - left >= wide) { // across the band when it fits, else up its middle
          ctx.textAlign = "center";
          ctx.fillText(data.fewer, middle, top + height / 2);
        } else {
          ctx.textAlign = "left"; // upwards from the bottom (uPlot leaves the axes' alignment set)
          ctx.translate(middle, top + height - 6 * ratio);
          ctx.rotate(-Math.PI / 2);
          ctx.fillText(data.fewer, 0, 0);
        }
        ctx.restore();
      });
      ctx.restore();
    };
  }

  function fromZero(u, min, max) {
    return [0, max > 0 ? max * 1.1 : 1];
  }

  function options(el, chart) {
    var category = chart.kind === "category";
    var bars = category ? chart.series.length : 0;
    var series = [{}];
    chart.series.forEach(function (s, i) {
      var colour = COLOURS[i % COLOURS.length];
      var spec = { label: s.label, stroke: colour, width: 2, spanGaps: false };
      if (category) {
        var align = bars === 1 ? 0 : (i === 0 ? -1 : 1);
        spec.fill = colour;
        spec.paths = uPlot.paths.bars({ size: [bars === 1 ? 0.6 : 0.35, 80], align: align });
        spec.points = { show: false };
      } else {
        spec.dash = DASHES[i % DASHES.length];
        spec.points = { show: true, size: 5, fill: colour };
      }
      series.push(spec);
    });
    var xAxis = { stroke: "#222", grid: { show: false } };
    if (!category) { // bucket starts as dates in the page's language, in UTC
      xAxis.values = function (u, splits) {
        return splits.map(function (t) {
          return new Date(t * 1e3).toLocaleDateString(lang, { day: "numeric", month: "short", timeZone: "UTC" });
        });
      };
    }
    if (category) {
      xAxis.splits = function () { return chart.x; };
      xAxis.values = function (u, splits) { return splits.map(function (i) { return chart.labels[i] || ""; }); };
    }
    return {
      width: Math.max(el.clientWidth, 280),
      height: HEIGHT,
      fmtDate: function (tpl) { return uPlot.fmtDate(tpl, dateNames); },
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); },
      scales: {
        x: category
          ? { time: false, range: function () { return [-0.5, chart.x.length - 0.5]; } }
          : { time: true },
        y: { range: fromZero },
      },
      series: series,
      axes: [xAxis, { stroke: "#222", grid: { stroke: "#e3e3e3" } }],
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      hooks: { draw: [drawGaps(chart)] },
    };
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), function (el) {
    var chart = data.charts[el.dataset.chart];
    if (!chart || !chart.x.length) return;
    var columns = [chart.x].concat(chart.series.map(function (s) { return s.values; }));
    var plot = new uPlot(options(el, chart), columns, el);
    charts.push({ el: el, plot: plot });
  });

  var pending = null;
  window.addEventListener("resize", function () {
    if (pending) clearTimeout(pending);
    pending = setTimeout(function () {
      charts.forEach(function (c) { c.plot.setSize({ width: Math.max(c.el.clientWidth, 280), height: HEIGHT }); });
    }, 150);
  });
})();
