// Live updates for the tiktok-sandbox dashboard: poll a small JSON endpoint and swap the live
// part of the page when what it shows changed. No connection is held open between polls.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) return;
  var clock = document.getElementById("clock");
  var status = document.getElementById("live-status");
  var every = 1000;

  function busy() {
    // Never pull the page from under a person typing in one of its forms.
    var active = document.activeElement;
    if (active && live.contains(active) && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName)) {
      return true;
    }
    var fields = live.querySelectorAll("input[name=value], textarea");
    for (var i = 0; i < fields.length; i++) if (fields[i].value) return true;
    return false;
  }

  function swap(html) {
    var open = {};
    live.querySelectorAll("details[open]").forEach(function (d) {
      var key = d.closest("[id]");
      if (key) open[key.id] = true;
    });
    live.innerHTML = html;
    live.querySelectorAll("details").forEach(function (d) {
      var key = d.closest("[id]");
      if (key && open[key.id]) d.open = true;
    });
  }

  function poll() {
    if (document.hidden || busy()) return later();
    var url = live.dataset.poll;
    url += (url.indexOf("?") < 0 ? "?" : "&") + "version=" + encodeURIComponent(live.dataset.version);
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (r) { return r.json().then(function (body) { return [r.ok, body]; }); })
      .then(function (result) {
        var body = result[1];
        if (!result[0]) {
          status.textContent = "Not updating: " + ((body.error && body.error.message) || "error");
          return;
        }
        if (clock) clock.textContent = body.clock;
        if (body.html !== null && !busy()) {
          swap(body.html);
          live.dataset.version = body.version;
          status.textContent = "Updated " + body.clock + ".";
        }
        later();
      })
      .catch(function () {
        status.textContent = "The sandbox is not answering; retrying.";
        later(5000);
      });
  }

  function later(ms) { window.setTimeout(poll, ms || every); }
  later();
})();
