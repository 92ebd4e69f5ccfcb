// Live job status: poll /annotations/<id>/status for every element carrying data-status-url.
(function () {
  "use strict";
  var ACTIVE = { PENDING: true, RUNNING: true };

  function label(status) { return status.charAt(0) + status.slice(1).toLowerCase(); }

  function poll(el) {
    fetch(el.getAttribute("data-status-url"), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Error("status " + response.status); }
      return response.json();
    }).then(function (state) {
      var badge = el.querySelector("[data-badge]");
      if (badge) {
        badge.textContent = label(state.status);
        badge.className = "badge status-" + state.status.toLowerCase();
      }
      var wrap = el.querySelector("[data-progress]");
      if (wrap) {
        wrap.hidden = state.status !== "RUNNING";
        var bar = wrap.querySelector("progress");
        bar.value = state.progress;
        bar.textContent = state.progress + "%";
        wrap.querySelector("[data-progress-label]").textContent = state.progress + "%";
      }
      if (ACTIVE[state.status]) {
        window.setTimeout(poll, 2000, el);
      } else if (el.hasAttribute("data-reload-when-done")) {
        window.location.reload();
      } else if (wrap) {
        wrap.hidden = true;
      }
    }).catch(function () { window.setTimeout(poll, 10000, el); });
  }

  document.querySelectorAll("[data-status-url]").forEach(function (el) {
    window.setTimeout(poll, 1000, el);
  });
})();
