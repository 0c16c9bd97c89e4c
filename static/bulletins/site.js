// Progressive enhancement only: without JavaScript every link, anchor and the table of
// contents still work. Served from our origin, so the Content-Security-Policy allows it.
(function () {
  "use strict";

  // "Copy link" beside each section permalink.
  if (navigator.clipboard) {
    document.querySelectorAll(".headerlink").forEach(function (link) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy-link";
      button.textContent = "复制链接";
      // The name starts with the visible text, as WCAG's "label in name" asks.
      button.setAttribute("aria-label", "复制链接：" + link.getAttribute("aria-label").split("：").slice(1).join("："));
      button.addEventListener("click", function () {
        // The section's own address: never the ?hl= of a page opened from search.
        var address = location.origin + location.pathname + link.hash;
        navigator.clipboard.writeText(address).then(function () {
          button.textContent = "已复制";
          setTimeout(function () { button.textContent = "复制链接"; }, 2000);
        });
      });
      link.after(button);
    });
  }

  // A page opened from search: step through its marks, "第 n/N 处".
  var bar = document.querySelector(".search-bar-count");
  var marks = document.querySelectorAll(".bulletin mark");
  if (bar && marks.length) {
    var at = -1;
    var step = function (by) {
      if (at >= 0) marks[at].classList.remove("current");
      at = (at + by + marks.length) % marks.length;
      marks[at].classList.add("current");
      marks[at].scrollIntoView({ block: "center" });
      bar.textContent = "第 " + (at + 1) + "/" + marks.length + " 处";
    };
    var previous = bar;
    [["上一处", -1], ["下一处", 1]].forEach(function (pair) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "search-bar-step";
      button.textContent = pair[0];
      button.addEventListener("click", function () { step(pair[1]); });
      previous.after(button);
      previous = button;
    });
  }

  var toc = document.querySelector(".toc details");
  if (!toc) return;

  // On phones the table of contents starts folded; beside the text it stays open.
  if (window.matchMedia("(max-width: 63.99rem)").matches) toc.open = false;

  // Mark the entry of the section being read.
  var entries = new Map();
  toc.querySelectorAll("a[href^='#']").forEach(function (a) {
    entries.set(decodeURIComponent(a.hash.slice(1)), a);
  });
  var current = null;
  function mark(id) {
    var entry = entries.get(id);
    if (!entry || entry === current) return;
    if (current) { current.classList.remove("current"); current.removeAttribute("aria-current"); }
    entry.classList.add("current");
    entry.setAttribute("aria-current", "location");
    current = entry;
  }
  var sections = Array.prototype.filter.call(document.querySelectorAll(".bulletin-body section[id]"), function (s) {
    return entries.has(s.id);
  });
  function update() {
    var reading = null;
    sections.forEach(function (section) {
      if (section.getBoundingClientRect().top <= window.innerHeight * 0.3) reading = section;
    });
    if (reading) mark(reading.id);
  }
  document.addEventListener("scroll", update, { passive: true });
  window.addEventListener("hashchange", update);
  update();
})();
