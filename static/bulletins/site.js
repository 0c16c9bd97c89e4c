// Progressive enhancement only: without JavaScript every link, anchor and the table of
// contents still work. Served from our origin, so the Content-Security-Policy allows it.
(function () {
  "use strict";

  // A section's link copies the section's title and a readable address (never the ?hl= of a
  // page opened from search) as it goes there, and says so, to screen readers too.
  var said = document.createElement("p");
  said.className = "copied";
  said.setAttribute("role", "status");
  document.body.appendChild(said);
  var saying;
  // The page's own words (article.html), in the page's script.
  var message = function (key, fallback) {
    var node = document.querySelector('[data-message="' + key + '"]');
    return node ? node.textContent : fallback;
  };
  var say = function (text) {
    said.textContent = text;
    clearTimeout(saying);
    saying = setTimeout(function () { said.textContent = ""; }, 2500);
  };
  // A section's short address (the page names its first section's: data-section; the server
  // sends it on to the section): ASCII, so a chat app keeps it whole. n counts the page's
  // sections, as the server does; a traditional page keeps its prefix.
  var sectionsOfPage = Array.prototype.slice.call(document.querySelectorAll(".bulletin-body > section[id]"));
  var article = document.querySelector(".bulletin[data-section]");
  var shortOf = function (kind, n) { // kind: "section" or "paragraph"; the page names the first's address
    var page = article.getAttribute("data-page");
    var prefix = location.pathname.endsWith(page) ? location.pathname.slice(0, -page.length) : "";
    return location.origin + prefix + article.getAttribute("data-" + kind).replace(/1\/$/, n + "/");
  };
  var shortAddress = function (section) { return shortOf("section", sectionsOfPage.indexOf(section) + 1); };
  if (navigator.clipboard) {
    document.querySelectorAll(".headerlink").forEach(function (link) {
      link.title = message("copy-link", "复制本节链接");
      link.addEventListener("click", function () {
        var title = link.getAttribute("aria-label").split("：").slice(1).join("：");
        navigator.clipboard.writeText(title + " " + shortAddress(link.closest("section"))).then(function () {
          say(message("copied-link", "已复制本节链接：") + title);
        }, function () { /* no permission: the link still leads there */ });
      });
    });
    // 引用: each titled section's reference as GB/T 7714 sets it (bulletins/citation.py makes
    // it; the day of citing is the reader's), copied in one action.
    var bulletin = document.querySelector(".bulletin[data-reference]");
    if (bulletin) {
      var today = function () {
        var d = new Date();
        var two = function (n) { return (n < 10 ? "0" : "") + n; };
        return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate());
      };
      sectionsOfPage.forEach(function (section) {
        var heading = section.querySelector(":scope > h2, :scope > h3, :scope > h4, :scope > h5, :scope > h6, .lead-in");
        if (!heading) return;
        var title = heading.textContent.replace(/。$/, "");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "cite";
        button.textContent = message("cite", "引用");
        button.setAttribute("aria-label", message("cite-label", "复制本节的引用：") + title);
        button.addEventListener("click", function () {
          var reference = bulletin.getAttribute("data-reference").replace("{section}", title)
            .replace("{cited_on}", today()).replace("{address}", shortAddress(section));
          navigator.clipboard.writeText(reference).then(function () {
            say(message("cited", "已复制引用：") + title);
          }, function () { /* no permission */ });
        });
        section.appendChild(button);
      });
      // And each paragraph that has its own link: 第 n 段, as search results count them, with its
      // own short address; in the margin beside it from its hover, as its link (site.css).
      sectionsOfPage.forEach(function (section) {
        var heading = section.querySelector(":scope > h2, :scope > h3, :scope > h4, :scope > h5, :scope > h6, .lead-in");
        var title = heading ? heading.textContent.replace(/。$/, "") : "";
        var first = Number(section.getAttribute("data-first"));
        Array.prototype.forEach.call(section.children, function (block) {
          var number = block.id && block.id.match(/-p(\d+)$/);
          if (!number || !block.querySelector(":scope > .pilcrow")) return;
          var n = first + Number(number[1]) - 1;
          var which = (title ? title + " " : "") + message("paragraph", "第 {n} 段").replace("{n}", n);
          var button = document.createElement("button");
          button.type = "button";
          button.className = "cite cite-paragraph";
          button.tabIndex = -1; // as the paragraph's link: the section's 引用 is in the tab order
          button.textContent = message("cite", "引用");
          button.setAttribute("aria-label", message("cite-paragraph-label", "复制本段的引用") + "：" + which);
          button.addEventListener("click", function () {
            var reference = bulletin.getAttribute("data-reference").replace("{section}", which)
              .replace("{cited_on}", today()).replace("{address}", shortOf("paragraph", n));
            navigator.clipboard.writeText(reference).then(function () {
              say(message("cited", "已复制引用：") + which);
            }, function () { /* no permission */ });
          });
          block.appendChild(button);
        });
      });
    }
  }

  // 字号 (大/中/小), remembered for the next page (early.js applies it before painting), and 打印.
  var root = document.documentElement;
  var sizes = document.querySelectorAll(".text-size");
  var pressed = function () {
    var size = root.getAttribute("data-size") || "";
    sizes.forEach(function (button) { button.setAttribute("aria-pressed", String(button.dataset.size === size)); });
  };
  sizes.forEach(function (button) {
    button.addEventListener("click", function () {
      if (button.dataset.size) root.setAttribute("data-size", button.dataset.size); else root.removeAttribute("data-size");
      try {
        if (button.dataset.size) localStorage.setItem("bulletins-size", button.dataset.size); else localStorage.removeItem("bulletins-size");
      } catch (e) { /* not remembered */ }
      pressed();
    });
  });
  pressed();
  document.querySelectorAll(".print-page").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  // The other script's twin of this page, at the same place (the ids are the same in both).
  // The switch is in the header, so a reader scrolls up to it: the place is the block last at
  // the top of the window while the header was out of sight, if the reader left it in the last
  // half minute; else the place a link led to. The choice is remembered (a cookie early.js
  // reads on the next page, which it then opens in that script).
  var header = document.querySelector(".site-header");
  var place = null, placeAt = 0;
  var notePlace = function () {
    if (!header || header.getBoundingClientRect().bottom > 0) return; // on the way to the switch
    var node = Array.prototype.find.call(document.querySelectorAll(".bulletin-body [id]"), function (n) {
      return n.getBoundingClientRect().top >= 0;
    });
    if (node) { place = node.id; placeAt = Date.now(); }
  };
  var noting = false;
  document.addEventListener("scroll", function () {
    if (noting) return;
    noting = true;
    requestAnimationFrame(function () { noting = false; notePlace(); });
  }, { passive: true });
  document.querySelectorAll(".script-switch").forEach(function (link) {
    link.addEventListener("click", function () {
      notePlace();
      link.hash = place && Date.now() - placeAt < 30000 ? "#" + encodeURIComponent(place) : location.hash;
      var script = link.classList.contains("to-hant") ? "hant" : "hans";
      document.cookie = "bulletins-script=" + script + "; path=/; max-age=31536000; samesite=lax";
    });
  });

  // At a bulletin's end, the others that share its key words (api/articles/<slug>/related).
  var related = document.querySelector(".related[data-src]");
  if (related && window.fetch) {
    var traditional = document.documentElement.lang === "zh-Hant";
    fetch(related.dataset.src + (traditional ? "?script=hant" : "")).then(function (response) {
      return response.ok ? response.json() : { related: [] };
    }).then(function (data) {
      var list = related.querySelector(".related-list");
      data.related.forEach(function (item) {
        var entry = document.createElement("li");
        var link = document.createElement("a");
        link.href = item.url;
        link.textContent = item.title;
        entry.appendChild(link);
        if (item.region) entry.appendChild(document.createTextNode("（" + item.region + "）"));
        list.appendChild(entry);
      });
      list.hidden = data.related.length === 0;
    }, function () { /* offline: the region's link is still there */ });
  }

  // A printout names the site and the page's full, readable address (the page itself, stored
  // once for every host, knows only its path).
  document.querySelectorAll(".print-address").forEach(function (node) {
    var address = location.origin + location.pathname;
    try { address = decodeURI(address); } catch (e) { /* as it is */ }
    node.textContent = address;
  });

  // A page opened from search: step through its marks from where the reader landed, "第 n/N 处"
  // (the words come from the page, so a traditional page says them in traditional script).
  var bar = document.querySelector(".search-bar");
  if (bar) {
    var root = document.documentElement;
    var fit = function () { root.style.setProperty("--bar-height", bar.getBoundingClientRect().height + "px"); };
    fit();
    window.addEventListener("resize", fit);
    var landedOn = function () {
      var id = decodeURIComponent(location.hash.slice(1));
      var node = id && document.getElementById(id);
      return node && node.closest(".bulletin") ? node : null;
    };
    var target = landedOn();
    if (target) target.scrollIntoView(); // again, now that the bar's height keeps it clear
    var marks = Array.prototype.slice.call(document.querySelectorAll(".bulletin mark"));
    var count = bar.querySelector(".search-bar-count");
    var format = bar.querySelector(".search-bar-format");
    var at = -1;
    var landed = -1; // the first mark in or after the landed place
    if (target) {
      landed = marks.findIndex(function (m) {
        return target.contains(m) || (target.compareDocumentPosition(m) & Node.DOCUMENT_POSITION_FOLLOWING);
      });
    }
    var step = function (by) {
      var n = marks.length;
      if (at >= 0) {
        marks[at].classList.remove("current");
        at = (at + by + n) % n;
      } else if (landed >= 0) {
        at = by > 0 ? landed : (landed - 1 + n) % n;
      } else {
        at = by > 0 ? 0 : n - 1;
      }
      marks[at].classList.add("current");
      marks[at].scrollIntoView({ block: "center" });
      count.textContent = format.textContent.replace("{n}", at + 1).replace("{total}", n);
    };
    bar.querySelectorAll(".search-bar-step").forEach(function (button) {
      button.disabled = false;
      button.addEventListener("click", function () { step(Number(button.dataset.by)); });
    });
    // Clearing the marks keeps the reader where they are: the marks and the bar go, the text stays put.
    var clear = bar.querySelector(".search-bar-clear");
    clear.addEventListener("click", function (event) {
      event.preventDefault();
      // What the reader is reading: the first block whose top is below the bar.
      var under = bar.getBoundingClientRect().bottom - 1;
      var anchor = Array.prototype.find.call(document.querySelectorAll(".bulletin-body [id]"), function (node) {
        return node.getBoundingClientRect().top >= under;
      });
      var before = anchor ? anchor.getBoundingClientRect().top : 0;
      root.style.overflowAnchor = "none"; // the browser's own scroll anchoring would move it twice
      marks.forEach(function (m) {
        var parent = m.parentNode;
        parent.replaceChild(document.createTextNode(m.textContent), m);
        parent.normalize();
      });
      bar.remove();
      root.style.removeProperty("--bar-height");
      if (anchor && anchor.isConnected) window.scrollBy(0, anchor.getBoundingClientRect().top - before);
      root.style.removeProperty("overflow-anchor");
      history.replaceState(null, "", clear.getAttribute("href") + location.hash);
    });
  }

  var toc = document.querySelector(".toc details");
  if (!toc) return;

  // Shipped folded, so that nothing moves on phones; beside the text (wide screens) it opens,
  // in a column of its own where opening it moves nothing either.
  var wide = window.matchMedia("(min-width: 64rem)");
  if (wide.matches) toc.open = true;
  window.addEventListener("hashchange", function () {
    if (location.hash === "#contents") toc.open = true;
  });

  // Mark the entry of the section being read: the one a link led to on arrival, then the one
  // whose heading last crossed the top, the last one at the bottom, none above the first.
  var entries = new Map();
  toc.querySelectorAll("a[href^='#']").forEach(function (a) {
    entries.set(decodeURIComponent(a.hash.slice(1)), a);
  });
  var current = null;
  function mark(entry) {
    if (entry === current) return;
    if (current) { current.classList.remove("current"); current.removeAttribute("aria-current"); }
    if (entry) { entry.classList.add("current"); entry.setAttribute("aria-current", "location"); }
    current = entry;
  }
  var sections = Array.prototype.slice.call(document.querySelectorAll(".bulletin-body section[id]"));
  var owner = new Map(); // each section, titled or not, belongs to the last titled one up to it
  var last = null;
  sections.forEach(function (section) {
    if (entries.has(section.id)) last = entries.get(section.id);
    owner.set(section, last);
  });
  function entryFor(node) {
    var section = node && node.closest ? node.closest(".bulletin-body section[id]") : null;
    return section ? owner.get(section) : null;
  }
  function crossed() {
    var reading = null;
    for (var i = 0; i < sections.length; i++) {
      var margin = parseFloat(getComputedStyle(sections[i]).scrollMarginTop) || 0;
      if (sections[i].getBoundingClientRect().top <= margin + 8) reading = sections[i]; else break;
    }
    return reading;
  }
  function update() {
    var root = document.documentElement;
    if (window.scrollY + window.innerHeight >= root.scrollHeight - 2 && window.scrollY > 0) {
      mark(owner.get(sections[sections.length - 1]));
    } else {
      var reading = crossed();
      mark(reading ? owner.get(reading) : null);
    }
  }
  // A link's target keeps its entry while the page stays where the link left it (near the end
  // the page cannot bring the target to the top, and the bottom rule would mark the last one).
  var pinned = null; // the scroll position a link left the page at; -1 until the browser has scrolled
  function arrive() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id && document.getElementById(id);
    if (target && target.closest(".bulletin-body")) {
      mark(entryFor(target));
      pinned = -1;
    } else {
      update();
    }
  }
  var ticking = false;
  document.addEventListener("scroll", function () {
    if (pinned !== null) {
      if (pinned === -1 || Math.abs(window.scrollY - pinned) < 4) { pinned = window.scrollY; return; }
      pinned = null;
    }
    if (ticking) return;
    ticking = true;
    requestAnimationFrame(function () { ticking = false; update(); });
  }, { passive: true });
  ["wheel", "touchstart", "keydown"].forEach(function (name) {
    window.addEventListener(name, function () { pinned = null; }, { passive: true });
  });
  window.addEventListener("hashchange", arrive);
  arrive();
})();
