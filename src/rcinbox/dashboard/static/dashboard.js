// rcinbox dashboard: progressive enhancement only. Every page works without this file.
(function () {
  "use strict";

  // The extension switcher shows the chosen extension at once (its button stays for no-JS).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    var form = select.form;
    form.querySelectorAll(".js-hide").forEach(function (b) { b.hidden = true; });
    select.addEventListener("change", function () { form.submit(); });
  });

  var feed = document.getElementById("feed");
  if (!feed || !window.EventSource) return;
  var state = document.getElementById("live-state");
  var empty = document.getElementById("feed-empty");
  var today = document.getElementById("today");
  var lastEvent = document.getElementById("last-event");
  var labels = { received: "received", decided: "decided", answered: "answered", "caught-up": "caught up" };

  function setState(name, text) {
    state.dataset.state = name;
    state.textContent = text;
  }

  function clock(iso) {  // HH:MM in the owner's time zone, as the server writes the page
    var options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    try {
      return new Date(iso).toLocaleTimeString("en-GB", Object.assign({ timeZone: feed.dataset.tz }, options));
    } catch (e) {
      return new Date(iso).toLocaleTimeString("en-GB", options);
    }
  }

  function item(a) {
    var li = document.createElement("li");
    li.className = "feed-item feed-" + a.kind + " feed-new";
    var parts = [
      ["feed-kind", labels[a.kind] || a.kind],
      ["feed-who", a.counterpart],
      ["feed-text", a.text || a.detail]
    ];
    parts.forEach(function (p) {
      var span = document.createElement("span");
      span.className = p[0];
      span.textContent = p[1];  // text only: nothing from a message is ever read as HTML
      li.appendChild(span);
    });
    var time = document.createElement("time");
    time.className = "feed-time";
    time.dateTime = a.at;
    time.textContent = clock(a.at);
    li.appendChild(time);
    return li;
  }

  var source = new EventSource(feed.dataset.events);
  source.addEventListener("open", function () { setState("live", "Live"); });
  source.addEventListener("error", function () { setState("offline", "Reconnecting…"); });
  source.addEventListener("activity", function (event) {
    var a = JSON.parse(event.data);
    feed.insertBefore(item(a), feed.firstChild);
    while (feed.children.length > 50) feed.removeChild(feed.lastChild);
    if (empty) empty.hidden = true;
    if (a.kind === "received" && lastEvent) lastEvent.textContent = "just now";
    if (today && window.fetch) {  // today's counts, as the server counts them
      fetch(today.dataset.live, { credentials: "same-origin" })
        .then(function (answer) { return answer.ok ? answer.text() : null; })
        .then(function (html) { if (html !== null) today.innerHTML = html; });  // rendered and escaped there
    }
  });
})();
