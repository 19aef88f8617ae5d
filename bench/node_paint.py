"""Where the browser's time goes drawing the node page's charts (24 h: six charts of 1,440 buckets).

    python bench/node_paint.py [--data-dir /work/bench-data/network] [--repeat 3]

bench/network.py's setup (the demo's data, `enertrack serve`, headless Chromium, no network
emulation). Two measurements:

1. A warm load of the node page, with every Plotly.react call dcc.Graph makes timed in the page
   (a wrapper installed before the page's scripts run): when each chart's call started and when
   its promise resolved, from navigation start.
2. The power chart's figure as the page received it, drawn again into a fresh div of the same
   size, with one thing changed at a time: what each costs (median of --repeat draws, each until
   the next frame after Plotly's promise, so layout and paint of the SVG are counted).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from harness import load_average  # repo on sys.path
from network import NODE, chromium, ensure_data, load, log_in, served

from enertrack.core.magnitudes import NAMES

# Runs before the page's own scripts: wrap Plotly.react (dcc.Graph's one entry point) when the
# lazily loaded bundle assigns window.Plotly.
WRAP_JS = """
window.__draws = [];
let plotly;
Object.defineProperty(window, 'Plotly', {configurable: true, get() { return plotly; }, set(value) {
  plotly = value;
  const react = value.react;
  value.react = function (gd) {
    const entry = {id: gd.parentElement && gd.parentElement.id, start: performance.now()};
    window.__draws.push(entry);
    const out = react.apply(this, arguments);
    entry.sync = performance.now();
    Promise.resolve(out).then(() => requestAnimationFrame(() => { entry.end = performance.now(); }));
    return out;
  };
}});
"""

VARIANTS_JS = """
const [repeat, done] = [arguments[0], arguments[arguments.length - 1]];
const source = document.querySelector('#node-chart-power .js-plotly-plot');
const base = JSON.parse(JSON.stringify({data: source.data, layout: source.layout}));
const config = {displaylogo: false, locale: 'es', responsive: true};
const every = (n) => (t) => ({...t, x: t.x.filter((_, i) => i % n === 0), y: t.y.filter((_, i) => i % n === 0)});
const variants = {
  'as drawn': [base.data, base.layout, config],
  'no data (axes, modebar, layout only)': [base.data.map(t => ({...t, x: [], y: []})), base.layout, config],
  'staticPlot': [base.data, base.layout, {...config, staticPlot: true}],
  'no modebar': [base.data, base.layout, {...config, displayModeBar: false}],
  'hovermode false': [base.data, {...base.layout, hovermode: false}, config],
  'no fill (band as two lines)': [base.data.map(t => ({...t, fill: 'none'})), base.layout, config],
  'mean line only': [[base.data[2]], base.layout, config],
  'a quarter of the points': [base.data.map(every(4)), base.layout, config],
  'no template (its layout part only)': [base.data, {...base.layout, template: {layout: base.layout.template.layout}},
                                         config],
  'no template at all': [base.data, {...base.layout, template: undefined}, config],
  'no data and no template': [base.data.map(t => ({...t, x: [], y: []})), {...base.layout, template: undefined},
                              config],
  'no automargin': [base.data, {...base.layout, xaxis: {...base.layout.xaxis, automargin: false},
                                yaxis: {...base.layout.yaxis, automargin: false}}, config],
  'automargin, margins it would give (l 64, b 40)': [base.data,
                                                      {...base.layout, margin: {...base.layout.margin, l: 64, b: 40}},
                                                      config],
  'no line simplification': [base.data.map(t => ({...t, line: {...(t.line || {}), simplify: false}})),
                             base.layout, config],
};
const frame = () => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
(async () => {
  const out = {};
  for (const [name, [data, layout, cfg]] of Object.entries(variants)) {
    const times = [];
    for (let i = 0; i < repeat; i++) {
      const div = document.createElement('div');
      div.style.cssText = 'position:fixed;top:0;left:0;width:' + source.offsetWidth + 'px;height:260px;';
      document.body.appendChild(div);
      await frame();
      const t0 = performance.now();
      await Plotly.newPlot(div, JSON.parse(JSON.stringify(data)), JSON.parse(JSON.stringify(layout)), cfg);
      await frame();
      times.push(performance.now() - t0);
      Plotly.purge(div);
      div.remove();
    }
    times.sort((a, b) => a - b);
    out[name] = times[Math.floor(times.length / 2)];
  }
  for (const name of ['voltage', 'current', 'power', 'energy', 'power_factor', 'frequency']) {
    const gd = document.querySelector('#node-chart-' + name + ' .js-plotly-plot');
    if (gd && gd._fullLayout) {
      out['margins of ' + name + ' (l, b; given ' + gd.layout.margin.l + ', ' + gd.layout.margin.b + ')'] =
        gd._fullLayout._size.l * 1000 + gd._fullLayout._size.b;
    }
  }
  done(out);
})();
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path("/work/bench-data/network"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"$ python {' '.join(sys.argv)}  ({time.strftime('%Y-%m-%d %H:%M %Z')}) · load {load_average():.2f}")
    env = ensure_data(args.data_dir)
    with served(env) as base:
        driver = chromium("es")
        try:
            driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WRAP_JS})
            log_in(driver, base)
            for kind in ("cold", "warm", "warm"):
                if kind == "cold":
                    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
                took = load(driver, base + f"nodes/{NODE}", "node")
                time.sleep(0.5)
                draws = driver.execute_script("return window.__draws")
                print(f"{kind} load: settled {took.ms:,.0f} ms (load {load_average():.2f}); Plotly.react calls:")
                for d in draws:
                    end = d.get("end") or float("nan")
                    print(f"  {d['id']:<22} start {d['start']:7.0f}  sync {d['sync'] - d['start']:5.0f} ms"
                          f"  frame after promise {end:7.0f} ({end - d['start']:5.0f} ms)")
                data = draws[len(NAMES):]  # after each graph's first, empty, figure as it mounts
                if data:
                    print(f"  {len(data)} charts drawn with data: {data[0]['start']:.0f} -> "
                          f"{max(d.get('end') or 0 for d in data):.0f} ms, "
                          f"{sum(d['sync'] - d['start'] for d in data):.0f} ms in Plotly.react itself")
            driver.set_script_timeout(300)
            variants = driver.execute_async_script(VARIANTS_JS, args.repeat)
            print(f"\none chart drawn again, median of {args.repeat} (load {load_average():.2f}):")
            for name, ms in variants.items():
                print(f"  {name:<40} {ms:6.1f} ms")
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
