"""The shape of a Dash callback request, checked before Dash sees it.

Dash trusts its own renderer: a body that is a list, lacks `output`, nests too deep or gives a
single value where a wildcard needs a list ends in a 500 inside Dash. Anyone can send such a
body, so the guard refuses it with a 400 and one log line instead.
"""

from __future__ import annotations

import json
from typing import Any

from dash.dash import _ID_CONTENT, _ID_STORE
from flask import Request

ROUTER_KEY = f"..{_ID_CONTENT}.children...{_ID_STORE}.data.."  # Dash's pages router
ROUTER_TEXT = ("pathname", "search")  # the pages router's inputs Dash calls string methods on
MULTI_WILDCARDS = ('["ALL"]', '["ALLSMALLER"]')  # these ids stand for a list of components


class BadBody(ValueError):
    """A callback request body Dash would fail on; the message says what is wrong."""


def read_body(request: Request) -> Any:
    """The JSON body of request; BadBody when it is not JSON or nests beyond what Python parses."""
    try:
        return json.loads(request.get_data(cache=True))
    except RecursionError:
        raise BadBody("the body nests too deeply") from None
    except ValueError:
        raise BadBody("the body is not JSON") from None


def _is_multi(component_id: Any) -> bool:
    """True when a declared id stands for a list of components (ALL, ALLSMALLER)."""
    text = component_id if isinstance(component_id, str) else json.dumps(component_id, separators=(",", ":"))
    return any(mark in text for mark in MULTI_WILDCARDS)


def _dependency(item: Any, where: str) -> None:
    if not isinstance(item, dict) or not isinstance(item.get("property"), str) \
            or not isinstance(item.get("id"), str | dict):
        raise BadBody(f"{where} must be an object with an id and a property")


def _matches(item: Any, multi: bool, where: str) -> None:
    """item has the shape a declared dependency needs: a list of them for ALL/ALLSMALLER."""
    if not multi:
        _dependency(item, where)
        return
    if not isinstance(item, list):
        raise BadBody(f"{where} must be a list (a wildcard input)")
    for element in item:
        _dependency(element, where)


def _list_of(body: dict[str, Any], key: str, declared: list[dict[str, Any]]) -> None:
    given = body.get(key, [])
    if not isinstance(given, list) or len(given) != len(declared):
        raise BadBody(f"{key} must be a list of {len(declared)}")
    for index, (item, spec) in enumerate(zip(given, declared, strict=True)):
        _matches(item, _is_multi(spec["id"]), f"{key}[{index}]")


def _outputs(body: dict[str, Any], declared: Any) -> None:
    outputs = body.get("outputs")
    if isinstance(declared, list):
        if not isinstance(outputs, list) or len(outputs) != len(declared):
            raise BadBody(f"outputs must be a list of {len(declared)}")
        pairs = list(zip(outputs, declared, strict=True))
    else:
        pairs = [(outputs, declared)]
    for item, spec in pairs:
        _matches(item, _is_multi(spec.component_id_str()), "outputs")


def check_body(body: Any, callback_map: dict[str, dict[str, Any]], router_key: str) -> None:
    """Raise BadBody unless body is a request for one of the app's callbacks, shaped as Dash sends it."""
    if not isinstance(body, dict):
        raise BadBody("the body must be a JSON object")
    output = body.get("output")
    if not isinstance(output, str) or output not in callback_map:
        raise BadBody("output must name one of the app's callbacks")
    spec = callback_map[output]
    _list_of(body, "inputs", spec["inputs"])
    _list_of(body, "state", spec["state"])
    _outputs(body, spec["output"])
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(x, str) for x in changed):
        raise BadBody("changedPropIds must be a list of strings")
    if output == router_key:
        for item in body["inputs"]:
            if item["property"] in ROUTER_TEXT and not isinstance(item.get("value"), str | None):
                raise BadBody(f"the page address's {item['property']} must be a string")
