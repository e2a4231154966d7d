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

// --- Invitations page (routes_invitations_admin) -------------------------------------------------------
// - textarea[data-chips]: typed addresses become chips on Tab, Enter, comma or paste; a chip is a button
//   "Remove <email>"; addresses that do not look like one are marked; the chips are sent as the same field;
// - form[data-bulk]: the select-all box ticks every row, and the dialog's question says the count.
(function () {
  "use strict";
  var EMAIL = /^[^\s@,;]+@[^\s@,;]+\.[^\s@,;]+$/;

  function say(text) {
    var region = document.getElementById("announce");
    if (region) { region.textContent = ""; window.setTimeout(function () { region.textContent = text; }, 50); }
  }

  function chipify(area) {
    var box = document.createElement("div");
    box.className = "chips";
    var list = document.createElement("ul");
    list.className = "chip-list";
    list.setAttribute("aria-label", "Addresses to invite");
    var entry = document.createElement("input");
    entry.type = "text";
    entry.id = area.id + "-entry";
    entry.className = "chip-entry";
    entry.setAttribute("autocomplete", "off");
    entry.setAttribute("aria-describedby", area.getAttribute("aria-describedby") || "");
    if (area.hasAttribute("aria-invalid")) { entry.setAttribute("aria-invalid", "true"); }
    var label = document.querySelector("label[for='" + area.id + "']");
    if (label) { label.htmlFor = entry.id; }
    box.appendChild(list); box.appendChild(entry);
    area.parentNode.insertBefore(box, area);
    area.hidden = true;

    function emails() {
      return Array.prototype.map.call(list.querySelectorAll("button.chip"), function (b) { return b.dataset.email; });
    }
    function add(text) {
      var added = [];
      text.split(/[\s,;]+/).forEach(function (email) {
        if (!email || emails().indexOf(email) !== -1) { return; }
        var item = document.createElement("li");
        var chip = document.createElement("button");
        chip.type = "button";
        chip.className = "chip" + (EMAIL.test(email) ? "" : " invalid");
        chip.dataset.email = email;
        chip.setAttribute("aria-label", "Remove " + email + (EMAIL.test(email) ? "" : " (not an email)"));
        chip.textContent = email + (EMAIL.test(email) ? "" : " (not an email)") + " ";
        var cross = document.createElement("span");
        cross.setAttribute("aria-hidden", "true");
        cross.textContent = "×";
        chip.appendChild(cross);
        item.appendChild(chip);
        list.appendChild(item);
        added.push(email);
      });
      if (added.length) { say("Added " + added.join(", ")); }
      return added.length;
    }
    add(area.value);
    entry.addEventListener("keydown", function (event) {
      var key = event.key;
      if ((key === "Tab" && !event.shiftKey) || key === "Enter" || key === ",") {
        if (entry.value.trim()) { event.preventDefault(); add(entry.value); entry.value = ""; }
        else if (key === ",") { event.preventDefault(); }
      } else if (key === "Backspace" && !entry.value) {
        var last = list.querySelector("li:last-child button.chip");
        if (last) { last.focus(); }
      }
    });
    entry.addEventListener("paste", function (event) {
      var text = (event.clipboardData || window.clipboardData).getData("text");
      if (text) { event.preventDefault(); add(entry.value + " " + text); entry.value = ""; }
    });
    list.addEventListener("click", function (event) {
      var chip = event.target.closest ? event.target.closest("button.chip") : null;
      if (!chip) { return; }
      say("Removed " + chip.dataset.email);
      chip.parentNode.remove();
      entry.focus();
    });
    area.form.addEventListener("submit", function () {
      if (entry.value.trim()) { add(entry.value); entry.value = ""; }
      area.value = emails().join("\n");
    });
  }

  function bulk(form) {
    var all = form.querySelector("[data-select-all]");
    var boxes = form.querySelectorAll("input[type=checkbox][name=invitation_id]");
    var verb = form.getAttribute("data-verb") || "";
    if (all) { all.removeAttribute("name"); }  // with script, exactly the ticked rows are sent
    function update() {
      var ticked = Array.prototype.filter.call(boxes, function (b) { return b.checked; }).length;
      if (all) { all.checked = ticked > 0 && ticked === boxes.length; all.indeterminate = ticked > 0 && ticked < boxes.length; }
      if (ticked) {
        var count = ticked + " invitation" + (ticked === 1 ? "" : "s");
        form.setAttribute("data-confirm", verb === "Remove"
          ? "Remove " + count + "? Their links stop working at once."
          : "Resend " + count + "? Each gets a new link; old links stop working.");
      } else {
        form.removeAttribute("data-confirm");  // nothing ticked: the server says so
      }
    }
    if (all) {
      all.addEventListener("change", function () {
        Array.prototype.forEach.call(boxes, function (b) { b.checked = all.checked; });
        update();
      });
    }
    Array.prototype.forEach.call(boxes, function (b) { b.addEventListener("change", update); });
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-chips]").forEach(chipify);
    document.querySelectorAll("form[data-bulk]").forEach(bulk);
  });
})();

// --- Users page (routes_users.py): "Select all on this page" ticks every row's box; the server reads
// it as every row of the page, so it works without script too (then the row boxes just stay as they are).
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || box.type !== "checkbox") { return; }
    var form = box.closest("form[data-select-form]");
    if (!form) { return; }
    var rows = form.querySelectorAll("input[type=checkbox][name=account_id]");
    var all = form.querySelector("[data-select-all]");
    if (box.hasAttribute("data-select-all")) {
      rows.forEach(function (row) { row.checked = box.checked; });
    } else if (all) {
      var ticked = Array.prototype.filter.call(rows, function (row) { return row.checked; }).length;
      all.checked = ticked === rows.length;
      all.indeterminate = ticked > 0 && ticked < rows.length;
    }
  });
})();
// --- end Users page
