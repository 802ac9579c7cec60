// rcinbox dashboard, Out of office: the preview follows the form as the user types (progressive
// enhancement: without this file the "Preview" button posts the form and the page shows the same).
(function () {
  "use strict";
  var form = document.getElementById("ooo");
  var box = document.getElementById("preview");
  if (!form || !box || !window.fetch) return;
  var button = document.getElementById("preview-button");
  if (button) button.hidden = true;  // the preview is live now
  var timer = null;
  var asked = 0;

  function refresh() {
    var body = new URLSearchParams(new FormData(form));
    body.delete("action");
    var ticket = ++asked;
    fetch(form.dataset.preview, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) {
        if (html !== null && ticket === asked) box.innerHTML = html;  // rendered and escaped there
      });
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  }

  form.addEventListener("input", soon);
  form.addEventListener("change", soon);
  var errors = document.getElementById("errors");
  if (errors) errors.focus();
})();
