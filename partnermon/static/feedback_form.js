/* The client's feedback form, enhanced. Without this file the form works the same; with it:
   - once a person has interacted with the page (a real pointer, touch or key event: link scanners that
     render pages, even in a headless browser, do not produce these) and it has been visible a couple of
     seconds, we note that the link was opened, and
   - if they arrived by choosing a rating in the email, that rating is saved then, so it counts even if
     they close the page without pressing the button. It never overwrites answers already given. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-feedback-form]");
  if (!form || !window.fetch) { return; }
  var seenUrl = form.getAttribute("data-seen-url");
  var rating = form.getAttribute("data-quick-rating");

  function post(url, body) {
    return fetch(url, { method: "POST", body: body, credentials: "omit",
                        headers: { "Content-Type": "application/x-www-form-urlencoded" } });
  }

  function afterAPersonIsThere(ms, action) {
    var events = ["pointerdown", "pointermove", "touchstart", "keydown", "wheel"];
    var armed = false;
    function onEvent(event) {
      if (!event.isTrusted || armed) { return; }
      armed = true;
      events.forEach(function (name) { document.removeEventListener(name, onEvent, true); });
      var wait = window.setInterval(function () {
        if (document.visibilityState === "visible") { window.clearInterval(wait); action(); }
      }, ms);
    }
    events.forEach(function (name) { document.addEventListener(name, onEvent, { capture: true, passive: true }); });
  }

  afterAPersonIsThere(1500, function () {
    post(seenUrl, "");
    if (!rating) { return; }
    var chosen = form.querySelector("input[name=satisfaction]:checked");
    if (!chosen || chosen.value !== rating) { return; }  // they changed their mind: wait for the button
    post(form.getAttribute("action"), "quick=1&satisfaction=" + encodeURIComponent(rating));
  });
  var saved = document.getElementById("saved");
  if (saved) { saved.focus(); }
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
