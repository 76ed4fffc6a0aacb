/* The top navigation's groups are <details> and work without this. With it, opening one group closes the
 * others; Escape, a click elsewhere or tabbing out closes an open group; the link of the page shown is marked
 * aria-current="page". */
(function () {
  "use strict";
  var nav = document.querySelector("header.top nav");
  if (!nav) { return; }
  var groups = Array.prototype.slice.call(nav.querySelectorAll("details.nav-group"));

  function closeAll(except) { groups.forEach(function (g) { if (g !== except) { g.open = false; } }); }

  groups.forEach(function (g) {
    g.addEventListener("toggle", function () { if (g.open) { closeAll(g); } });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") { return; }
    groups.forEach(function (g) {
      if (g.open) { g.open = false; g.querySelector("summary").focus(); }
    });
  });
  // focus moving elsewhere (tabbing out) or a click elsewhere; not focusout, which some browsers fire on the
  // mousedown of a link in the group, closing it before the click lands
  function closeOutside(e) { groups.forEach(function (g) { if (g.open && !g.contains(e.target)) { g.open = false; } }); }
  document.addEventListener("focusin", closeOutside);
  document.addEventListener("click", closeOutside);

  Array.prototype.forEach.call(nav.querySelectorAll("a[href]"), function (a) {
    if (a.pathname === window.location.pathname && a.search === window.location.search) { a.setAttribute("aria-current", "page"); }
  });
}());
