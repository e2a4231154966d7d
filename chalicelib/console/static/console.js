// Progressive enhancement only: every form works without this file.
// - forms with data-confirm ask in a dialog, then send confirmed=yes (without script the server asks instead);
// - data-copy buttons copy a shown secret; a submitted form's buttons are disabled until the answer comes;
// - [data-focus] takes focus on load, so a shown-once secret is announced and reachable at once.
(function () {
  "use strict";

  function announce(text) {
    var region = document.getElementById("announce");
    if (region) { region.textContent = ""; window.setTimeout(function () { region.textContent = text; }, 50); }
  }

  function markConfirmed(form) {
    if (!form.querySelector("input[name=confirmed]")) {
      var input = document.createElement("input");
      input.type = "hidden"; input.name = "confirmed"; input.value = "yes";
      form.appendChild(input);
    }
  }

  function ask(form) {
    var dialog = document.createElement("dialog");
    dialog.className = "confirm";
    dialog.setAttribute("aria-labelledby", "confirm-text");
    var text = document.createElement("p");
    text.id = "confirm-text";
    text.textContent = form.getAttribute("data-confirm");
    var submit = form.querySelector("button[type=submit]");
    var yes = document.createElement("button");
    yes.type = "button"; yes.className = submit && submit.classList.contains("danger") ? "danger" : "primary";
    yes.textContent = form.getAttribute("data-confirm-button") || (submit ? submit.textContent.trim() : "OK");
    var no = document.createElement("button");
    no.type = "button"; no.textContent = "Cancel";
    var row = document.createElement("div");
    row.className = "actions";
    row.appendChild(yes); row.appendChild(no);
    dialog.appendChild(text); dialog.appendChild(row);
    document.body.appendChild(dialog);
    yes.addEventListener("click", function () { dialog.close(); markConfirmed(form); send(form); });
    no.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () { dialog.remove(); if (submit) { submit.focus(); } });
    dialog.showModal();
    no.focus();
  }

  function send(form) {
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; b.setAttribute("aria-busy", "true"); });
    HTMLFormElement.prototype.submit.call(form);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) { return; }
    if (form.hasAttribute("data-confirm") && !form.querySelector("input[name=confirmed]")) {
      event.preventDefault();
      ask(form);
      return;
    }
    if (form.dataset.sent === "yes") { event.preventDefault(); return; }
    form.dataset.sent = "yes";
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; b.setAttribute("aria-busy", "true"); });
    }, 0);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button) { return; }
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    field.select();
    var done = function () { button.textContent = "Copied"; announce("Copied to the clipboard"); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy"); done();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var target = document.querySelector("[data-focus]");
    if (target) { target.focus(); }
  });
})();
