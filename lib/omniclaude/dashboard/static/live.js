// Live timeline: polls the session's events.json and appends new events. Captured text is inserted
// with textContent only, never as markup.
(function () {
  "use strict";
  var list = document.getElementById("timeline");
  if (!list) { return; }
  var url = list.getAttribute("data-events-url");
  var after = parseInt(list.getAttribute("data-after") || "0", 10);
  var every = 1000 * parseFloat(list.getAttribute("data-poll-seconds") || "2");
  var state = document.getElementById("live-state");

  function span(cls, text) {
    var el = document.createElement("span");
    el.className = cls;
    el.textContent = text;
    return el;
  }

  function item(e) {
    var li = document.createElement("li");
    li.className = "event new" + (e.success === false ? " failed" : "");
    li.classList.add(String(e.hook_event_name).replace(/[^A-Za-z]/g, ""));
    li.setAttribute("data-event-id", String(e.id));
    var time = document.createElement("time");
    time.textContent = String(e.occurred_at).slice(11, 19);
    li.appendChild(time);
    li.appendChild(span("hook", e.hook_event_name));
    if (e.tool_name) { li.appendChild(span("tool", e.tool_name)); }
    if (e.duration_ms !== null && e.duration_ms !== undefined) { li.appendChild(span("ms", e.duration_ms + " ms")); }
    if (e.success === true) { li.appendChild(span("badge ok", "ok")); }
    if (e.success === false) { li.appendChild(span("badge fail", "failed")); }
    if (e.text) { li.appendChild(span("text", String(e.text).slice(0, 400))); }
    return li;
  }

  function agentList(e) {
    var nested = list.querySelectorAll("ol[data-agent-id]");
    for (var i = 0; i < nested.length; i++) {
      if (nested[i].getAttribute("data-agent-id") === e.agent_id) { return nested[i]; }
    }
    var block = document.createElement("li");
    block.className = "subagent";
    var head = document.createElement("div");
    head.className = "subagent-head";
    head.appendChild(document.createTextNode("subagent "));
    var strong = document.createElement("strong");
    strong.textContent = e.agent_type || "unknown";
    head.appendChild(strong);
    block.appendChild(head);
    var ol = document.createElement("ol");
    ol.className = "timeline nested";
    ol.setAttribute("data-agent-id", e.agent_id);
    block.appendChild(ol);
    list.appendChild(block);
    return ol;
  }

  function poll() {
    fetch(url + "?after=" + after, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { if (state) { state.textContent = "offline"; } return; }
        if (state) { state.textContent = "live"; }
        (data.events || []).forEach(function (e) {
          if (e.id <= after) { return; }
          (e.agent_id ? agentList(e) : list).appendChild(item(e));
          after = e.id;
        });
      })
      .catch(function () { if (state) { state.textContent = "offline"; } })
      .then(function () { window.setTimeout(poll, every); });
  }
  window.setTimeout(poll, every);
}());
