// spackmon pages: small enhancements only; every page works without this script.
"use strict";

document.addEventListener("keydown", (e) => {
  // "/" jumps to the search box, as on many sites, unless the user is typing already.
  if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return;
  const box = document.querySelector("input[type=search]");
  if (box) {
    e.preventDefault();
    box.focus();
  }
});

// Log pages: "load earlier/later lines" fetch more of the log from the read API and add
// them in place, so the reader keeps their position. Without the script the links open
// the neighbouring window instead.
(function () {
  const log = document.getElementById("log");
  if (!log) return;
  const list = document.getElementById("lines");
  const windowSize = Number(log.dataset.window);
  const lineBytes = Number(log.dataset.lineBytes);
  const marks = new Map();
  for (const [attr, kind] of [["warnings", "warning"], ["errors", "error"]]) {
    for (const n of (log.dataset[attr] || "").split(",")) if (n) marks.set(Number(n), kind);
  }
  const outputURL = (offset, limit) =>
    "/api/v1/builds/" + encodeURIComponent(log.dataset.build) + "/phases/" +
    encodeURIComponent(log.dataset.phase) + "/output?unit=lines&offset=" + offset + "&limit=" + limit +
    "&max_line_bytes=" + (lineBytes + 2);
  const decoder = new TextDecoder();

  // lineItem shows line no, whose bytes (without its line end) are raw: lines come cut to
  // lineBytes + 2 bytes, so one longer than lineBytes was longer still, as the page shows.
  function lineItem(no, raw) {
    const li = document.createElement("li");
    li.id = "L" + no;
    const kind = marks.get(no);
    if (kind) li.className = kind;
    const a = document.createElement("a");
    a.className = "ln";
    a.href = "#L" + no;
    a.textContent = String(no);
    const span = document.createElement("span");
    span.textContent = decoder.decode(raw.subarray(0, lineBytes));
    li.append(a, span);
    if (raw.length > lineBytes) {
      const cut = document.createElement("span");
      cut.className = "cut";
      cut.textContent = "… line cut at " + (lineBytes / 1024).toFixed(1) + " KiB; the raw log has all of it";
      li.append(cut);
    }
    return li;
  }

  async function fetchLines(from, count) {
    const resp = await fetch(outputURL(from - 1, count), { credentials: "same-origin" });
    if (!resp.ok) throw new Error("the log did not load: " + resp.status);
    let bytes = new Uint8Array(await resp.arrayBuffer());
    if (bytes.length > 0 && bytes[bytes.length - 1] === 10) bytes = bytes.subarray(0, bytes.length - 1);
    if (bytes.length === 0) return [];
    const lines = [];
    for (let start = 0; start <= bytes.length; ) {
      let end = bytes.indexOf(10, start);
      if (end < 0) end = bytes.length;
      let line = bytes.subarray(start, end);
      if (line.length > 0 && line[line.length - 1] === 13) line = line.subarray(0, line.length - 1);
      lines.push(line);
      start = end + 1;
    }
    return lines;
  }

  const before = document.getElementById("load-before");
  if (before) {
    before.addEventListener("click", async (e) => {
      e.preventDefault();
      const from = Number(before.dataset.from), to = Number(before.dataset.to);
      const lines = await fetchLines(from, to - from);
      const frag = document.createDocumentFragment();
      lines.forEach((t, i) => frag.append(lineItem(from + i, t)));
      list.prepend(frag);
      if (from <= 1) {
        before.parentElement.remove();
      } else {
        before.dataset.to = String(from);
        before.dataset.from = String(Math.max(1, from - windowSize));
        before.href = "?from=" + before.dataset.from;
      }
    });
  }
  const after = document.getElementById("load-after");
  if (after) {
    after.addEventListener("click", async (e) => {
      e.preventDefault();
      const from = Number(after.dataset.from);
      const lines = await fetchLines(from, windowSize + 1);
      const shown = lines.slice(0, windowSize);
      const frag = document.createDocumentFragment();
      shown.forEach((t, i) => frag.append(lineItem(from + i, t)));
      list.append(frag);
      if (lines.length <= windowSize) {
        after.parentElement.remove();
      } else {
        after.dataset.from = String(from + windowSize);
        after.href = "?from=" + after.dataset.from;
      }
    });
  }
})();
