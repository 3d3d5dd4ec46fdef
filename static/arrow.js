// ARROW portal: "select all" for the device list's checkboxes and a count of the selection.
// The page works without it; it only saves clicks.
(function () {
  "use strict";
  document.querySelectorAll("[data-select-all]").forEach(function (master) {
    var name = master.getAttribute("data-select-all");
    var form = master.closest("form");
    var boxes = function () {
      return form.querySelectorAll('input[type="checkbox"][name="' + name + '"]');
    };
    var counter = form.querySelector("[data-selected-count]");
    var update = function () {
      var all = boxes();
      var checked = Array.prototype.filter.call(all, function (b) { return b.checked; }).length;
      if (counter) { counter.textContent = String(checked); }
      master.checked = all.length > 0 && checked === all.length;
      master.indeterminate = checked > 0 && checked < all.length;
    };
    master.setAttribute("aria-label", "Select all");
    master.addEventListener("change", function () {
      boxes().forEach(function (b) { b.checked = master.checked; });
      update();
    });
    form.addEventListener("change", function (event) {
      if (event.target !== master) { update(); }
    });
    update();
  });
})();
