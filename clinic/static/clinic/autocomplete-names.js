/* The admin's search-as-you-type selects (select2) draw a role="textbox" box whose accessible name
   cannot come from its text (a textbox is not named by its content): name it after the select's
   own label. select2 draws its boxes in jQuery's ready callbacks, which may run after "load", and
   again for rows added later: so each box is named when it appears. */
(function () {
  "use strict";
  function nameBoxes() {
    Array.prototype.forEach.call(document.querySelectorAll("select.admin-autocomplete"), function (select) {
      var box = document.getElementById("select2-" + select.id + "-container");
      var label = select.id && document.querySelector("label[for='" + select.id + "']");
      if (box && label && !box.hasAttribute("aria-label")) {
        box.setAttribute("aria-label", label.textContent.replace(/:\s*$/, "").trim());
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    nameBoxes();
    new MutationObserver(nameBoxes).observe(document.body, { childList: true, subtree: true });
  });
})();
