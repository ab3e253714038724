// The dashboard page. Event data (payloads, error text, ids) is only ever inserted with
// textContent: never innerHTML, so a "<script>" in an event shows as text.
(function () {
  "use strict";

  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var actionsEnabled = document.querySelector('meta[name="actions-enabled"]').content === "true";
  var REFRESH_MS = 2000;
  var dl = { cursor: null, pageStart: null, current: null, selected: {} };

  function $(id) { return document.getElementById(id); }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }

  function row(cells) {
    var tr = document.createElement("tr");
    cells.forEach(function (c) {
      if (c instanceof Node) { var td = document.createElement("td"); td.appendChild(c); tr.appendChild(td); }
      else { tr.appendChild(el("td", c === undefined || c === null ? "" : c, typeof c === "number" ? "num" : null)); }
    });
    return tr;
  }

  function ms(v) {
    if (v === null || v === undefined) { return "–"; }
    if (v < 1000) { return v + " ms"; }
    if (v < 60000) { return (v / 1000).toFixed(1) + " s"; }
    if (v < 3600000) { return (v / 60000).toFixed(1) + " min"; }
    return (v / 3600000).toFixed(1) + " h";
  }

  function time(epochMs) { return epochMs ? new Date(epochMs).toLocaleTimeString() : ""; }

  function say(text, isError) {
    var m = $("message");
    m.textContent = text;
    m.className = text ? (isError ? "error" : "info") : "";
  }

  function getJson(url) {
    return fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) { throw new Error(body && body.error ? body.error : "HTTP " + r.status); }
          return body;
        });
      });
  }

  function act(path, body) {
    var token = $("token").value;
    try { sessionStorage.setItem("dashboardToken", token); } catch (e) { /* storage off: keep the field */ }
    return fetch("api/" + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-Dashboard-Csrf": csrf, "X-Dashboard-Token": token },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().then(function (b) {
        if (!r.ok) { throw new Error("refused (" + r.status + "): " + (b && b.error ? b.error : "")); }
        return b;
      });
    });
  }

  // ---- overview ----

  function renderOverview(o) {
    var s = $("status");
    s.textContent = o.status;
    s.className = "badge " + o.status;
    $("instance").textContent = o.instanceId + " · " + o.state;
    $("paused").classList.toggle("hidden", !o.paused);
    $("c-processed").textContent = o.eventsProcessed;
    $("c-succeeded").textContent = o.eventsSucceeded;
    $("c-failed").textContent = o.eventsFailed;
    $("c-retried").textContent = o.eventsRetried;
    $("c-dead").textContent = o.eventsDeadLettered;
    $("c-active").textContent = o.activeEvents;
    $("card-delayed").classList.toggle("hidden", o.delayedWaiting === null);
    $("c-delayed").textContent = o.delayedWaiting === null ? "" : o.delayedWaiting;
    $("nav-schedules").classList.toggle("hidden", !o.schedules);
    $("mode").textContent = o.actionsEnabled ? "actions enabled" : "read-only";
    if (document.activeElement !== $("scale-count")) { $("scale-count").value = o.configuredWorkers; }

    $("streams").tBodies[0].replaceChildren.apply($("streams").tBodies[0], o.streams.map(function (st) {
      var tr = row([st.stream, st.group, st.partition === null ? "–" : st.partition, st.owner, st.length,
        st.lag < 0 ? "?" : st.lag, st.pending, st.retryScheduled, ms(st.oldestPendingMs), st.deadLetters]);
      var names = ["stream", "group", "partition", "owner", "length", "lag", "pending", "retryScheduled",
        "oldestPending", "deadLetters"];
      Array.prototype.forEach.call(tr.children, function (td, i) { td.dataset.field = names[i]; });
      return tr;
    }));
    $("workers").tBodies[0].replaceChildren.apply($("workers").tBodies[0], o.workers.map(function (w) {
      var badge = el("span", w.status, "badge " + w.status);
      return row([w.workerId, badge, w.state, w.activeEvents, w.eventsProcessed, w.eventsFailed, w.reason,
        w.lastError]);
    }));
    $("consumers").tBodies[0].replaceChildren.apply($("consumers").tBodies[0], o.consumers.map(function (c) {
      return row([c.name, c.pending, ms(c.idleMs)]);
    }));
    if (o.replayAllRunning) { say("replaying all dead letters…", false); }
  }

  function renderOutcomes(rows) {
    var body = $("outcomes").tBodies[0];
    body.replaceChildren.apply(body, rows.map(function (r) {
      return row([new Date(r.at).toLocaleTimeString(), r.kind, r.eventType, r.eventId, r.tenant, r.attempt,
        r.category, r.error]);
    }));
  }

  function renderChart(data) {
    var c = $("chart");
    var ctx = c.getContext("2d");
    var w = c.width, h = c.height, pad = 28;
    ctx.clearRect(0, 0, w, h);
    var pts = data.points;
    var max = 1;
    pts.forEach(function (p) { max = Math.max(max, p.succeeded, p.failed, p.deadLettered); });
    ctx.strokeStyle = "#ccd";
    ctx.fillStyle = "#666";
    ctx.font = "11px sans-serif";
    ctx.beginPath(); ctx.moveTo(pad, 4); ctx.lineTo(pad, h - pad); ctx.lineTo(w - 4, h - pad); ctx.stroke();
    ctx.fillText(String(max), 2, 12);
    ctx.fillText("0", 12, h - pad);
    if (pts.length > 0) {
      ctx.fillText(time(pts[0].t), pad, h - 10);
      ctx.fillText(time(pts[pts.length - 1].t), w - 70, h - 10);
    }
    var total = 0;
    pts.forEach(function (p) { total += p.succeeded + p.failed + p.deadLettered; });
    c.dataset.events = String(total);
    var step = pts.length > 1 ? (w - pad - 8) / (pts.length - 1) : 0;
    [["succeeded", "#2e7d32"], ["failed", "#c62828"], ["deadLettered", "#37474f"]].forEach(function (s) {
      ctx.strokeStyle = s[1];
      ctx.lineWidth = 2;
      ctx.beginPath();
      pts.forEach(function (p, i) {
        var x = pad + i * step, y = h - pad - (p[s[0]] / max) * (h - pad - 8);
        if (i === 0) { ctx.moveTo(x, y); } else { ctx.lineTo(x, y); }
      });
      ctx.stroke();
    });
  }

  function refresh() {
    var reads = [
      getJson("api/overview").then(renderOverview),
      getJson("api/throughput").then(renderChart),
      getJson("api/outcomes").then(renderOutcomes)
    ];
    // Every schedule is read from Redis: only while its view is open.
    if (location.hash === "#schedules") { reads.push(loadSchedules()); }
    return Promise.all(reads).catch(function (e) { say("could not refresh: " + e.message, true); });
  }

  // ---- schedules ----

  function when(iso) {
    if (!iso) { return el("span", "–"); }
    var s = el("time", new Date(iso).toLocaleString());
    s.dateTime = iso;
    s.title = iso;
    return s;
  }

  function button(text, cls) {
    var b = el("button", text, cls);
    b.type = "button";
    return b;
  }

  function loadSchedules() {
    return getJson("api/schedules").then(function (list) {
      $("sc-total").textContent = list.items.length < list.total
        ? list.items.length + " of " + list.total + " schedules shown"
        : list.total + " schedule" + (list.total === 1 ? "" : "s");
      $("sc-delayed").textContent = list.delayedWaiting === null ? "–" : list.delayedWaiting;
      var body = $("sc-rows");
      body.replaceChildren.apply(body, list.items.map(function (sc) {
        var acts = document.createElement("span");
        acts.appendChild(button(sc.paused ? "Resume" : "Pause", sc.paused ? "sc-resume" : "sc-pause"));
        acts.appendChild(button("Trigger now", "sc-trigger"));
        acts.appendChild(button("Delete", "sc-delete danger"));
        var tr = row([sc.id, el("span", sc.paused ? "paused" : "active", "badge " + (sc.paused ? "degraded" : "healthy")),
          sc.timing, sc.zone === null ? "–" : sc.zone, sc.eventType, when(sc.nextFire), when(sc.lastFire), sc.fired, sc.skipped,
          sc.misfire + " / " + sc.overlap, acts]);
        var names = ["id", "state", "timing", "zone", "eventType", "nextFire", "lastFire", "fired", "skipped",
          "policies", "actions"];
        Array.prototype.forEach.call(tr.children, function (td, i) { td.dataset.field = names[i]; });
        tr.lastChild.classList.add("actions-only");
        tr.dataset.id = sc.id;
        return tr;
      }));
    }).catch(function (e) { say("schedules: " + e.message, true); });
  }

  function scheduleAction(ev) {
    var b = ev.target.closest("button");
    if (!b) { return; }
    var id = b.closest("tr").dataset.id;
    var action = b.classList.contains("sc-pause") ? "pause" : b.classList.contains("sc-resume") ? "resume"
      : b.classList.contains("sc-trigger") ? "trigger" : "delete";
    if (action === "delete" && !window.confirm("Delete schedule " + id + "? Occurrences already published still run.")) {
      return;
    }
    act("schedules/" + action, { id: id }).then(function (r) {
      say(action === "trigger" ? "triggered " + id + ": event " + r.eventId
        : (action === "pause" ? "paused " : action === "resume" ? "resumed " : "deleted ") + id, false);
      return loadSchedules();
    }).catch(failed);
  }

  // ---- dead letters ----

  function searchQuery(cursor) {
    var p = new URLSearchParams();
    p.set("type", $("dl-type").value);
    p.set("tenant", $("dl-tenant").value);
    p.set("q", $("dl-q").value);
    p.set("limit", "25");
    if (cursor) { p.set("cursor", cursor); }
    return "api/dead-letters?" + p.toString();
  }

  function loadDeadLetters(cursor) {
    return getJson(searchQuery(cursor)).then(function (page) {
      dl.cursor = page.cursor;
      dl.selected = {};
      $("dl-select-all").checked = false;
      $("dl-total").textContent = page.total + " dead letters in total";
      $("dl-scan").textContent = page.items.length + " shown, " + page.scanned + " read"
        + (page.cursor ? "; older entries remain" : "; end reached");
      $("dl-next").disabled = !page.cursor;
      var body = $("dl-rows");
      body.replaceChildren.apply(body, page.items.map(function (d) {
        var box = document.createElement("input");
        box.type = "checkbox";
        box.className = "dl-check";
        box.addEventListener("click", function (ev) {
          ev.stopPropagation();
          if (box.checked) { dl.selected[d.id] = true; } else { delete dl.selected[d.id]; }
        });
        var tr = row([box, d.movedAt, d.eventType, d.tenant, d.eventId,
          d.category, d.attempts, d.error]);
        tr.className = "clickable";
        tr.dataset.id = d.id;
        tr.lastChild.className = "err";
        tr.addEventListener("click", function () { showDeadLetter(d.id); });
        return tr;
      }));
    }).catch(function (e) { say("dead letters: " + e.message, true); });
  }

  // A partitioned stream's dead letter is "partition/id". Its slash stays a slash: servlet
  // containers such as Tomcat refuse an encoded one (%2F) before the dashboard sees the request.
  function deadLetterUrl(id) {
    return "api/dead-letters/" + id.split("/").map(encodeURIComponent).join("/");
  }

  function showDeadLetter(id) {
    return getJson(deadLetterUrl(id)).then(function (d) {
      dl.current = d.id;
      $("dl-detail").classList.remove("hidden");
      $("dl-detail-id").textContent = d.id;
      var body = $("dl-fields").tBodies[0];
      body.replaceChildren.apply(body, Object.keys(d.fields).map(function (k) { return row([k, d.fields[k]]); }));
      $("dl-original").textContent = d.original ? JSON.stringify(d.original, null, 2) : d.originalRaw;
      $("dl-stack").textContent = d.stack || "(no stack recorded)";
    }).catch(function (e) { say(e.message, true); });
  }

  function afterAction(text) {
    say(text, false);
    return Promise.all([refresh(), loadDeadLetters(null)]);
  }

  function failed(e) { say(e.message, true); }

  function wire() {
    if (!actionsEnabled) { document.body.classList.add("read-only"); }
    try { $("token").value = sessionStorage.getItem("dashboardToken") || ""; } catch (e) { /* storage off */ }

    function show() {
      var view = location.hash === "#dead-letters" ? "dead-letters"
        : location.hash === "#schedules" ? "schedules" : "overview";
      $("view-overview").classList.toggle("hidden", view !== "overview");
      $("view-dead-letters").classList.toggle("hidden", view !== "dead-letters");
      $("view-schedules").classList.toggle("hidden", view !== "schedules");
      document.querySelectorAll("header nav a").forEach(function (a) {
        a.classList.toggle("active", a.dataset.view === view);
      });
      if (view === "dead-letters") { loadDeadLetters(null); }
      if (view === "schedules") { loadSchedules(); }
    }
    window.addEventListener("hashchange", show);

    $("sc-rows").addEventListener("click", scheduleAction);
    $("dl-form").addEventListener("submit", function (ev) { ev.preventDefault(); loadDeadLetters(null); });
    $("dl-first").addEventListener("click", function () { loadDeadLetters(null); });
    $("dl-next").addEventListener("click", function () { if (dl.cursor) { loadDeadLetters(dl.cursor); } });
    $("dl-select-all").addEventListener("change", function () {
      var on = $("dl-select-all").checked;
      document.querySelectorAll("#dl-rows tr").forEach(function (tr) {
        tr.querySelector(".dl-check").checked = on;
        if (on) { dl.selected[tr.dataset.id] = true; } else { delete dl.selected[tr.dataset.id]; }
      });
    });
    $("dl-replay-one").addEventListener("click", function () {
      if (!dl.current) { return; }
      act("dead-letters/replay", { ids: [dl.current] }).then(function (r) {
        $("dl-detail").classList.add("hidden");
        return afterAction(r.replayed.length ? "replayed " + r.replayed[0] : "already gone: " + r.missing[0]);
      }).catch(failed);
    });
    $("dl-replay-selected").addEventListener("click", function () {
      var ids = Object.keys(dl.selected);
      if (ids.length === 0) { say("select dead letters first", true); return; }
      act("dead-letters/replay", { ids: ids }).then(function (r) {
        return afterAction("replayed " + r.replayed.length + ", already gone " + r.missing.length);
      }).catch(failed);
    });
    $("dl-replay-all").addEventListener("click", function () {
      if (!window.confirm("Replay every dead letter (rate-limited)?")) { return; }
      act("dead-letters/replay-all").then(function (r) {
        say("replaying all dead letters at " + r.perSecond + " per second", false);
      }).catch(failed);
    });
    $("dl-purge").addEventListener("click", function () {
      if (!window.confirm("Delete every dead letter for good?")) { return; }
      act("dead-letters/purge").then(function (r) { return afterAction("purged " + r.purged); }).catch(failed);
    });
    $("pause").addEventListener("click", function () {
      act("service/pause").then(function () { return afterAction("paused"); }).catch(failed);
    });
    $("resume").addEventListener("click", function () {
      act("service/resume").then(function () { return afterAction("resumed"); }).catch(failed);
    });
    $("scale").addEventListener("click", function () {
      var n = parseInt($("scale-count").value, 10);
      act("service/scale", { workers: n }).then(function () { return afterAction("scaled to " + n + " workers"); })
        .catch(failed);
    });

    show();
    refresh();
    setInterval(refresh, REFRESH_MS);
  }

  wire();
}());
