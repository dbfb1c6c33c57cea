#!/usr/bin/env python3
"""Print the statistics section of README.md from ens-2017-11-10.json and overrides.json."""

from __future__ import annotations

import collections
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def kind(t: dict) -> str:
    if t["kind"] == "list":
        return f"list<{kind(t['items'])}>"
    if t["kind"] == "map":
        return f"map<{kind(t['values'])}>"
    if t["kind"] == "ref":
        return "ref"
    return t["kind"]


def contains(t: dict, kinds: set[str], shapes: dict, seen: frozenset = frozenset()) -> bool:
    if t["kind"] in kinds:
        return True
    if t["kind"] == "list":
        return contains(t["items"], kinds, shapes, seen)
    if t["kind"] == "map":
        return contains(t["values"], kinds, shapes, seen)
    if t["kind"] == "ref" and t["shape"] not in seen:
        return any(contains(f["type"], kinds, shapes, seen | {t["shape"]}) for f in shapes[t["shape"]]["fields"])
    return False


def table(title: str, counter: collections.Counter, head: str) -> list[str]:
    lines = [f"{title}", "", f"| {head} | count |", "| --- | ---: |"]
    for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0]))):
        lines.append(f"| {k} | {v} |")
    return lines + [""]


def main() -> None:
    ens = json.loads((HERE / "ens-2017-11-10.json").read_text(encoding="utf-8"))
    over = json.loads((HERE / "overrides.json").read_text(encoding="utf-8"))
    ops, shapes = ens["operations"], ens["shapes"]
    params = [p for o in ops for p in o["params"]]
    fields = [f for s in shapes.values() for f in s["fields"]]
    out = [
        f"- {len(ops)} operations, {len(params)} parameters, {len(shapes)} shapes with {len(fields)} fields;",
        f"- {sum(p['required'] for p in params)} required parameters "
        f"(in {sum(any(p['required'] for p in o['params']) for o in ops)} operations), "
        f"{sum(f['required'] for f in fields)} required shape fields;",
        f"- {sum(1 for o in ops if o['request'] is None)} operations without a request, "
        f"{sum(1 for o in ops if not o['params'])} without any parameter;",
        f"- parameters typed any or map at top level: {sum(p['type']['kind'] in ('any', 'map') for p in params)}; "
        f"with an any or map anywhere inside: {sum(contains(p['type'], {'any', 'map'}, shapes) for p in params)} "
        f"(in {sorted({o['name'] for o in ops for p in o['params'] if contains(p['type'], {'any', 'map'}, shapes)})});",
        f"- shape fields typed any: {sum(f['type']['kind'] == 'any' for f in fields)}, map: "
        f"{sum(f['type']['kind'] == 'map' for f in fields)};",
        f"- {len(over['notes'])} notes in overrides.json: "
        + ", ".join(f"{k} {v}" for k, v in sorted(collections.Counter(n['kind'] for n in over['notes']).items())) + ".",
        "",
    ]
    out += table("Operations per method:", collections.Counter(o["method"] for o in ops), "method")
    fam = collections.Counter({f: len(s["operations"]) for f, s in over["families"].items()})
    fam["(hand-made HaVip)"] = len(over["hand_made"])
    out += table("Operations per family:", fam, "family")
    out += table("Parameters per style / in / type:",
                 collections.Counter(f"{p['style']} / {p['in']} / {kind(p['type'])}" for p in params),
                 "style / in / type")
    out += table("Shape fields per type:", collections.Counter(kind(f["type"]) for f in fields), "type")
    print("\n".join(out))


if __name__ == "__main__":
    main()
