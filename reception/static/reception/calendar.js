/* The day calendar's behaviour on top of a page that works without it (every block and free
   cell is a link, the Move page moves without dragging):
   - arrow keys move the focus between the free times and the appointments (one tab stop);
   - an appointment is dragged to another time or practitioner and dropped on a cell: the server
     moves it through the one reschedule service, or says why not and nothing moves;
   - the grid is polled (htmx, every 3 s, 204 while nothing changed) and swapped whole, but never
     while a block is being dragged, and the keyboard focus survives the swap;
   - the panel opens beside the grid (htmx) and Escape closes it.
   No inline script or eval: the Content-Security-Policy allows only our own files. */
(function () {
  "use strict";

  var dragging = null; // {id, version, offsetMs} while a block is in the air

  function grid() { return document.getElementById("calendar-grid"); }
  function status(message, refused) {
    var box = document.getElementById("calendar-status");
    if (!box) { return; }
    box.textContent = message;
    box.classList.toggle("refused", Boolean(refused));
  }
  function csrfToken() {
    var input = document.querySelector("#calendar-csrf input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function updatesUrl() {
    var live = grid() && grid().querySelector(".cal-live");
    return live ? live.getAttribute("hx-get").replace(/([?&])version=[^&]*/, "$1version=") : null;
  }
  function refresh() {
    var url = updatesUrl();
    if (url && window.htmx) {
      window.htmx.ajax("GET", url, { target: "#calendar-grid", swap: "outerHTML" });
    }
  }

  // Keyboard: a roving tab stop over the free cells and the blocks --------------------------

  function navItems() {
    var root = grid();
    return root ? Array.prototype.slice.call(root.querySelectorAll("[data-nav]")) : [];
  }
  function coordinates(item) {
    return { col: Number(item.dataset.col), row: Number(item.dataset.row) };
  }
  function makeTabStop(target) {
    navItems().forEach(function (item) { item.tabIndex = item === target ? 0 : -1; });
  }
  function initialTabStop() {
    var items = navItems();
    if (!items.length) { return; }
    var current = items.filter(function (item) { return item.tabIndex === 0; })[0];
    makeTabStop(current || items[0]);
  }
  function neighbour(from, key) {
    var here = coordinates(from);
    var best = null, bestScore = Infinity;
    navItems().forEach(function (item) {
      if (item === from) { return; }
      var there = coordinates(item), score;
      if (key === "ArrowDown" || key === "ArrowUp") {
        if (there.col !== here.col) { return; }
        var ahead = key === "ArrowDown" ? there.row - here.row : here.row - there.row;
        if (ahead <= 0) { return; }
        score = ahead;
      } else {
        var step = key === "ArrowRight" ? 1 : -1;
        if (there.col !== here.col + step) { return; }
        score = Math.abs(there.row - here.row) * 2 + (there.row > here.row ? 1 : 0);
      }
      if (score < bestScore) { best = item; bestScore = score; }
    });
    return best;
  }
  document.addEventListener("keydown", function (event) {
    var item = event.target.closest && event.target.closest("#calendar-grid [data-nav]");
    if (item && /^Arrow(Up|Down|Left|Right)$/.test(event.key)) {
      var next = neighbour(item, event.key);
      if (next) {
        event.preventDefault();
        makeTabStop(next);
        next.focus();
      }
    } else if (item && event.key === " ") {
      event.preventDefault();
      item.click();
    } else if (event.key === "Escape" && !/^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName)) {
      closePanel(); // not while typing a reason: Escape there must not throw the text away
    }
  });
  document.addEventListener("focusin", function (event) {
    var item = event.target.closest && event.target.closest("#calendar-grid [data-nav]");
    if (item) { makeTabStop(item); }
  });

  // The panel -------------------------------------------------------------------------------

  var openedFrom = null;
  function closePanel() {
    var panel = document.getElementById("calendar-panel");
    if (panel && panel.firstChild) {
      panel.innerHTML = "";
      if (openedFrom && document.getElementById(openedFrom)) { document.getElementById(openedFrom).focus(); }
    }
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-close-panel]")) { closePanel(); }
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt.classList.contains("cal-live") && dragging) {
      event.preventDefault(); // never move what is being dragged
    }
    if (elt.classList.contains("cal-block")) { openedFrom = elt.id; }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id === "calendar-panel") {
      event.detail.target.focus();
    }
  });

  // Live updates: keep the focus across a swap, and say so when the login has ended ----------

  var focusedId = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target.id !== "calendar-grid") { return; }
    if (dragging) { event.detail.shouldSwap = false; }
    if (!event.detail.shouldSwap) { return; } // a 204: nothing changed, nothing to restore
    var active = document.activeElement;
    focusedId = active && grid() && grid().contains(active) ? active.id : null;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.detail.target || event.detail.target.id !== "calendar-grid") { return; }
    var again = focusedId && document.getElementById(focusedId);
    initialTabStop();
    if (again) {
      makeTabStop(again);
      again.focus();
    }
    focusedId = null;
  });
  document.addEventListener("htmx:responseError", function (event) {
    var elt = event.detail.elt;
    if (elt.classList.contains("cal-live") && (event.detail.xhr.status === 401 || event.detail.xhr.status === 403)) {
      elt.remove(); // stop polling
      status(event.detail.xhr.responseText || "Your login has ended. Reload the page to log in again.", true);
    }
  });

  // Dragging a block onto a cell ------------------------------------------------------------

  function cellsOf(column) {
    return Array.prototype.slice.call(column.querySelectorAll(".cal-cell[data-start]"));
  }
  function targetCell(hovered) {
    // The block keeps the place it was held by: grabbed two steps below its top, its top lands
    // two steps (of time, not of cells: a lunch break has none) before the one under the
    // pointer. No cell there (before the opening, in the break): no drop.
    if (!dragging || !dragging.offsetMs) { return hovered; }
    var wanted = new Date(hovered.dataset.start).getTime() - dragging.offsetMs;
    var cells = cellsOf(hovered.closest(".cal-col"));
    for (var i = 0; i < cells.length; i++) {
      if (new Date(cells[i].dataset.start).getTime() === wanted) { return cells[i]; }
    }
    return null;
  }
  function cellUnder(event) {
    // The cell at the pointer, also under another block or a time off: the server then says
    // why that time cannot take the appointment.
    if (!dragging) { return null; }
    var stack = document.elementsFromPoint(event.clientX, event.clientY);
    for (var i = 0; i < stack.length; i++) {
      if (stack[i].matches(".cal-cell[data-start]")) { return stack[i]; }
    }
    return null;
  }
  function clearTargets() {
    Array.prototype.forEach.call(document.querySelectorAll(".drop-target"), function (cell) {
      cell.classList.remove("drop-target");
    });
  }
  document.addEventListener("dragstart", function (event) {
    var block = event.target.closest && event.target.closest(".cal-block[data-appointment]");
    if (!block) { return; }
    var cell = block.closest(".cal-col").querySelector(".cal-cell[data-start]");
    var cells = cell ? cellsOf(block.closest(".cal-col")) : [];
    var cellHeight = cell ? cell.getBoundingClientRect().height : 24;
    var stepMs = cells.length > 1 ? new Date(cells[1].dataset.start) - new Date(cells[0].dataset.start) : 0;
    var offsetSteps = Math.max(0, Math.floor((event.clientY - block.getBoundingClientRect().top) / cellHeight));
    dragging = { id: block.dataset.appointment, version: block.dataset.version || "", offsetMs: offsetSteps * stepMs };
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", block.dataset.appointment);
    // After the browser has taken its picture of the block: let the cells under it take the drop.
    window.setTimeout(function () { block.classList.add("dragging"); }, 0);
  });
  document.addEventListener("dragend", function (event) {
    var block = event.target.closest && event.target.closest(".cal-block");
    if (block) { block.classList.remove("dragging"); }
    clearTargets();
    dragging = null;
  });
  document.addEventListener("dragover", function (event) {
    var cell = cellUnder(event);
    if (!cell) { return; }
    var target = targetCell(cell);
    clearTargets();
    if (!target) { return; } // nowhere for its start: the browser shows "no drop"
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    target.classList.add("drop-target");
  });
  document.addEventListener("drop", function (event) {
    var cell = cellUnder(event);
    if (!cell) { return; }
    var target = targetCell(cell), id = dragging.id, version = dragging.version;
    clearTargets();
    if (!target) { return; }
    event.preventDefault();
    var body = new URLSearchParams();
    body.set("start", target.dataset.start);
    body.set("practitioner", target.dataset.practitioner);
    body.set("version", version);
    var url = grid().dataset.dropUrl.replace("/0/", "/" + encodeURIComponent(id) + "/");
    status("Moving…");
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
    }).then(function (response) {
      var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (!json) { return { ok: false, message: "Your login has ended. Reload the page to log in again." }; }
      return response.json().then(function (answer) { return { ok: response.ok, message: answer.message }; });
    }).catch(function () {
      return { ok: false, message: "The clinic's server did not answer: nothing was moved. Try again." };
    }).then(function (result) {
      dragging = null;
      status(result.message, !result.ok);
      refresh();
    });
  });

  document.addEventListener("DOMContentLoaded", initialTabStop);
})();
