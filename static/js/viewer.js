/* The doctors' series viewer: one image at a time, in a preset or a free window.
 *
 * Without JavaScript the buttons are plain links to ?image=N (and ?preset=...) and the
 * server's previews are shown. With it:
 * - the image is swapped in place and the address updated; Previous/Next, the arrow keys,
 *   the mouse wheel over the image, Home/End, Page Up/Page Down and a swipe step through it;
 * - when the processing stored the image's values (the "raw" PNG: value = R * 256 + G,
 *   modality value = offset + value * scale), windows are drawn here on a canvas with the
 *   DICOM windowing formula, so a drag on the image (mouse, or one finger when "Adjust
 *   window" is on) changes width and level at once. The web server never decodes DICOM.
 * - the next and previous images are fetched ahead; at most MAX_FRAMES decoded images are
 *   kept in memory.
 */
(function () {
  "use strict";
  var root = document.querySelector("[data-viewer]");
  var dataNode = document.getElementById("viewer-data");
  if (!root || !dataNode) return;
  var data = JSON.parse(dataNode.textContent);
  var ids = data.ids;
  var frames = data.frames || [];
  var text = data.text || {};
  var index = data.index;
  // The preset the doctor chose (kept in the address); none: each image in its own window.
  // An image without the chosen one shows its own too.
  var preset = chosenInAddress();
  // A free window, {center, width, fn}, kept while stepping until a preset or Reset.
  var custom = null;

  var MAX_FRAMES = 20;
  var PAGE = 10;
  var SWIPE = 40; // px of horizontal finger travel that steps one image
  var WHEEL_NOTCH = 40; // px of wheel travel that steps one image (a notch is 50-120)
  var DRAG_SCALE = 200; // px of drag: the width doubles, the level moves by one width

  var stage = root.querySelector("[data-viewer-stage]");
  var image = root.querySelector("[data-viewer-image]");
  var canvas = root.querySelector("[data-viewer-canvas]");
  var position = root.querySelector("[data-viewer-position]");
  var previous = root.querySelector("[data-viewer-previous]");
  var next = root.querySelector("[data-viewer-next]");
  var presetLinks = root.querySelectorAll("[data-preset]");
  var windowTools = root.querySelector("[data-viewer-window]");
  var readout = root.querySelector("[data-viewer-readout]");
  var resetButton = root.querySelector("[data-viewer-reset]");
  var adjustButton = root.querySelector("[data-viewer-adjust]");
  var prefetched = {};
  var shownElement = image;

  // --- Addresses -------------------------------------------------------------------

  function chosenInAddress() {
    var asked = new URLSearchParams(window.location.search).get("preset") || "";
    var known = (data.presets || []).some(function (item) {
      return item.code === asked;
    });
    return known ? asked : "";
  }

  function frame(i) {
    return frames[i] || { default: "", windows: {}, raw: null };
  }

  // Does the server hold image i in window `code`? The preview shows the frame's own
  // window; every other window the frame lists was rendered by the processing.
  function available(i, code) {
    var f = frame(i);
    if (!code || code === f.default) return true;
    return Object.prototype.hasOwnProperty.call(f.windows || {}, code);
  }

  // The preset whose window image i shows (none while a free window is on).
  function shownCode(i) {
    if (custom) return "";
    return preset && available(i, preset) ? preset : frame(i).default || data.preset || "";
  }

  function src(i) {
    var url = data.src.replace("{id}", String(ids[i]));
    var code = custom ? (available(i, preset) ? preset : "") : shownCode(i);
    return code && code !== "default" && code !== frame(i).default
      ? url + "?preset=" + encodeURIComponent(code)
      : url;
  }

  function pageUrl(i, code) {
    var params = new URLSearchParams();
    params.set("image", String(i + 1));
    if (code && code !== "default") params.set("preset", code);
    return window.location.pathname + "?" + params.toString();
  }

  // --- The image's values: fetched, decoded once, kept for the last MAX_FRAMES ----------

  var pixels = new Map(); // id -> {width, height, values: Uint16Array, min, max}
  var loading = {}; // id -> Promise
  var failed = {}; // id -> true: show the server's image instead

  function canWindow(i) {
    return Boolean(data.raw && frame(i).raw && !failed[ids[i]] && window.createImageBitmap);
  }

  function cached(i) {
    var id = ids[i];
    var entry = pixels.get(id);
    if (entry) {
      pixels.delete(id); // most recently used last
      pixels.set(id, entry);
    }
    return entry || null;
  }

  function keep(id, entry) {
    pixels.set(id, entry);
    while (pixels.size > MAX_FRAMES) pixels.delete(pixels.keys().next().value);
  }

  function decode(blob) {
    return createImageBitmap(blob, {
      colorSpaceConversion: "none",
      premultiplyAlpha: "none",
    }).then(function (bitmap) {
      var width = bitmap.width;
      var height = bitmap.height;
      var scratch = document.createElement("canvas");
      scratch.width = width;
      scratch.height = height;
      var context = scratch.getContext("2d", { willReadFrequently: true });
      context.drawImage(bitmap, 0, 0);
      if (bitmap.close) bitmap.close();
      var rgba = context.getImageData(0, 0, width, height).data;
      var values = new Uint16Array(width * height);
      var min = 65535;
      var max = 0;
      for (var p = 0, q = 0; p < values.length; p += 1, q += 4) {
        var v = rgba[q] * 256 + rgba[q + 1];
        values[p] = v;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      return { width: width, height: height, values: values, min: min, max: max };
    });
  }

  function load(i) {
    var id = ids[i];
    var entry = cached(i);
    if (entry) return Promise.resolve(entry);
    if (loading[id]) return loading[id];
    loading[id] = fetch(data.raw.replace("{id}", String(id)), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.blob();
      })
      .then(decode)
      .then(function (decoded) {
        keep(id, decoded);
        return decoded;
      })
      .catch(function (error) {
        failed[id] = true;
        throw error;
      })
      .finally(function () {
        delete loading[id];
      });
    return loading[id];
  }

  // --- Windowing (DICOM PS3.3 C.11.2.1.2), through a 65536-entry lookup table ----------

  var tables = new Map();

  function lookup(win, raw) {
    var key = [win.center, win.width, win.fn, raw[0], raw[1], raw[2]].join("|");
    var table = tables.get(key);
    if (table) return table;
    table = new Uint8Array(65536);
    var offset = raw[0];
    var scale = raw[1];
    var invert = Boolean(raw[2]);
    var c = win.center;
    var w = win.width;
    var fn = String(win.fn || "LINEAR").toUpperCase();
    if (fn === "LINEAR") {
      c -= 0.5;
      w -= 1;
    }
    for (var v = 0; v < 65536; v += 1) {
      var x = offset + v * scale;
      var y;
      if (fn === "SIGMOID") {
        y = 255 / (1 + Math.exp((-4 * (x - win.center)) / win.width));
      } else if (w <= 0) {
        y = x <= c ? 0 : 255;
      } else if (x <= c - w / 2) {
        y = 0;
      } else if (x > c + w / 2) {
        y = 255;
      } else {
        y = ((x - c) / w + 0.5) * 255;
      }
      y = Math.round(y);
      table[v] = invert ? 255 - y : y;
    }
    if (tables.size >= 8) tables.delete(tables.keys().next().value);
    tables.set(key, table);
    return table;
  }

  // The window image i is drawn in: the free one, else the shown preset's numbers
  // (null when that window is a lookup table from the file: the server's image shows it).
  function windowFor(i) {
    if (custom) return custom;
    var numbers = (frame(i).windows || {})[shownCode(i)];
    if (!numbers || typeof numbers[0] !== "number" || typeof numbers[1] !== "number") {
      return null;
    }
    return { center: numbers[0], width: numbers[1], fn: numbers[2] || "LINEAR" };
  }

  function draw(entry, win, raw) {
    if (canvas.width !== entry.width) canvas.width = entry.width;
    if (canvas.height !== entry.height) canvas.height = entry.height;
    var context = canvas.getContext("2d");
    var out = context.createImageData(entry.width, entry.height);
    var rgba = out.data;
    var table = lookup(win, raw);
    var values = entry.values;
    for (var p = 0, q = 0; p < values.length; p += 1, q += 4) {
      var g = table[values[p]];
      rgba[q] = g;
      rgba[q + 1] = g;
      rgba[q + 2] = g;
      rgba[q + 3] = 255;
    }
    context.putImageData(out, 0, 0);
  }

  // --- Showing -------------------------------------------------------------------------

  function fit(width, height) {
    if (!width || !height) return;
    stage.style.setProperty("--viewer-aspect", String(width / height));
    stage.classList.add("viewer-fit");
  }

  function showElement(element) {
    shownElement = element;
    image.hidden = element !== image;
    canvas.hidden = element !== canvas;
  }

  function showServerImage(i) {
    var url = src(i);
    if (image.getAttribute("src") !== url) image.src = url;
    showElement(image);
  }

  var drawToken = 0;

  function show() {
    var i = index;
    var token = (drawToken += 1);
    var win = windowFor(i);
    if (win && canWindow(i)) {
      var entry = cached(i);
      if (entry) {
        draw(entry, win, frame(i).raw);
        fit(entry.width, entry.height);
        showElement(canvas);
        return;
      }
      // Until the values arrive: the server's image of the preset (a free window keeps
      // the last drawing rather than flash another contrast).
      if (!custom || shownElement !== canvas) showServerImage(i);
      load(i).then(
        function () {
          if (token === drawToken) show();
        },
        function () {
          if (token === drawToken) showServerImage(i);
        }
      );
      return;
    }
    showServerImage(i);
  }

  function format(value, width) {
    var digits = width >= 20 ? 0 : width >= 2 ? 1 : 3;
    return String(Number(value.toFixed(digits)));
  }

  function updateWindowTools() {
    if (!windowTools) return;
    var adjustable = canWindow(index);
    windowTools.hidden = !data.raw;
    if (resetButton) resetButton.hidden = !custom;
    if (adjustButton) adjustButton.disabled = !adjustable;
    var win = windowFor(index);
    if (readout) {
      readout.textContent = win
        ? (custom && text.custom ? text.custom + ": " : "") +
          String(text.window || "W %(width)s · L %(center)s")
            .replace("%(width)s", format(win.width, win.width))
            .replace("%(center)s", format(win.center, win.width))
        : "";
      readout.classList.toggle("viewer-readout-custom", Boolean(custom));
    }
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

  function prefetch(i) {
    if (i < 0 || i >= ids.length) return;
    if (canWindow(i) && (custom || windowFor(i))) {
      load(i).catch(function () {});
      return;
    }
    var url = src(i);
    if (prefetched[url]) return;
    prefetched[url] = new Image();
    prefetched[url].src = url;
  }

  // Everything on the page that depends on the image and window shown.
  function update() {
    var label = position
      .getAttribute("data-template")
      .replace("{n}", String(index + 1))
      .replace("{total}", String(ids.length));
    show();
    image.alt = label;
    canvas.setAttribute("aria-label", label);
    position.textContent = label;
    root.setAttribute("data-index", String(index));
    setLink(previous, index - 1);
    setLink(next, index + 1);
    var shown = shownCode(index);
    presetLinks.forEach(function (link) {
      var code = link.getAttribute("data-preset");
      var current = code === shown;
      link.href = pageUrl(index, code);
      link.classList.toggle("btn-primary", current);
      link.classList.toggle("btn-outline-primary", !current);
      if (current) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    });
    updateWindowTools();
  }

  function render() {
    update();
    window.history.replaceState(null, "", pageUrl(index, preset));
    prefetch(index + 1);
    prefetch(index - 1);
  }

  function goTo(target) {
    target = Math.min(Math.max(target, 0), ids.length - 1);
    if (target === index) return;
    index = target;
    render();
  }

  function go(step) {
    var target = index + step;
    if (target < 0 || target >= ids.length) return;
    goTo(target);
  }

  // --- Buttons, links and keys -----------------------------------------------------------

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
      custom = null;
      render();
    });
  });
  if (resetButton) {
    resetButton.addEventListener("click", function () {
      custom = null;
      render();
      // The button hides itself: keep the keyboard user in the same group.
      if (adjustButton && !adjustButton.disabled) adjustButton.focus();
    });
  }
  if (adjustButton) {
    adjustButton.addEventListener("click", function () {
      var on = adjustButton.getAttribute("aria-pressed") !== "true";
      adjustButton.setAttribute("aria-pressed", on ? "true" : "false");
      stage.classList.toggle("viewer-adjusting", on);
    });
  }

  var KEYS = {
    ArrowRight: function () { go(1); },
    ArrowDown: function () { go(1); },
    ArrowLeft: function () { go(-1); },
    ArrowUp: function () { go(-1); },
    Home: function () { goTo(0); },
    End: function () { goTo(ids.length - 1); },
    PageDown: function () { goTo(index + PAGE); },
    PageUp: function () { goTo(index - PAGE); },
  };

  function inFormField(target) {
    if (!target || !target.tagName) return false;
    return /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) || target.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    var action = KEYS[event.key];
    if (!action || event.defaultPrevented || inFormField(event.target)) return;
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    action();
  });

  // --- The mouse wheel over the image: one image per notch -----------------------------

  var wheelTravel = 0;
  stage.addEventListener(
    "wheel",
    function (event) {
      if (event.ctrlKey || !event.deltaY) return; // ctrl + wheel zooms the page
      event.preventDefault();
      var step = event.deltaY > 0 ? 1 : -1;
      if (event.deltaMode !== 0) {
        go(step); // lines or pages: one event per notch
        return;
      }
      // Pixels: a notch is one event; a touchpad's small deltas add up to one.
      if (wheelTravel && wheelTravel > 0 !== step > 0) wheelTravel = 0;
      wheelTravel += event.deltaY;
      if (Math.abs(wheelTravel) >= WHEEL_NOTCH) {
        wheelTravel = 0;
        go(step);
      }
    },
    { passive: false }
  );

  // --- Dragging: the window (mouse; a finger when "Adjust window" is on), else a swipe ---

  var gesture = null;

  function adjusting(event) {
    if (event.pointerType === "mouse") return event.button === 0;
    return Boolean(adjustButton && adjustButton.getAttribute("aria-pressed") === "true");
  }

  // Where a drag starts: the window shown, else one spanning the image's values.
  function startWindow(i) {
    var win = windowFor(i);
    if (win) return { center: win.center, width: win.width, fn: win.fn };
    var entry = cached(i);
    var raw = frame(i).raw;
    if (!entry || !raw) return null;
    var low = raw[0] + entry.min * raw[1];
    var high = raw[0] + entry.max * raw[1];
    return {
      center: (low + high) / 2,
      width: Math.max(Math.abs(high - low), 1),
      fn: "LINEAR",
    };
  }

  var pending = false;

  function redraw() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () {
      pending = false;
      update(); // not the address: it does not change while dragging
    });
  }

  stage.addEventListener("dragstart", function (event) {
    event.preventDefault();
  });

  stage.addEventListener("pointerdown", function (event) {
    if (gesture || !event.isPrimary) return;
    if (adjusting(event)) {
      if (!canWindow(index)) return;
      var start = startWindow(index);
      if (!start) {
        load(index).catch(function () {}); // its values come first; the next drag works
        return;
      }
      event.preventDefault();
      gesture = { kind: "window", id: event.pointerId, x: event.clientX, y: event.clientY };
      gesture.start = start;
      try {
        stage.setPointerCapture(event.pointerId); // keep the drag when it leaves the image
      } catch (error) {
        // A pointer the browser no longer tracks: the drag works while over the image.
      }
    } else if (event.pointerType !== "mouse") {
      gesture = { kind: "swipe", id: event.pointerId, x: event.clientX, y: event.clientY };
    }
  });

  stage.addEventListener("pointermove", function (event) {
    if (!gesture || gesture.kind !== "window" || event.pointerId !== gesture.id) return;
    var dx = event.clientX - gesture.x;
    var dy = event.clientY - gesture.y;
    if (!custom && Math.abs(dx) < 2 && Math.abs(dy) < 2) return; // a click, not a drag
    var start = gesture.start;
    var width = Math.max(start.width * Math.pow(2, dx / DRAG_SCALE), 1e-3);
    var center = start.center + (dy * start.width) / DRAG_SCALE;
    var digits = width >= 20 ? 0 : width >= 2 ? 1 : 3;
    custom = {
      center: Number(center.toFixed(digits)),
      width: Math.max(Number(width.toFixed(digits)), digits ? 1e-3 : 1),
      fn: start.fn === "SIGMOID" || start.fn === "LINEAR_EXACT" ? start.fn : "LINEAR",
    };
    redraw();
  });

  function endGesture(event) {
    if (!gesture || event.pointerId !== gesture.id) return;
    var done = gesture;
    gesture = null;
    if (done.kind === "window") {
      if (stage.hasPointerCapture(event.pointerId)) stage.releasePointerCapture(event.pointerId);
      return;
    }
    if (event.type !== "pointerup") return;
    var dx = event.clientX - done.x;
    var dy = event.clientY - done.y;
    if (Math.abs(dx) > SWIPE && Math.abs(dx) > Math.abs(dy)) go(dx < 0 ? 1 : -1);
  }

  stage.addEventListener("pointerup", endGesture);
  stage.addEventListener("pointercancel", endGesture);

  image.addEventListener("load", function () {
    if (shownElement === image) fit(image.naturalWidth, image.naturalHeight);
  });
  if (image.complete && image.naturalWidth) fit(image.naturalWidth, image.naturalHeight);

  var link = root.querySelector("[data-viewer-prefetch]");
  if (link) prefetched[link.getAttribute("href")] = true;
  if (windowTools) windowTools.hidden = !data.raw;
  render();
})();
