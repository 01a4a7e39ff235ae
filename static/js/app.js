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

  document.addEventListener("DOMContentLoaded", function () {
    syncChoicePanels();
    document.addEventListener("change", function (event) {
      if (event.target.matches('input[type="radio"]')) { syncChoicePanels(); }
    });
  });
})();
