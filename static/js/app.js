// einstein's small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // Move focus to the summary of form errors so screen readers announce it.
  var problem = document.getElementById("form-problem");
  if (problem) { problem.focus(); }
})();

// Print buttons on booking cards and certificates.
document.addEventListener("click", function (event) {
  var target = event.target.closest ? event.target.closest("[data-print]") : null;
  if (target) { window.print(); }
});
