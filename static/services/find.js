/* The caregiver's day: find a person by name as it is typed, with no round trip (the page also works offline, from
 * the phone's cache, where a search sent to the server could not be answered). Without script the form is sent. */
(function () {
  "use strict";
  var input = document.getElementById("find-person");
  if (!input) { return; }
  var none = document.getElementById("find-none");
  function filter() {
    var query = input.value.trim();
    var shown = 0;
    document.querySelectorAll(".visit-card[data-name]").forEach(function (card) {
      var match = !query || card.getAttribute("data-name").indexOf(query) !== -1;
      card.hidden = !match;
      if (match) { shown += 1; }
    });
    if (none) { none.hidden = shown > 0 || !query; }
  }
  input.addEventListener("input", filter);
  input.form.addEventListener("submit", function (event) {
    if (navigator.onLine === false) { event.preventDefault(); filter(); }
  });
}());
