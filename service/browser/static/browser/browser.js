// Conveniences over the plain forms, which work without this script: the record time is
// given one way at a time (typing a time clears the position, and the other way round),
// and fields left empty stay out of the address, so it reads as what was asked.
(function () {
  "use strict";
  document.querySelectorAll("form.controls, form.search").forEach(function (form) {
    form.addEventListener("submit", function () {
      Array.prototype.forEach.call(form.elements, function (field) {
        if (field.name && field.value === "") field.disabled = true;
      });
    });
    var knownAt = form.elements.namedItem("knownAt");
    var atPosition = form.elements.namedItem("atPosition");
    if (!knownAt || !atPosition) return;
    knownAt.addEventListener("input", function () {
      if (knownAt.value) atPosition.value = "";
    });
    atPosition.addEventListener("input", function () {
      if (atPosition.value) knownAt.value = "";
    });
  });
  // Coming back with the browser's Back button, the fields are usable again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form input:disabled").forEach(function (field) {
      field.disabled = false;
    });
  });
})();
