// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Show only the panel that belongs to the chosen radio option (sign-up: join or register).
  function syncChoicePanels() {
    document.querySelectorAll("[data-choice-for]").forEach(function (panel) {
      var name = panel.getAttribute("data-choice-for");
      var checked = document.querySelector('input[name="' + name + '"]:checked');
      panel.hidden = Boolean(checked) && checked.value !== panel.getAttribute("data-choice-value");
    });
  }

  // The error summary (GOV.UK pattern): focused on load, so it is read out and seen first; its
  // links focus the field they name (opening a closed <details> around it) with its label in view.
  function setUpErrorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) { return; }
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest('a[href^="#"]');
      var input = link && document.getElementById(link.getAttribute("href").slice(1));
      if (!input) { return; }
      event.preventDefault();
      for (var box = input.closest("details"); box; box = box.parentElement.closest("details")) {
        box.open = true;
      }
      var holder = input.closest("fieldset") || input.closest(".field");
      var label = holder && holder.querySelector("legend, label");
      (label || input).scrollIntoView();
      input.focus({ preventScroll: true });
    });
  }

  // The posting form: what earlier listings of the chosen category were worth and weighed.
  function showTypicalAmounts() {
    var source = document.getElementById("typical-hints");
    var category = document.getElementById("category");
    if (!source || !category) { return; }
    var hints = JSON.parse(source.textContent);
    var chosen = hints[category.value] || {};
    document.querySelectorAll("[data-typical]").forEach(function (hint) {
      hint.textContent = chosen[hint.getAttribute("data-typical")] || "";
    });
  }

  // The posting form's device passport: shown for a medical category (with what it asks for),
  // or while no category is chosen; hidden for others unless it holds an error to fix.
  function showPassport() {
    var fieldset = document.querySelector("[data-passport]");
    var category = document.getElementById("category");
    if (!fieldset || !category) { return; }
    var medical = JSON.parse(fieldset.getAttribute("data-passport-categories") || "[]");
    var chosen = category.value;
    var isMedical = medical.indexOf(chosen) !== -1;
    fieldset.hidden = chosen !== "" && !isMedical && !fieldset.querySelector(".field--error");
    fieldset.querySelectorAll("[data-passport-unknown]").forEach(function (hint) {
      hint.hidden = chosen !== "";
    });
    fieldset.querySelectorAll("[data-passport-required]").forEach(function (hint) {
      hint.hidden = hint.getAttribute("data-passport-required") !== chosen;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    syncChoicePanels();
    setUpErrorSummary();
    var category = document.getElementById("category");
    if (category && document.getElementById("typical-hints")) {
      category.addEventListener("change", showTypicalAmounts);
    }
    if (category && document.querySelector("[data-passport]")) {
      category.addEventListener("change", showPassport);
    }
    document.addEventListener("change", function (event) {
      if (event.target.matches('input[type="radio"]')) { syncChoicePanels(); }
    });
  });
})();

// Photo previews for the file input, and drag-and-drop ordering of the photos already stored
// (the position numbers stay the source of truth, so the form works without this).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll('input[type="file"][accept^="image"]').forEach(function (input) {
      if (input.closest("[data-photo-uploader]")) { return; }  // photo-uploader.js shows those
      var previews = document.createElement("div");
      previews.className = "photo-previews";
      input.insertAdjacentElement("afterend", previews);
      input.addEventListener("change", function () {
        previews.textContent = "";
        Array.prototype.slice.call(input.files || [], 0, 8).forEach(function (file) {
          if (!/^image\/(jpeg|png|webp)$/.test(file.type)) { return; }
          var img = document.createElement("img");
          img.alt = "";
          img.src = URL.createObjectURL(file);
          img.onload = function () { URL.revokeObjectURL(img.src); };
          previews.appendChild(img);
        });
      });
    });

    document.querySelectorAll("[data-photo-editor]").forEach(function (list) {
      var dragged = null;
      function renumber() {
        list.querySelectorAll('input[name$="-position"]').forEach(function (field, index) {
          field.value = index + 1;
        });
      }
      list.querySelectorAll("li").forEach(function (item) {
        item.draggable = true;
        item.addEventListener("dragstart", function () { dragged = item; item.classList.add("dragging"); });
        item.addEventListener("dragend", function () { item.classList.remove("dragging"); dragged = null; renumber(); });
        item.addEventListener("dragover", function (event) {
          event.preventDefault();
          if (!dragged || dragged === item) { return; }
          var box = item.getBoundingClientRect();
          var after = event.clientY > box.top + box.height / 2;
          list.insertBefore(dragged, after ? item.nextSibling : item);
        });
      });
    });
  });
})();
