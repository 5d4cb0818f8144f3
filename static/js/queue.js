// The review queue's keyboard and the small things htmx needs on this page. Loaded by the queue and the
// review page only; no inline script, so it works under a strict Content-Security-Policy.
//   j / k   next / previous case (opens it beside the list)
//   c       claim the open case
//   a o r   approve / override / reject: choose the outcome, then write the rationale
//   /       go to the rationale;  Ctrl+Enter (Cmd+Enter) records the decision;  Esc leaves a field
// Every button also works with the mouse, and every form without JavaScript.
(function () {
  "use strict";

  var OUTCOMES = { a: "approve", o: "override", r: "reject" };

  function panel() {
    return document.getElementById("review-case");
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#queue-list [data-queue-row]"));
  }

  function mark(id) {
    rows().forEach(function (row) {
      var on = row.getAttribute("data-escalation") === String(id);
      row.classList.toggle("is-selected", on);
      if (on) {
        row.setAttribute("aria-current", "true");
        var box = row.getBoundingClientRect();
        if (box.top < 0 || box.bottom > window.innerHeight) row.scrollIntoView({ block: "nearest" });
      } else {
        row.removeAttribute("aria-current");
      }
    });
  }

  function move(step) {
    var list = rows();
    if (!list.length) return;
    var index = list.findIndex(function (row) {
      return row.classList.contains("is-selected");
    });
    if (index < 0) index = step > 0 ? 0 : list.length - 1;
    else index = Math.min(list.length - 1, Math.max(0, index + step));
    var row = list[index];
    mark(row.getAttribute("data-escalation"));
    var link = row.querySelector("a.open-case");
    if (link) link.click(); // htmx opens it beside the list; without htmx the link opens the page
  }

  function find(selector) {
    var here = panel();
    return here ? here.querySelector(selector) : null;
  }

  function choose(outcome) {
    var radio = find('input[name="outcome"][value="' + outcome + '"]');
    if (!radio) return;
    radio.checked = true;
    radio.dispatchEvent(new Event("change", { bubbles: true }));
    var field = outcome === "override" ? find("[data-output-field]") : null;
    (field || find("[data-rationale]") || radio).focus();
  }

  function typing(element) {
    return (
      element &&
      (element.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(element.tagName))
    );
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (typing(target)) {
      if (event.key === "Escape") {
        target.blur();
        event.preventDefault();
      } else if (
        event.key === "Enter" &&
        (event.ctrlKey || event.metaKey) &&
        target.form &&
        target.form.hasAttribute("data-decide-form")
      ) {
        event.preventDefault();
        target.form.requestSubmit();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || !SHORTCUTS.test(event.key)) return;
    event.preventDefault();
    if (busy) pending = event.key; // the panel is being replaced: act on it once it is in place
    else act(event.key);
  });

  var SHORTCUTS = /^[jkcaor/]$/;

  function act(key) {
    if (key === "j") move(1);
    else if (key === "k") move(-1);
    else if (key === "c") {
      var claim = find("[data-key=claim]");
      if (claim) claim.click();
    } else if (OUTCOMES[key]) choose(OUTCOMES[key]);
    else if (key === "/") {
      var rationale = find("[data-rationale]");
      if (rationale) rationale.focus();
    }
  }

  // While htmx fetches and swaps, new buttons are not wired up yet; a key pressed then waits for them.
  var busy = false;
  var pending = null;

  function idle() {
    busy = false;
    if (pending) {
      var key = pending;
      pending = null;
      act(key);
    }
  }

  document.addEventListener("htmx:beforeRequest", function () {
    busy = true;
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    // Answers that swap nothing end the wait here; the others end it once settled (below).
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var swaps = (status >= 200 && status < 300 && status !== 204) || status === 409 || status === 422;
    if (!swaps) idle();
  });

  // "Someone else holds this case" answers 409: show the panel with that message (the page's htmx
  // config swaps only 2xx and 422).
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr && event.detail.xhr.status === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Keep the highlighted row in step with the case shown, however it was opened; then take waiting keys.
  document.addEventListener("htmx:afterSettle", function () {
    var here = panel();
    if (here && here.hasAttribute("data-escalation")) mark(here.getAttribute("data-escalation"));
    idle();
  });

  // After a decision the next case is shown: put the focus on it, so j/k/a/o/r carry on from there.
  document.addEventListener("caseDecided", function () {
    var here = panel();
    if (here) here.focus({ preventScroll: true });
  });
})();
