/* A button with data-confirm="question" asks before it acts (in place of an inline onclick="return confirm(…)",
 * which the Content-Security-Policy refuses to run). Cancelling stops the click, so the form is not sent; without
 * scripts the form is sent without asking, as it always was. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest("[data-confirm]") : null;
    if (target && !window.confirm(target.getAttribute("data-confirm"))) { event.preventDefault(); }
  });
}());
