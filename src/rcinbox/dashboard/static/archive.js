// rcinbox dashboard: the open conversation list or thread follows the live feed (progressive
// enhancement: without this file, a reload shows the same). When an activity arrives (for this
// thread's number, or any on the list), the server's rendered fragment replaces the old one.
(function () {
  "use strict";
  var box = document.getElementById("thread") || document.getElementById("conversations");
  if (!box || !window.EventSource || !window.fetch) return;
  var who = box.dataset.counterpart;
  var pending = false;
  var again = false;  // an activity came while a fetch was on its way: fetch once more after it

  function refresh() {
    if (pending) { again = true; return; }
    pending = true;
    again = false;
    fetch(box.dataset.live, { credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) { if (html !== null) box.innerHTML = html; })  // the server escaped it
      .finally(function () {
        pending = false;
        if (again) refresh();
      });
  }

  var source = new EventSource(box.dataset.events);
  source.addEventListener("activity", function (event) {
    var a = JSON.parse(event.data);
    if (!who || a.counterpart === who) refresh();
  });
})();
