#!/usr/bin/env python3
"""Consistency of the codegen files; refresh.sh runs it last.

- overrides.json: every operation except the hand-made ones is in exactly one family, the
  family names are the agreed ones, the hand-made operations exist and are in no family;
- overrides.json notes hold every anomaly extract.py finds (so a new SDK's anomalies cannot
  slip past the lead unnoticed);
- golden.json records exactly the operations of ens-2017-11-10.json.

Usage: check.py WHEEL
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import extract  # noqa: E402

FAMILIES = [
    "instance", "image", "disk", "network", "vswitch", "eip", "eni", "security_group", "network_acl",
    "load_balancer", "nat", "key_pair", "epn", "arm", "sdg", "storage", "cluster", "application",
    "region", "billing", "tag",
]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    errors = []
    ens = json.loads((HERE / "ens-2017-11-10.json").read_text(encoding="utf-8"))
    over = json.loads((HERE / "overrides.json").read_text(encoding="utf-8"))
    golden = json.loads((HERE / "golden.json").read_text(encoding="utf-8"))
    names = [o["name"] for o in ens["operations"]]

    if list(over["families"]) != FAMILIES:
        errors.append(f"family names {list(over['families'])} are not {FAMILIES}")
    owner: dict[str, list[str]] = {}
    for fam, spec in over["families"].items():
        if not spec.get("doc") or "\n" in spec["doc"]:
            errors.append(f"family {fam}: doc must be one line")
        if spec["operations"] != sorted(spec["operations"]):
            errors.append(f"family {fam}: operations not sorted")
        for op in spec["operations"]:
            owner.setdefault(op, []).append(fam)
    hand = over["hand_made"]
    for op in hand:
        if op not in names:
            errors.append(f"hand-made {op} is not an operation")
        if op in owner:
            errors.append(f"hand-made {op} is also in {owner[op]}")
    for op in names:
        if op in hand:
            continue
        fams = owner.get(op, [])
        if len(fams) != 1:
            errors.append(f"{op} is in {len(fams)} families {fams}")
    for op in owner:
        if op not in names:
            errors.append(f"family lists unknown operation {op}")

    _, found = extract.build(extract.read_wheel(Path(argv[1])))
    listed = [json.dumps(n, sort_keys=True) for n in over["notes"]]
    for n in found:
        if json.dumps(n, sort_keys=True) not in listed:
            errors.append(f"overrides.json lacks the note {json.dumps(n, ensure_ascii=False)}")
    for n in over["notes"]:
        for op in n["operations"]:
            if op not in names:
                errors.append(f"note {n['kind']} names unknown operation {op}")

    if sorted(golden["operations"]) != sorted(names):
        errors.append("golden.json does not record exactly the extracted operations")

    for e in errors:
        print(f"check.py: {e}", file=sys.stderr)
    if errors:
        return 1
    sizes = ", ".join(f"{f} {len(s['operations'])}" for f, s in over["families"].items())
    print(f"check.py: {len(names)} operations = {len(owner)} in families ({sizes}) + {len(hand)} hand-made; "
          f"{len(found)} extracted notes all in overrides.json ({len(over['notes'])} notes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
