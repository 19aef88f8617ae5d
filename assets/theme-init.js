// Runs in <head>, before the first paint, so the page never flashes the wrong theme.
// Dash cannot run code before its renderer loads, hence this one script.
(function () {
  var stored = null;
  try {
    stored = JSON.parse(window.localStorage.getItem("theme-store"));
  } catch (e) {
    stored = null;
  }
  var dark = stored === "dark" ||
    (stored !== "light" && window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.setAttribute("data-bs-theme", dark ? "dark" : "light");
})();
