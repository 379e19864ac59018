/* The client's feedback form, enhanced. Without this file the form works the same; with it:
   - once the page has been visible for a couple of seconds, we note that a person opened the link (mail
     scanners fetch links but do not look at pages), and
   - if the client arrived by choosing a rating in the email, that rating is saved after a few seconds,
     so it counts even if they close the page without pressing the button. It never overwrites answers. */
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

  function whenVisibleFor(ms, action) {
    var timer = null;
    function arm() {
      if (document.visibilityState === "visible" && timer === null) {
        timer = window.setTimeout(function () { document.removeEventListener("visibilitychange", onChange); action(); }, ms);
      }
    }
    function onChange() {
      if (document.visibilityState !== "visible" && timer !== null) { window.clearTimeout(timer); timer = null; }
      arm();
    }
    document.addEventListener("visibilitychange", onChange);
    arm();
  }

  whenVisibleFor(2000, function () { post(seenUrl, ""); });
  if (rating) {
    whenVisibleFor(4000, function () {
      var chosen = form.querySelector("input[name=satisfaction]:checked");
      if (!chosen || chosen.value !== rating) { return; }  // they changed their mind: wait for the button
      post(form.getAttribute("action"), "quick=1&satisfaction=" + encodeURIComponent(rating));
    });
  }
  var saved = document.getElementById("saved");
  if (saved) { saved.focus(); }
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
