// Before the page is painted, so that nothing moves: the script the reader chose (简/繁,
// remembered in a cookie by site.js: a page of the other script gives way to its twin, whose
// address says which it is), the reader's text size (大/中/小), and a mark that scripts run,
// which shows the reading tools.
(function () {
  "use strict";
  var root = document.documentElement;
  var chosen = (document.cookie.match(/(?:^|; )bulletins-script=(hant|hans)/) || [])[1];
  var traditional = root.lang === "zh-Hant";
  if (chosen && (chosen === "hant") !== traditional) {
    var twin = document.querySelector('link[rel="alternate"][hreflang="' + (chosen === "hant" ? "zh-Hant" : "zh-Hans") + '"]');
    if (twin) {
      location.replace(twin.href + location.search + location.hash);
      return;
    }
  }
  root.classList.add("js");
  try {
    var size = localStorage.getItem("bulletins-size");
    if (size === "large" || size === "small") root.setAttribute("data-size", size);
  } catch (e) { /* storage refused: the usual size */ }
})();
