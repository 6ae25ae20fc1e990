/* Sends the upload widget's files in batches (at most 20 files or 50 MB per request)
   with a progress bar, and announces what was received and what was refused.
   A CD's viewer program is not refused file by file: the server counts it, and one
   calm line (its "notice", counting the earlier batches this script reports back)
   says it was left out. Without this script the form posts everything at once and
   the page shows messages. */
(function () {
  "use strict";
  var MAX_FILES = 20;
  var MAX_BYTES = 50 * 1024 * 1024;

  function batches(files) {
    var out = [], current = [], bytes = 0;
    files.forEach(function (file) {
      if (current.length && (current.length >= MAX_FILES || bytes + file.size > MAX_BYTES)) {
        out.push(current); current = []; bytes = 0;
      }
      current.push(file); bytes += file.size;
    });
    if (current.length) out.push(current);
    return out;
  }

  function send(url, token, files, viewerBefore, onProgress) {
    return new Promise(function (resolve) {
      var data = new FormData();
      data.append("csrfmiddlewaretoken", token);
      data.append("viewer_files_before", String(viewerBefore));
      files.forEach(function (file) { data.append("files", file, file.name); });
      var xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.setRequestHeader("X-CSRFToken", token);
      xhr.upload.addEventListener("progress", function (event) { onProgress(event.loaded); });
      xhr.addEventListener("load", function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        resolve({ ok: !!body, body: body || {} });
      });
      xhr.addEventListener("error", function () { resolve({ ok: false, body: {} }); });
      xhr.addEventListener("abort", function () { resolve({ ok: false, body: {} }); });
      xhr.send(data);
    });
  }

  function item(text) {
    var li = document.createElement("li");
    li.textContent = text;
    return li;
  }

  function setUp(widget) {
    var form = widget.querySelector("form");
    var inputs = form.querySelectorAll('input[type="file"]');
    var progressBox = widget.querySelector(".upload-progress");
    var progress = widget.querySelector("progress");
    var status = widget.querySelector(".upload-status");
    var list = widget.querySelector(".upload-list");
    var button = form.querySelector('button[type="submit"]');
    var text = widget.dataset;

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var files = [];
      inputs.forEach(function (input) { files = files.concat(Array.prototype.slice.call(input.files)); });
      if (!files.length) { status.textContent = text.textNone; return; }
      var total = files.reduce(function (sum, f) { return sum + f.size; }, 0) || 1;
      var sentBefore = 0, accepted = [], refused = [], failed = false;
      var viewerFiles = 0, notice = "";
      var token = form.querySelector('input[name="csrfmiddlewaretoken"]').value;
      button.disabled = true;
      progressBox.hidden = false;
      progress.value = 0;
      status.textContent = text.textSending;

      batches(files).reduce(function (chain, batch) {
        return chain.then(function () {
          if (failed) return null;
          var batchBytes = batch.reduce(function (sum, f) { return sum + f.size; }, 0);
          return send(form.action, token, batch, viewerFiles, function (loaded) {
            progress.value = Math.min(100, (100 * (sentBefore + Math.min(loaded, batchBytes))) / total);
          }).then(function (result) {
            sentBefore += batchBytes;
            if (!result.ok) { failed = true; return; }
            (result.body.accepted || []).forEach(function (a) {
              accepted.push(a);
              var empty = list.querySelector(".upload-empty");
              if (empty) empty.remove();
              list.appendChild(item(a.name + " (" + a.kind_label + ", " + a.size_label + ")"));
            });
            (result.body.refused || []).forEach(function (r) { refused.push(r); });
            if (result.body.left_out) viewerFiles += result.body.left_out.viewer || 0;
            if (result.body.notice) notice = result.body.notice;  // counts every batch so far
            if (result.body.error) refused.push({ name: "", reason: result.body.error });
          });
        });
      }, Promise.resolve()).then(function () {
        progress.value = 100;
        button.disabled = false;
        inputs.forEach(function (input) { input.value = ""; });
        status.textContent = "";
        var summary = document.createElement("p");
        summary.textContent = text.textDone + " " + text.textReceived + " " + accepted.length + ".";
        status.appendChild(summary);
        if (notice) {
          var calm = document.createElement("p");
          calm.className = "upload-notice";
          calm.textContent = notice + (accepted.length ? " " + text.textImagesReceived : "");
          status.appendChild(calm);
        }
        if (refused.length) {
          var heading = document.createElement("p");
          heading.textContent = text.textRefused;
          var ul = document.createElement("ul");
          ul.className = "upload-refused";
          refused.forEach(function (r) { ul.appendChild(item(r.name ? r.name + ": " + r.reason : r.reason)); });
          status.appendChild(heading);
          status.appendChild(ul);
        }
        if (failed) {
          var p = document.createElement("p");
          p.textContent = text.textFailed;
          status.appendChild(p);
        }
      });
    });
  }

  document.querySelectorAll("[data-upload-widget]").forEach(setUp);
})();
