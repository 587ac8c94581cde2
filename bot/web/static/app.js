// Vestnik's pages work without this file; it only saves clicks.
(function () {
  "use strict";
  // filters: a changed select applies at once
  document.querySelectorAll("select.auto-submit").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  // the status page refreshes itself (data-refresh = seconds)
  var seconds = parseInt(document.body.getAttribute("data-refresh") || "0", 10);
  if (seconds > 0) {
    window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
  }
})();
