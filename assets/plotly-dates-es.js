// Spanish dates on Plotly's axes: day before month ("8 nov", "8 nov 2026"), month names in lower
// case as Spanish writes them. Plotly's own Spanish locale (assets/vendor/plotly/plotly-locale-es.js,
// registered just before this file) keeps US order on axes; a locale's "format" is replaced as a
// whole, so this one is complete. Its words (chart tips) stay those of the vendor file.
(function () {
  var locale = {
    moduleType: "locale",
    name: "es",
    format: {
      days: ["domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"],
      shortDays: ["dom", "lun", "mar", "mié", "jue", "vie", "sáb"],
      months: ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
               "octubre", "noviembre", "diciembre"],
      shortMonths: ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"],
      periods: ["a. m.", "p. m."],
      dateTime: "%A, %-d de %B de %Y, %H:%M:%S",
      date: "%d/%m/%Y",
      time: "%H:%M:%S",
      decimal: ",",
      thousands: " ",
      grouping: [3],
      currency: ["", " €"],
      year: "%Y",
      month: "%b %Y",
      dayMonth: "%-d %b",
      dayMonthYear: "%-d %b %Y"
    }
  };
  if (typeof Plotly === "undefined") {
    window.PlotlyLocales = window.PlotlyLocales || [];
    window.PlotlyLocales.push(locale);
  } else {
    Plotly.register(locale);
  }
})();
