// When the session has ended (logged out elsewhere, expired, new secret key), the guard answers
// a callback with 401; Dash would only log an error and the page would freeze. Send the user
// to the login page instead, coming back here afterwards. Dash offers no hook for this.
(function () {
  var original = window.fetch;
  if (!original) { return; }
  window.fetch = function (input, init) {
    return original.apply(this, arguments).then(function (response) {
      var url = typeof input === "string" ? input : (input && input.url) || "";
      if (response.status === 401 && url.indexOf("_dash-update-component") !== -1) {
        var prefix = window.location.pathname.indexOf("/enertrack/") === 0 ? "/enertrack/" : "/";
        var here = window.location.pathname + window.location.search;
        window.location.assign(prefix + "login?next=" + encodeURIComponent(here));
      }
      return response;
    });
  };
})();
