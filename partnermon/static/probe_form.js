/* Progressive enhancement for the probe settings form: show only the options of the chosen kind.
   Without this file every kind's options stay in the page (the chosen kind's open), so nothing depends on it. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-probe-form]");
  if (!form) { return; }
  var kind = form.querySelector("select[name=kind]");
  if (!kind) { return; }
  function show() {
    form.querySelectorAll("[data-kind-options]").forEach(function (group) {
      var mine = group.getAttribute("data-kind-options") === kind.value;
      group.hidden = !mine;
      if (mine) { group.open = true; }
    });
    form.querySelectorAll("#kind-help [data-kind]").forEach(function (item) {
      item.classList.toggle("chosen", item.getAttribute("data-kind") === kind.value);
    });
  }
  kind.addEventListener("change", show);
  show();
  var result = document.getElementById("test-result");
  if (result) { result.focus(); }
})();
