/* Back-office pages: charts (vendored Chart.js, drawn from <script type="application/json">
   blocks the server renders) and progress polling for long work. No inline script, nothing
   loaded from elsewhere. */
(function () {
  "use strict";
  var PALETTE = ["#7c3aed", "#0891b2", "#ea580c", "#16a34a", "#dc2626", "#64748b"];

  function number(text) { var n = Number(text); return isNaN(n) ? 0 : n; }

  function formatAmount(value) {
    return Number(value).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function drawChart(canvas) {
    var source = document.getElementById(canvas.dataset.chartSource);
    if (!source || typeof window.Chart === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var datasets = spec.datasets.map(function (d, i) {
      var colour = PALETTE[i % PALETTE.length];
      return {
        label: d.label, data: d.data.map(number), borderColor: colour,
        backgroundColor: spec.type === "line" ? colour + "22" : colour + "cc",
        fill: spec.type === "line", tension: 0, pointRadius: spec.type === "line" ? 0 : undefined,
        borderWidth: 2
      };
    });
    canvas.chartInstance = new window.Chart(canvas.getContext("2d"), {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { display: datasets.length > 1, position: "bottom" },
          tooltip: { callbacks: { label: function (ctx) { return ctx.dataset.label + ": " + formatAmount(ctx.parsed.y); } } }
        },
        scales: {
          x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 } },
          y: { beginAtZero: true, ticks: { callback: function (v) { return formatAmount(v).replace(/\.00$/, ""); } } }
        }
      }
    });
    canvas.dataset.drawn = "1";
  }

  function pollJob(box) {
    var url = box.dataset.jobStatusUrl;
    var bar = box.querySelector("[data-job-bar]");
    var label = box.querySelector("[data-job-label]");
    var count = box.querySelector("[data-job-progress]");
    var done = box.querySelector("[data-job-done]");
    var initial = null;  // the state at the first answer: a page reloads only on a change
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (job) {
          if (!job || job.status === "none") { return; }  // no run started from here: nothing to follow
          if (initial === null) { initial = job.status; }
          box.dataset.jobState = job.status;
          if (label) { label.textContent = job.status_label || job.status; }
          if (count && job.progress !== undefined) { count.textContent = Number(job.progress).toLocaleString("en-US"); }
          if (!job.done) {
            if (bar) { bar.parentNode.classList.add("bo-indeterminate"); }
            window.setTimeout(tick, 1500);
            return;
          }
          if (bar) { bar.parentNode.classList.remove("bo-indeterminate"); bar.style.width = "100%"; }
          if (done) { done.hidden = false; }
          var link = box.querySelector("[data-job-result-link]");
          if (link && job.url) { link.href = job.url; link.hidden = false; }
          if (box.dataset.jobReload === "1" && job.status !== initial) {
            window.location.reload();
          } else if (box.dataset.jobRedirect === "1" && job.url && job.status === "succeeded") {
            window.location.assign(job.url);
          }
        })
        .catch(function () { window.setTimeout(tick, 5000); });
    }
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-chart-source]").forEach(drawChart);
    document.querySelectorAll("[data-job-status-url]").forEach(pollJob);
  });
})();
