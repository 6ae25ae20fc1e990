/* Sends the upload widget's files in batches (at most 20 files or 50 MB per request)
   with a progress bar, and announces what was received and what was refused.
   A CD's viewer program is not refused file by file: the server counts it, and one
   calm line (its "notice", counting the earlier batches this script reports back)
   says it was left out. Inside a step's form, "Next" (or Enter) with files chosen but not
   sent sends them first, then the step; a refused file or a failed connection stops it
   there, with the answers and the unsent files kept. Once files have arrived, the step's
   answer that says so (the widget's data-received-choice) is ticked, as the server records
   it. Without this script the form posts everything at once and the page shows messages. */
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
    // Its own form, or the step's form it sits in (then "Next" sends chosen files first).
    var ownForm = widget.querySelector("form");
    var form = ownForm || widget.closest("form");
    var inputs = widget.querySelectorAll('input[type="file"]');
    var progressBox = widget.querySelector(".upload-progress");
    var progress = widget.querySelector("progress");
    var status = widget.querySelector(".upload-status");
    var list = widget.querySelector(".upload-list");
    var button = widget.querySelector(".upload-send");
    var text = widget.dataset;
    var busy = false;

    function chosenFiles() {
      var files = [];
      inputs.forEach(function (input) { files = files.concat(Array.prototype.slice.call(input.files)); });
      return files;
    }

    function paragraph(words) {
      var p = document.createElement("p");
      p.textContent = words;
      status.appendChild(p);
      return p;
    }

    // Leaves chosen only the files the server did not answer for (a failed batch and the
    // ones after it), so that trying again sends no file twice.
    function keepChosen(answered) {
      if (!answered.length || typeof DataTransfer === "undefined") return;
      inputs.forEach(function (input) {
        var left = new DataTransfer();
        Array.prototype.forEach.call(input.files, function (file) {
          if (answered.indexOf(file) < 0) left.items.add(file);
        });
        input.files = left.files;
      });
    }

    // Sends the chosen files in batches; resolves to {accepted, refused, failed}.
    function upload(files, keepUnsent) {
      var total = files.reduce(function (sum, f) { return sum + f.size; }, 0) || 1;
      var sentBefore = 0, accepted = [], refused = [], failed = false, answered = [];
      var viewerFiles = 0, notice = "";
      var token = form.querySelector('input[name="csrfmiddlewaretoken"]').value;
      busy = true;
      button.disabled = true;
      progressBox.hidden = false;
      progress.value = 0;
      status.textContent = text.textSending;

      return batches(files).reduce(function (chain, batch) {
        return chain.then(function () {
          if (failed) return null;
          var batchBytes = batch.reduce(function (sum, f) { return sum + f.size; }, 0);
          return send(text.uploadUrl, token, batch, viewerFiles, function (loaded) {
            progress.value = Math.min(100, (100 * (sentBefore + Math.min(loaded, batchBytes))) / total);
          }).then(function (result) {
            sentBefore += batchBytes;
            if (!result.ok) { failed = true; return; }
            answered = answered.concat(batch);
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
        busy = false;
        var choice = accepted.length && text.receivedChoice ?
          form.querySelector(text.receivedChoice) : null;
        if (choice) choice.checked = true;
        button.disabled = false;
        if (failed && keepUnsent) keepChosen(answered);
        else inputs.forEach(function (input) { input.value = ""; });
        status.textContent = "";
        paragraph(text.textDone + " " + text.textReceived + " " + accepted.length + ".");
        if (notice) {
          paragraph(notice + (accepted.length ? " " + text.textImagesReceived : "")).className =
            "upload-notice";
        }
        if (refused.length) {
          paragraph(text.textRefused);
          var ul = document.createElement("ul");
          ul.className = "upload-refused";
          refused.forEach(function (r) { ul.appendChild(item(r.name ? r.name + ": " + r.reason : r.reason)); });
          status.appendChild(ul);
        }
        if (failed && !keepUnsent) paragraph(text.textFailed);
        return { accepted: accepted, refused: refused, failed: failed };
      });
    }

    form.addEventListener("submit", function (event) {
      if (busy) { event.preventDefault(); return; }
      var files = chosenFiles();
      if (ownForm || event.submitter === button) {
        // "Send files": only the files, and the patient stays on the page.
        event.preventDefault();
        if (!files.length) { status.textContent = text.textNone; return; }
        upload(files, false);
        return;
      }
      // "Next" (or Enter) in the step's form: files chosen but not sent go first.
      if (!files.length) return;
      event.preventDefault();
      upload(files, true).then(function (outcome) {
        if (!outcome.failed && !outcome.refused.length) {
          form.submit();  // the file fields are empty now: only the answers go
          return;
        }
        var stop = paragraph(outcome.failed ? text.textStoppedFailed : text.textStopped);
        stop.className = "upload-stopped fw-bold";
        status.tabIndex = -1;
        status.focus();
      });
    });
  }

  document.querySelectorAll("[data-upload-widget]").forEach(setUp);
})();
