// Röd tråd: the little behaviour htmx does not give us. No inline scripts (strict CSP).
(function () {
  "use strict";
  // Tree toggles: the first click loads the contributors (htmx, "click once"); every click
  // shows or hides them and keeps aria-expanded true to what is on screen.
  document.addEventListener("click", function (event) {
    var button = event.target.closest(".tree-toggle");
    if (!button) return;
    var target = document.getElementById(button.getAttribute("aria-controls"));
    if (!target) return;
    var open = button.getAttribute("aria-expanded") === "true";
    button.setAttribute("aria-expanded", open ? "false" : "true");
    target.hidden = open;
  });
  // After an htmx swap that reports errors, move focus to the error summary.
  document.addEventListener("htmx:afterSwap", function (event) {
    var summary = event.detail.target.querySelector("[role=alert]");
    if (summary) {
      summary.setAttribute("tabindex", "-1");
      summary.focus();
    }
  });
})();
