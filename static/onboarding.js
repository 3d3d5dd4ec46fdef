// ARROW portal: keeps the onboarding list current. Every few seconds it asks the server for the
// rows (the same template the page was drawn with) and swaps them in; a failed request keeps
// the last rows and tries again at the next tick. Without JavaScript the page is a snapshot.
(function () {
  "use strict";
  var box = document.querySelector("[data-live-rows]");
  if (!box) { return; }
  var url = box.getAttribute("data-live-rows");
  var every = parseInt(box.getAttribute("data-live-poll-ms"), 10) || 3000;
  var refresh = function () {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok || response.redirected) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        box.innerHTML = html;
        box.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () { box.setAttribute("data-refresh-failed", String(Date.now())); })
      .finally(function () { window.setTimeout(refresh, every); });
  };
  window.setTimeout(refresh, every);
})();
