// einstein's small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // Move focus to the summary of form errors so screen readers announce it.
  var problem = document.getElementById("form-problem");
  if (problem) { problem.focus(); }
})();

// Print buttons on booking cards and certificates.
document.addEventListener("click", function (event) {
  var target = event.target.closest ? event.target.closest("[data-print]") : null;
  if (target) { window.print(); }
});

// Attendance: save each tap at once without reloading the page. Without this script the same
// buttons post the form and the page comes back; with it, a failed save falls back to that.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.hasAttribute("data-tap") || !window.fetch || !window.FormData) { return; }
  var button = event.submitter;
  if (!button) { return; }
  event.preventDefault();
  var data = new FormData(form);
  data.append(button.name, button.value);
  var buttons = form.querySelectorAll("button[name=status]");
  fetch(form.action, { method: "POST", body: data, headers: { "Accept": "application/json" }, credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error("not saved"); }
      return response.json();
    })
    .then(function (result) {
      buttons.forEach(function (b) { b.setAttribute("aria-pressed", b.value === result.status ? "true" : "false"); });
      Object.keys(result.counts || {}).forEach(function (key) {
        var counter = document.querySelector("[data-count=" + key + "]");
        if (counter) { counter.textContent = result.counts[key]; }
      });
    })
    .catch(function () {
      // form.submit() leaves the pressed button out: carry its choice in a hidden field
      var chosen = document.createElement("input");
      chosen.type = "hidden";
      chosen.name = button.name;
      chosen.value = button.value;
      form.appendChild(chosen);
      form.submit();
    });
});

// Scanning the QR code on a booking card, where the phone's browser can (BarcodeDetector).
(function () {
  var button = document.querySelector("[data-scan]");
  var video = document.querySelector("[data-scan-video]");
  if (!button || !video || !("BarcodeDetector" in window) || !navigator.mediaDevices) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      video.play();
      var look = function () {
        detector.detect(video).then(function (codes) {
          if (codes.length) {
            stream.getTracks().forEach(function (track) { track.stop(); });
            video.hidden = true;
            var form = button.closest("form");
            form.querySelector("input[name=reference]").value = codes[0].rawValue;
            form.submit();
          } else {
            window.requestAnimationFrame(look);
          }
        }).catch(function () { window.requestAnimationFrame(look); });
      };
      look();
    });
  });
})();

// Copy buttons beside a link in a read-only field (the calendar link). Without this script the
// button stays hidden and the field is there to select and copy by hand.
(function () {
  var buttons = document.querySelectorAll("[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var status = document.querySelector("[data-copy-status='" + button.getAttribute("data-copy") + "']");
    if (!field) { return; }
    button.hidden = false;
    var say = function (text) { if (status) { status.textContent = text; } };
    var byHand = function () {
      field.focus();
      field.select();
      var done = false;
      try { done = document.execCommand("copy"); } catch (e) { done = false; }
      say(button.getAttribute(done ? "data-copied" : "data-copy-failed"));
    };
    button.addEventListener("click", function () {
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(field.value).then(function () {
          field.select();
          say(button.getAttribute("data-copied"));
        }, byHand);
      } else {
        byHand();
      }
    });
  });
})();
