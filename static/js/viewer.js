/* The doctors' series viewer: one image at a time, Previous/Next and the arrow keys.
 *
 * Without JavaScript the buttons are plain links to ?image=N (and ?preset=...).
 * With it, the image is swapped in place, the address is updated, and only the
 * image shown and the next one are loaded (the next one is prefetched).
 */
(function () {
  "use strict";
  var root = document.querySelector("[data-viewer]");
  var dataNode = document.getElementById("viewer-data");
  if (!root || !dataNode) return;
  var data = JSON.parse(dataNode.textContent);
  var ids = data.ids;
  var index = data.index;
  var preset = data.preset;
  var image = root.querySelector("[data-viewer-image]");
  var position = root.querySelector("[data-viewer-position]");
  var previous = root.querySelector("[data-viewer-previous]");
  var next = root.querySelector("[data-viewer-next]");
  var presetLinks = root.querySelectorAll("[data-preset]");
  var prefetched = {};

  function src(i) {
    var url = data.src.replace("{id}", String(ids[i]));
    return preset && preset !== "default" ? url + "?preset=" + encodeURIComponent(preset) : url;
  }

  function pageUrl(i, code) {
    var params = new URLSearchParams();
    params.set("image", String(i + 1));
    if (code && code !== "default") params.set("preset", code);
    return window.location.pathname + "?" + params.toString();
  }

  function prefetch(i) {
    if (i < 0 || i >= ids.length) return;
    var url = src(i);
    if (prefetched[url]) return;
    prefetched[url] = new Image();
    prefetched[url].src = url;
  }

  function setLink(link, i) {
    if (!link) return;
    if (i >= 0 && i < ids.length) {
      link.href = pageUrl(i, preset);
      link.classList.remove("disabled");
      link.removeAttribute("aria-disabled");
    } else {
      link.removeAttribute("href");
      link.classList.add("disabled");
      link.setAttribute("aria-disabled", "true");
    }
  }

  function render() {
    var label = position.getAttribute("data-template")
      .replace("{n}", String(index + 1))
      .replace("{total}", String(ids.length));
    image.src = src(index);
    image.alt = label;
    position.textContent = label;
    root.setAttribute("data-index", String(index));
    setLink(previous, index - 1);
    setLink(next, index + 1);
    presetLinks.forEach(function (link) {
      var code = link.getAttribute("data-preset");
      var current = code === preset;
      link.href = pageUrl(index, code);
      link.classList.toggle("btn-primary", current);
      link.classList.toggle("btn-outline-primary", !current);
      if (current) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    });
    window.history.replaceState(null, "", pageUrl(index, preset));
    prefetch(index + 1);
  }

  function go(step) {
    var target = index + step;
    if (target < 0 || target >= ids.length) return;
    index = target;
    render();
  }

  function onClick(step) {
    return function (event) {
      event.preventDefault();
      go(step);
    };
  }

  if (previous) previous.addEventListener("click", onClick(-1));
  if (next) next.addEventListener("click", onClick(1));
  presetLinks.forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      preset = link.getAttribute("data-preset");
      render();
    });
  });
  document.addEventListener("keydown", function (event) {
    var tag = (event.target && event.target.tagName) || "";
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(tag) || event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    if (event.key === "ArrowRight" || event.key === "ArrowDown") {
      event.preventDefault();
      go(1);
    } else if (event.key === "ArrowLeft" || event.key === "ArrowUp") {
      event.preventDefault();
      go(-1);
    }
  });
  // Swipe on a tablet.
  var touchX = null;
  image.addEventListener("touchstart", function (event) {
    touchX = event.changedTouches[0].clientX;
  }, { passive: true });
  image.addEventListener("touchend", function (event) {
    if (touchX === null) return;
    var dx = event.changedTouches[0].clientX - touchX;
    touchX = null;
    if (Math.abs(dx) > 40) go(dx < 0 ? 1 : -1);
  }, { passive: true });
  var link = root.querySelector("[data-viewer-prefetch]");
  if (link) prefetched[link.getAttribute("href")] = true;
})();
