// The console's own script (CSP allows only scripts from this origin; no inline script).
// 1. Sign out when idle: the server drops an idle session on its next request; this
//    takes the page away from the screen at the same moment.
// 2. The intake form: remember which fields were touched, so validation as you type
//    shows errors only for those.
// 3. The week grid: click or drag across hours; arrow keys move, Space toggles.
// 4. The live inbox shows each notification once.
// 5. A time-zone field marked data-browser-zone starts as the browser's zone when empty.
(function () {
  "use strict";

  var body = document.body;
  var idleMs = parseFloat(body.dataset.idleSeconds || "0") * 1000;
  var idleTimer = null;
  function restartIdle() {
    if (!body.dataset.signedIn || !idleMs) return;
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = setTimeout(function () { window.location.assign("/sign-in?reason=idle"); }, idleMs + 1000);
  }
  restartIdle();
  document.addEventListener("htmx:afterRequest", function (e) {
    // The live inbox does not count as activity, on the server either.
    var path = e.detail && e.detail.pathInfo ? e.detail.pathInfo.requestPath : "";
    if (path.indexOf("/inbox/stream") !== 0) restartIdle();
  });

  // The live inbox: when the stream reconnects from scratch it may send again what is
  // already shown (each event's id is the notification's): show it once.
  body.addEventListener("htmx:sseBeforeMessage", function (e) {
    var id = e.detail && e.detail.lastEventId;
    if (id && document.getElementById("note-" + id)) e.preventDefault();
  });

  // A page that comes back with errors (after a submit) starts at its error summary.
  var summary = document.querySelector(".error-summary");
  if (summary) summary.focus();

  // After validation as you type, each field with an error is marked as a full page marks it.
  document.addEventListener("htmx:afterSettle", function () {
    Array.prototype.forEach.call(document.querySelectorAll("p.field-error[id^='error-']"), function (p) {
      var failed = p.textContent.trim() !== "";
      var group = p.closest(".group");
      if (group) group.classList.toggle("has-error", failed);
      var control = document.getElementById("field-" + p.id.slice(6));
      if (control && control.tagName !== "FIELDSET") {
        if (failed) control.setAttribute("aria-invalid", "true"); else control.removeAttribute("aria-invalid");
      }
    });
  });

  var form = document.getElementById("intake-form");
  if (form) {
    var touched = form.querySelector("input[name=touched]");
    var mark = function (e) {
      var name = e.target && e.target.name;
      if (!name || name === "touched") return;
      if (name === "slot") name = "availability";
      if (name === "interpreter") return;
      name = name.replace(/_strength$/, "");
      var seen = touched.value ? touched.value.split(",") : [];
      if (seen.indexOf(name) < 0) { seen.push(name); touched.value = seen.join(","); }
    };
    // Capture phase: before htmx, listening on the form, sends the values.
    form.addEventListener("input", mark, true);
    form.addEventListener("change", mark, true);
  }

  var grids = document.querySelectorAll("[data-week-grid]");
  Array.prototype.forEach.call(grids, setUpGrid);

  function setUpGrid(grid) {
    var rows = Array.prototype.map.call(grid.tBodies[0].rows, function (row) {
      return Array.prototype.slice.call(row.querySelectorAll("input[type=checkbox]"));
    });
    var all = [].concat.apply([], rows);
    // Roving tabindex: the grid is one tab stop; arrows move inside it.
    var start = all.filter(function (b) { return b.checked; })[0] || all[0];
    all.forEach(function (b) { b.tabIndex = b === start ? 0 : -1; });

    function at(box) {
      for (var r = 0; r < rows.length; r++) {
        var c = rows[r].indexOf(box);
        if (c >= 0) return [r, c];
      }
      return null;
    }
    function focusBox(box) {
      all.forEach(function (b) { b.tabIndex = -1; });
      box.tabIndex = 0;
      box.focus();
    }
    grid.addEventListener("keydown", function (e) {
      var pos = at(e.target);
      if (!pos) return;
      var r = pos[0], c = pos[1];
      var moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
      var move = moves[e.key];
      if (e.key === "Home") move = [0, -c];
      if (e.key === "End") move = [0, rows[r].length - 1 - c];
      if (!move) return;
      e.preventDefault();
      var nr = Math.min(rows.length - 1, Math.max(0, r + move[0]));
      var nc = Math.min(rows[nr].length - 1, Math.max(0, c + move[1]));
      focusBox(rows[nr][nc]);
    });

    // Drag: the first box decides whether the drag ticks or clears.
    var dragging = false, setTo = true, changed = null;
    function apply(box) {
      if (box.checked !== setTo) { box.checked = setTo; changed = box; }
    }
    grid.addEventListener("pointerdown", function (e) {
      if (e.target.type !== "checkbox" || e.button !== 0) return;
      e.preventDefault();
      dragging = true; changed = null;
      setTo = !e.target.checked;
      apply(e.target);
      focusBox(e.target);
      if (e.target.releasePointerCapture) e.target.releasePointerCapture(e.pointerId);
    });
    grid.addEventListener("pointerover", function (e) {
      if (dragging && e.target.type === "checkbox") apply(e.target);
    });
    document.addEventListener("pointerup", function () {
      if (!dragging) return;
      dragging = false;
      if (changed) changed.dispatchEvent(new Event("change", { bubbles: true }));
    });
    // The click after a pointer press would toggle the box back: the press did the work.
    grid.addEventListener("click", function (e) {
      if (e.target.type === "checkbox" && e.detail > 0) e.preventDefault();
    });
  }

  // The directory of community groups shows meetings in the viewer's time as well: an empty
  // zone field takes the browser's zone and says so (the filter form then asks again).
  // After htmx has bound the form (its own DOMContentLoaded handler runs first).
  document.addEventListener("DOMContentLoaded", function () {
    var zoneField = document.querySelector("input[data-browser-zone]");
    if (!zoneField || zoneField.value || !window.Intl || !Intl.DateTimeFormat) return;
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!zone) return;
    zoneField.value = zone;
    setTimeout(function () { zoneField.dispatchEvent(new Event("change", { bubbles: true })); }, 0);
  });
})();
