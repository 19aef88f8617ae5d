// dcc.Graph loads plotly.js on first use from window._dashPlotlyJSURL, which Dash points at the
// full 4.8 MB bundle. Point it at our versioned "basic" bundle (enertrack/web/app.py PLOTLY_JS)
// instead: pages without charts load no plotly.js at all, pages with charts load 1.2 MB less.
(function () {
  var url = document.currentScript.getAttribute("data-plotly");
  Object.defineProperty(window, "_dashPlotlyJSURL", {
    configurable: true,
    get: function () { return url; },
    set: function () { /* Dash's own assignment: ignored */ },
  });
})();
