/* Progressive enhancement for "Ask a client": offer only the chosen partner's touchpoints (and the moments of
   truth, which fit any partner). Without this file every partner's touchpoints stay in the list, grouped by
   partner, and the server says which partner a touchpoint belongs to if the two do not match. */
(function () {
  "use strict";
  var partner = document.getElementById("f-partner");
  var about = document.getElementById("f-touchpoint");
  if (!partner || !about) { return; }
  function offer() {
    about.querySelectorAll("optgroup[data-partner]").forEach(function (group) {
      var mine = group.getAttribute("data-partner") === partner.value;
      group.hidden = !mine;
      group.disabled = !mine;
    });
    var chosen = about.options[about.selectedIndex];
    if (chosen && chosen.parentElement && chosen.parentElement.disabled) { about.value = ""; }
  }
  partner.addEventListener("change", offer);
  offer();
})();
