"""Charts drawn only once they are on screen: a figure waits in a store until its graph is in view.

Callbacks write (or Patch) a chart's figure in its store, never in the graph; a clientside
callback (assets/lazy-charts.js) copies the store to the graph while the graph is in the
viewport, and for a graph below the fold as soon as it scrolls in: the browser bumps the
page's `seen` store then. A drawn chart follows every later change of its store (live ticks,
theme) at once; a chart never scrolled to is never drawn.
"""

from __future__ import annotations

from dash import ClientsideFunction, Input, Output, State, clientside_callback, dcc


def stores(figure_ids: list[str], seen_id: str) -> list[dcc.Store]:
    """The page's stores: one waiting figure per chart, and the counter the browser bumps."""
    return [*(dcc.Store(id=ident, data=None) for ident in figure_ids), dcc.Store(id=seen_id, data=0)]


def register(graph_id: str, figure_id: str, seen_id: str) -> None:
    """Draw graph_id from figure_id whenever the graph is in view (the page calls this per chart)."""
    clientside_callback(
        ClientsideFunction("lazy_charts", "draw"),
        Output(graph_id, "figure"),
        Input(figure_id, "data"),
        Input(seen_id, "data"),
        State(graph_id, "figure"),
    )
