/* A button with data-print prints the page (in place of an inline onclick="window.print()", which the
 * Content-Security-Policy refuses to run). */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
}());
