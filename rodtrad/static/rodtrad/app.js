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
  // "Show more" in a long list of contributors: the button is replaced by the next page,
  // so focus moves to the first new item instead of falling back to the top of the page.
  var pendingFocus = null;
  document.addEventListener("click", function (event) {
    var button = event.target.closest(".tree-more button");
    if (!button) return;
    var item = button.closest("li");
    pendingFocus = { list: item.parentElement, index: Array.prototype.indexOf.call(item.parentElement.children, item) };
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!pendingFocus) return;
    var next = pendingFocus.list.children[pendingFocus.index];
    pendingFocus = null;
    var link = next && next.querySelector("a, button");
    if (link) link.focus();
  });
  // A page that comes back with errors starts at its error summary, so keyboard and
  // screen-reader users learn what went wrong and can follow its links to the fields.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("main .error-summary");
    if (summary) {
      summary.setAttribute("tabindex", "-1");
      summary.focus();
    }
  });
  // After an htmx swap, move focus to what the answer says: the error summary, or else the
  // message of what was done. An outerHTML swap replaces the element that had focus (and
  // event.detail.target is then the old, detached element), so look the target up again;
  // without this, focus would fall back to the start of the page.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target.isConnected && target.id) target = document.getElementById(target.id);
    if (!target) return;
    var summary = target.querySelector("[role=alert]") || target.querySelector(".messages");
    if (summary) {
      summary.setAttribute("tabindex", "-1");
      summary.focus();
    }
  });
})();
