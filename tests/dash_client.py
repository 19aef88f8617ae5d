"""Call Dash callbacks over HTTP exactly as the browser does (POST _dash-update-component)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from flask.testing import FlaskClient

from enertrack.config import URL_PREFIX

UPDATE = URL_PREFIX + "_dash-update-component"


def parse_outputs(key: str) -> list[dict[str, Any]]:
    """The output list of a callback from its output key ('..a.b...c.d..' or 'a.b')."""
    if key.startswith("..") and key.endswith(".."):
        parts = key[2:-2].split("...")
    else:
        parts = [key]
    outputs = []
    for part in parts:
        ident, _, prop = part.rpartition(".")
        if ident.startswith("{"):
            ident = json.loads(ident)
        outputs.append({"id": ident, "property": prop})
    return outputs


def is_pattern(ident: Any) -> bool:
    """True for a pattern-matching id (JSON dict string or dict)."""
    return isinstance(ident, dict) or (isinstance(ident, str) and ident.startswith("{"))


class DashClient:
    """Finds callbacks by a fragment of their output key and calls them."""

    def __init__(self, client: FlaskClient, dash_app: Any) -> None:
        self.client = client
        self.dash_app = dash_app

    def server_callbacks(self) -> list[dict[str, Any]]:
        """Every callback that runs on the server (clientside ones never reach it)."""
        return [c for c in self.dash_app._callback_list if not c.get("clientside_function")]

    def spec(self, fragment: str) -> dict[str, Any]:
        """The one server callback whose output key contains fragment (with '=', is it; with 'in:', an input id)."""
        if fragment.startswith("="):
            found = [c for c in self.server_callbacks() if c["output"] == fragment[1:]]
        elif fragment.startswith("in:"):
            wanted = fragment[3:]
            # A pattern input matches by a fragment of its JSON id, e.g. 'in:"type":"node-edit"'.
            found = [c for c in self.server_callbacks() if any(
                d["id"] == wanted or (d["id"].startswith("{") and wanted in d["id"]) for d in c["inputs"])]
        else:
            found = [c for c in self.server_callbacks() if fragment in c["output"]]
        assert len(found) == 1, f"{len(found)} callbacks match {fragment!r}"
        return found[0]

    def body(self, spec: dict[str, Any], inputs: list[Any], state: list[Any] | None = None,
             pattern_ids: dict[int, list[dict[str, Any]]] | None = None,
             triggered: int | None = 0) -> dict[str, Any]:
        """Request body; pattern_ids[i] gives the concrete ids of the i-th (ALL) input, [100 + i] of
        the i-th state, [-1 - k] of the k-th output (the components on the page)."""
        pattern_ids = pattern_ids or {}

        def entries(deps: list[dict[str, Any]], values: list[Any], offset: int = 0) -> list[Any]:
            out: list[Any] = []
            for index, (dep, value) in enumerate(zip(deps, values, strict=True)):
                if is_pattern(dep["id"]):
                    concrete = pattern_ids.get(index + offset, [])
                    out.append([{"id": cid, "property": dep["property"], "value": value} for cid in concrete])
                else:
                    out.append({"id": dep["id"], "property": dep["property"], "value": value})
            return out

        outputs: list[Any] = [
            [{"id": cid, "property": out["property"]} for cid in pattern_ids.get(-1 - k, [])]
            if isinstance(out["id"], dict) else out
            for k, out in enumerate(parse_outputs(spec["output"]))
        ]
        out_field: Any = outputs if spec["output"].startswith("..") else outputs[0]
        ins = entries(spec["inputs"], inputs)
        changed: list[str] = []
        if triggered is not None and spec["inputs"]:
            first = ins[triggered]
            if isinstance(first, list):
                changed = [json.dumps(e["id"], separators=(",", ":"), sort_keys=True) + "." + e["property"] for e in first]
            else:
                changed = [f"{first['id']}.{first['property']}"]
        return {
            "output": spec["output"],
            "outputs": out_field,
            "inputs": ins,
            "state": entries(spec.get("state", []), state or [], offset=100),
            "changedPropIds": changed,
        }

    def on_page(self, fragment: str, key: str, values: list[Any]) -> dict[int, list[dict[str, Any]]]:
        """pattern_ids of a callback's wildcard outputs when the page shows one component per value of key."""
        outputs = parse_outputs(self.spec(fragment)["output"])
        return {-1 - k: [{**out["id"], key: value} for value in values]
                for k, out in enumerate(outputs) if isinstance(out["id"], dict)}

    def call(self, fragment: str, inputs: list[Any], state: list[Any] | None = None, **kwargs: Any) -> Any:
        """POST the callback; returns the Flask test response."""
        spec = self.spec(fragment)
        return self.client.post(UPDATE, json=self.body(spec, inputs, state, **kwargs),
                                headers={"Content-Type": "application/json"})

    def csrf_token(self) -> str:
        """A CSRF token for this client's session, fetched the way the pages get it."""
        spec = self.spec('"type":"csrf"')
        form_id = {"form": "login", "type": "csrf"}
        body = self.body(spec, [form_id], pattern_ids={0: [form_id], -1: [form_id]})
        response = self.client.post(UPDATE, json=body)
        assert response.status_code == 200, response.data
        payload = response.get_json()["response"]
        return str(next(iter(payload.values()))["value"])


def components(tree: Any) -> Iterator[dict[str, Any]]:
    """Every component of a tree as a callback answers it ({'type', 'namespace', 'props'}), in document order."""
    if isinstance(tree, list):
        for item in tree:
            yield from components(item)
    elif isinstance(tree, dict) and isinstance(tree.get("props"), dict):
        yield tree
        for value in tree["props"].values():  # children, and components in other props (labels, headers)
            yield from components(value)


def has_class(props: dict[str, Any], cls: str) -> bool:
    """Whether a component's className (or dbc's class_name) holds cls."""
    return cls in f"{props.get('className', '')} {props.get('class_name', '')}".split()
