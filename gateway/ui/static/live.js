// The build page follows its build: the event stream pushes each phase stored and each
// status change, and the page shows them without a reload. Text goes in as text, never as
// markup.
(function () {
  "use strict";
  var page = document.querySelector("[data-live-build]");
  if (!page || !window.EventSource) {
    return;
  }
  var id = page.getAttribute("data-live-build");
  var source = new EventSource("/api/v1/builds/" + encodeURIComponent(id) + "/events/stream");

  function statusClass(status) {
    switch (String(status).toUpperCase()) {
      case "SUCCESS": return "st st-success";
      case "FAILED": case "ERROR": return "st st-failed";
      case "CANCELLED": return "st st-cancelled";
      case "NOTRUN": return "st st-notrun";
      case "RUNNING": case "STARTED": return "st st-running";
    }
    return "st";
  }

  function size(n) {
    n = Number(n) || 0;
    if (n < 1024) {
      return n + " B";
    }
    var units = "KMGTPE", exp = -1;
    do {
      n /= 1024;
      exp++;
    } while (n >= 1024 && exp < units.length - 1);
    return n.toFixed(1) + " " + units.charAt(exp) + "iB";
  }

  function cell(text, className) {
    var td = document.createElement("td");
    if (className) {
      td.className = className;
    }
    td.textContent = text;
    return td;
  }

  function link(href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  function phaseURL(name) {
    return "/builds/" + encodeURIComponent(id) + "/phases/" + encodeURIComponent(name);
  }

  // showErrors lists a phase's errors under "New errors", replacing what it listed before.
  function showErrors(name, errors) {
    var section = document.getElementById("live-errors");
    var box = null;
    section.querySelectorAll("[data-phase-errors]").forEach(function (el) {
      if (el.getAttribute("data-phase-errors") === name) {
        box = el;
      }
    });
    if (!box) {
      box = document.createElement("div");
      box.setAttribute("data-phase-errors", name);
      section.appendChild(box);
    }
    box.textContent = "";
    (errors || []).forEach(function (e) {
      var div = document.createElement("div");
      div.className = "event live-error";
      div.appendChild(link(phaseURL(name) + "?line=" + e.line_no + "#L" + e.line_no, name + " log, line " + e.line_no));
      var pre = document.createElement("pre");
      var strong = document.createElement("strong");
      strong.textContent = e.text;
      pre.appendChild(strong);
      div.appendChild(pre);
      box.appendChild(div);
    });
    section.hidden = section.querySelector(".live-error") === null;
  }

  function showPhase(change) {
    var p = change.phase.phase;
    var state = [p.status, p.output_bytes, p.errors_total, p.warnings_total].join("|");
    var row = null;
    document.querySelectorAll("#phases tbody tr[data-phase]").forEach(function (tr) {
      if (tr.getAttribute("data-phase") === p.name) {
        row = tr;
      }
    });
    if (row && row.getAttribute("data-state") === state) {
      return; // shown as it is already
    }
    var fresh = document.createElement("tr");
    fresh.setAttribute("data-phase", p.name);
    fresh.setAttribute("data-state", state);
    var name = document.createElement("td");
    name.appendChild(link(phaseURL(p.name), p.name));
    fresh.appendChild(name);
    var st = document.createElement("td");
    var badge = document.createElement("span");
    badge.className = statusClass(p.status);
    badge.textContent = p.status;
    st.appendChild(badge);
    fresh.appendChild(st);
    fresh.appendChild(cell(size(p.output_bytes), "num"));
    fresh.appendChild(cell(String(p.errors_total), "num"));
    fresh.appendChild(cell(String(p.warnings_total), "num"));
    var raw = document.createElement("td");
    raw.appendChild(link("/api/v1/builds/" + encodeURIComponent(id) + "/phases/" + encodeURIComponent(p.name) + "/output", "raw"));
    fresh.appendChild(raw);
    var tbody = document.querySelector("#phases tbody");
    var none = document.getElementById("no-phases");
    if (none) {
      none.remove();
    }
    if (row) {
      tbody.replaceChild(fresh, row);
    } else {
      tbody.appendChild(fresh);
    }
    showErrors(p.name, change.phase.errors);
  }

  function showStatus(change) {
    var el = document.getElementById("build-status");
    var status = change.status.status;
    if (el.textContent.trim() === status) {
      return;
    }
    el.className = statusClass(status);
    el.textContent = status;
  }

  source.addEventListener("phase", function (e) {
    showPhase(JSON.parse(e.data));
  });
  source.addEventListener("status", function (e) {
    showStatus(JSON.parse(e.data));
  });
})();
