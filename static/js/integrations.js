// Copy buttons of the integrations page: <button type="button" data-copy="id-of-the-text" hidden>.
// The buttons stay hidden without JavaScript (the text is selectable anyway); no inline script, so this
// works under a strict Content-Security-Policy.
(function () {
  "use strict";

  function textOf(element) {
    return "value" in element ? element.value : element.textContent;
  }

  function fallbackCopy(element) {
    var range = document.createRange();
    if ("select" in element) {
      element.select();
    } else {
      range.selectNodeContents(element);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    try {
      return document.execCommand("copy") ? Promise.resolve() : Promise.reject();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  function copy(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var done = navigator.clipboard && window.isSecureContext
      ? navigator.clipboard.writeText(textOf(source))
      : fallbackCopy(source);
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    done.then(
      function () { button.textContent = "Copied"; },
      function () { button.textContent = "Select and copy by hand"; }
    );
    window.setTimeout(function () { button.textContent = label; }, 2500);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (button) copy(button);
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy]").forEach(function (button) { button.hidden = false; });
  });
})();
