// Before the page is painted, so that nothing moves: the reader's text size, remembered
// (大/中/小, site.js), and a mark that scripts run, which shows the reading tools.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  try {
    var size = localStorage.getItem("bulletins-size");
    if (size === "large" || size === "small") root.setAttribute("data-size", size);
  } catch (e) { /* storage refused: the usual size */ }
})();
