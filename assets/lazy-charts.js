// Charts drawn only once they are on screen (enertrack/web/ui/lazy_chart.py). Drawing is most of
// a warm node page's time (six Plotly charts of 1,440 buckets), and Dash cannot tell what is in
// view, so this file does: a chart's figure waits in a dcc.Store, and draw() copies it to the
// graph when the graph is in the viewport. A graph that is not is watched; once it scrolls in
// (or its page is shown), the page's "seen" store is bumped, which runs draw() again.
(function () {
  var watched = new Set();
  var seenStore = new WeakMap();  // graph element -> the store to bump when it comes into view
  var bumps = 0;

  function inView(el) {
    // Any part of the graph inside the window's height (a hidden page has no box at all).
    var box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && box.bottom > 0 && box.top < window.innerHeight;
  }

  var observer = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    var stores = new Set();
    entries.forEach(function (entry) {
      if (entry.isIntersecting && entry.intersectionRatio > 0 && entry.target.isConnected) {
        observer.unobserve(entry.target);
        watched.delete(entry.target);
        stores.add(seenStore.get(entry.target));
      }
    });
    stores.forEach(function (id) {
      if (id) { window.dash_clientside.set_props(id, {data: ++bumps}); }
    });
  }) : null;

  function watch(el, store) {
    watched.forEach(function (old) {  // graphs of pages left behind
      if (!old.isConnected) { observer.unobserve(old); watched.delete(old); }
    });
    seenStore.set(el, store);
    // Observed afresh: the observer reports where the graph is now, even if it reported "in
    // view" before the page was hidden and shown again.
    observer.unobserve(el);
    observer.observe(el);
    watched.add(el);
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.lazy_charts = {
    // Inputs: the figure waiting, the page's seen counter; state: what the graph shows.
    draw: function (figure, _seen, shown) {
      var dc = window.dash_clientside;
      // No figure yet (a theme patch may reach the store first, leaving a layout without data).
      if (!figure || !Array.isArray(figure.data) || figure === shown) { throw dc.PreventUpdate; }
      var graph = document.getElementById(dc.callback_context.outputs_list.id);
      if (observer && graph && !inView(graph)) {
        watch(graph, dc.callback_context.inputs_list[1].id);
        throw dc.PreventUpdate;
      }
      return figure;
    }
  };
})();
