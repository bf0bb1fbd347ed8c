// Copy buttons on the one-time reveal page. Without JavaScript the buttons stay hidden
// and the values remain selectable text.
(function () {
  "use strict";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain-HTTP origins have no Clipboard API: fall back to a selection and execCommand.
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.appendChild(area);
      area.select();
      var copied = document.execCommand("copy");
      document.body.removeChild(area);
      if (copied) { resolve(); } else { reject(new Error("copy failed")); }
    });
  }

  function announce(message) {
    var status = document.getElementById("copy-status");
    if (status) { status.textContent = message; }
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) { return; }
    var label = button.querySelector(".copy-label");
    var what = button.getAttribute("data-copy-what");
    button.hidden = false;
    button.addEventListener("click", function () {
      copyText(target.textContent.trim()).then(function () {
        label.textContent = "Copied";
        announce("Copied the " + what + " to the clipboard.");
        window.setTimeout(function () { label.textContent = "Copy"; }, 2000);
      }, function () {
        announce("Could not copy: select the " + what + " and copy it by hand.");
      });
    });
  });
})();
