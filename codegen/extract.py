#!/usr/bin/env python3
"""Normalize the operations of ENS 2017-11-10 from Alibaba's official Python SDK wheel.

Reads client.py and models/_*.py straight out of the pinned wheel (whose sha256 is checked
first) with `ast`, and writes codegen/ens-2017-11-10.json (schema in codegen/README.md).
Any code shape this script does not know makes it stop with an error naming the function or
class: a new SDK release must be looked at by a person, not silently half-read.

Usage: extract.py WHEEL [OUT]
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import sys
import zipfile
from pathlib import Path

PACKAGE = "alibabacloud-ens20171110"
MODULE = "alibabacloud_ens20171110"
VERSION = "12.1.0"
WHEEL_SHA256 = "11b159e771cd02db393668a04613acc39353d46c0985ca761b4e403c675d5f2b"
PRODUCT = "Ens"
API_VERSION = "2017-11-10"
EXPECTED_OPERATIONS = 339

REQUIRED_LINE = "This parameter is required."
SCALARS = {"str": "string", "int": "integer", "float": "float", "bool": "boolean"}
# Every operation of this API is RPC over form data with a JSON answer; the extraction only
# describes that case, so anything else must stop it.
FIXED_PARAMS = {
    "version": API_VERSION,
    "protocol": "HTTPS",
    "pathname": "/",
    "auth_type": "AK",
    "style": "RPC",
    "req_body_type": "formData",
    "body_type": "json",
}


class ExtractError(Exception):
    pass


def fail(where: str, what: str) -> None:
    raise ExtractError(f"{where}: {what}")


# ---------------------------------------------------------------------------------------
# Wheel


def read_wheel(path: Path) -> dict[str, str]:
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != WHEEL_SHA256:
        fail(str(path), f"sha256 {digest}, expected {WHEEL_SHA256} ({PACKAGE} {VERSION})")
    files = {}
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name == f"{MODULE}/client.py" or re.fullmatch(rf"{MODULE}/models/_[a-z0-9_]+\.py", name):
                files[name] = zf.read(name).decode("utf-8")
    if f"{MODULE}/client.py" not in files:
        fail(str(path), "no client.py in the wheel")
    return files


# ---------------------------------------------------------------------------------------
# Models


def ann_type(node: ast.expr | None, where: str) -> dict:
    """TYPE of a constructor annotation."""
    if node is None:
        return {"kind": "any"}
    if isinstance(node, ast.Name):
        if node.id in SCALARS:
            return {"kind": SCALARS[node.id]}
        if node.id == "Any":
            return {"kind": "any"}
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "main_models"
    ):
        return {"kind": "ref", "shape": node.attr}
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        if node.value.id == "List":
            return {"kind": "list", "items": ann_type(node.slice, where)}
        if node.value.id == "Dict":
            sl = node.slice
            if (
                isinstance(sl, ast.Tuple)
                and len(sl.elts) == 2
                and isinstance(sl.elts[0], ast.Name)
                and sl.elts[0].id == "str"
            ):
                return {"kind": "map", "values": ann_type(sl.elts[1], where)}
    fail(where, f"unknown annotation {ast.unparse(node)}")
    return {}  # unreachable


def comment_doc(lines: list[str], lineno: int) -> tuple[str, bool, list[str]]:
    """(doc, required, raw comment lines) of the comment block right above line `lineno` (1-based)."""
    block = []
    i = lineno - 2
    while i >= 0 and lines[i].strip().startswith("#"):
        text = lines[i].strip()[1:]
        if text.startswith(" "):
            text = text[1:]
        block.append(text.rstrip())
        i -= 1
    block.reverse()
    required = REQUIRED_LINE in block
    doc = [line for line in block if line != REQUIRED_LINE]
    while doc and doc[-1] == "":
        doc.pop()
    while doc and doc[0] == "":
        doc.pop(0)
    return "\n".join(doc), required, block


def tomap_kind(stmt: ast.stmt, where: str) -> tuple[str, str, str]:
    """(wire key, python attribute, how) of one to_map statement; how is plain|model|list_model|list_list_model."""
    src = ast.unparse(stmt)
    m = re.fullmatch(r"if self\.(\w+) is not None:\n    result\['([^']*)'\] = self\.\1", src)
    if m:
        return m.group(2), m.group(1), "plain"
    m = re.fullmatch(r"if self\.(\w+) is not None:\n    result\['([^']*)'\] = self\.\1\.to_map\(\)", src)
    if m:
        return m.group(2), m.group(1), "model"
    m = re.fullmatch(
        r"if self\.(\w+) is not None:\n    for k1 in self\.\1:\n        result\['([^']*)'\]\.append\(k1\.to_map\(\) if k1 else None\)",
        src,
    )
    if m:
        return m.group(2), m.group(1), "list_model"
    m = re.fullmatch(
        r"if self\.(\w+) is not None:\n    for k1 in self\.\1:\n        l1 = \[\]\n        for k2 in k1:\n"
        r"            l1\.append\(k2\.to_map\(\) if k2 else None\)\n        result\['([^']*)'\]\.append\(l1\)",
        src,
    )
    if m:
        return m.group(2), m.group(1), "list_list_model"
    fail(where, f"unknown to_map statement: {src!r}")
    return "", "", ""


def expected_how(t: dict) -> str:
    if t["kind"] == "ref":
        return "model"
    if t["kind"] == "list" and t["items"]["kind"] == "ref":
        return "list_model"
    if t["kind"] == "list" and t["items"]["kind"] == "list" and t["items"]["items"]["kind"] == "ref":
        return "list_list_model"
    if t["kind"] == "list" and t["items"]["kind"] == "list":
        fail("type", f"list of lists of non-models is not handled: {t}")
    return "plain"


def parse_models(files: dict[str, str]) -> dict[str, dict]:
    """Every model class: {name: {"file", "fields": [...] in to_map order, "init_order": [...]}}."""
    models: dict[str, dict] = {}
    for fname in sorted(files):
        if "/models/" not in fname:
            continue
        src = files[fname]
        lines = src.splitlines()
        tree = ast.parse(src)
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            where = f"{fname}:{node.name}"
            if [ast.unparse(b) for b in node.bases] != ["DaraModel"]:
                fail(where, "base is not DaraModel")
            if node.name in models:
                fail(where, "class defined twice")
            funcs = {f.name: f for f in node.body if isinstance(f, ast.FunctionDef)}
            init, to_map = funcs.get("__init__"), funcs.get("to_map")
            if init is None or to_map is None:
                fail(where, "no __init__ or to_map")
            args = init.args.args[1:]
            if init.args.vararg or init.args.kwarg or init.args.kwonlyargs:
                fail(where, "unexpected __init__ signature")
            fields = {}
            for a in args:
                fields[a.arg] = {"python": a.arg, "type": ann_type(a.annotation, f"{where}.{a.arg}")}
            assigned = []
            for stmt in init.body:
                s = ast.unparse(stmt)
                m = re.fullmatch(r"self\.(\w+) = (\w+)", s)
                if not m or m.group(1) != m.group(2) or m.group(1) not in fields:
                    fail(where, f"unexpected __init__ statement {s!r}")
                doc, required, raw = comment_doc(lines, stmt.lineno)
                fields[m.group(1)].update(doc=doc, required=required, raw_comment=raw)
                assigned.append(m.group(1))
            if assigned != [a.arg for a in args]:
                fail(where, "__init__ assigns fields in another order than its arguments")
            body = to_map.body
            head = [ast.unparse(s) for s in body[:3]]
            if head != ["result = dict()", "_map = super().to_map()", "if _map is not None:\n    result = _map"]:
                fail(where, f"unexpected to_map head {head}")
            if ast.unparse(body[-1]) != "return result":
                fail(where, "to_map does not end with return result")
            ordered = []
            pending_list_init = None
            for stmt in body[3:-1]:
                s = ast.unparse(stmt)
                m = re.fullmatch(r"result\['([^']*)'\] = \[\]", s)
                if m:
                    pending_list_init = m.group(1)
                    continue
                wire, attr, how = tomap_kind(stmt, where)
                if attr not in fields:
                    fail(where, f"to_map writes unknown attribute {attr}")
                if how in ("list_model", "list_list_model"):
                    if pending_list_init != wire:
                        fail(where, f"list {wire} not initialised just before")
                elif pending_list_init is not None:
                    fail(where, f"dangling list init {pending_list_init}")
                pending_list_init = None
                if how != expected_how(fields[attr]["type"]):
                    fail(where, f"{attr}: to_map form {how} disagrees with annotation {fields[attr]['type']}")
                f = fields[attr]
                if "wire" in f:
                    fail(where, f"{attr} written twice by to_map")
                f["wire"] = wire
                ordered.append(f)
            missing = [a for a in fields if "wire" not in fields[a]]
            if missing:
                fail(where, f"fields never written by to_map: {missing}")
            models[node.name] = {"file": fname, "fields": ordered}
    return models


# ---------------------------------------------------------------------------------------
# client.py


def const_str(node: ast.expr, where: str) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    fail(where, f"expected a string literal, got {ast.unparse(node)}")
    return ""


def parse_operation(fn: ast.FunctionDef) -> dict:
    """Describe one sync *with_options method; stops on any statement it does not know."""
    where = f"client.py:{fn.name}"
    args = fn.args.args
    names = [a.arg for a in args]
    request_class = None
    req_var = None
    if names == ["self", "runtime"]:
        pass
    elif names in (["self", "request", "runtime"], ["self", "tmp_req", "runtime"]):
        ann = ast.unparse(args[1].annotation)
        m = re.fullmatch(r"main_models\.(\w+)", ann)
        if not m:
            fail(where, f"request annotation {ann}")
        request_class = m.group(1)
        req_var = names[1]
    else:
        fail(where, f"unexpected arguments {names}")
    if ast.unparse(args[-1].annotation) != "RuntimeOptions":
        fail(where, "runtime is not RuntimeOptions")

    shrink_class = None
    shrinks: dict[str, dict] = {}  # shrink attribute -> {source, prefix, style}
    sends: list[dict] = []  # {"in", "wire", "attr"} in client order
    whole = False
    query_declared = body_declared = False
    req_args = None
    op_params = None
    response_class = None

    for stmt in fn.body:
        s = ast.unparse(stmt)
        if s == f"{req_var}.validate()" and req_var:
            continue
        m = re.fullmatch(r"request = main_models\.(\w+)\(\)", s)
        if m and req_var == "tmp_req" and shrink_class is None:
            shrink_class = m.group(1)
            continue
        if s == "Utils.convert(tmp_req, request)" and shrink_class:
            continue
        m = re.fullmatch(
            r"if not DaraCore\.is_null\(tmp_req\.(\w+)\):\n"
            r"    request\.(\w+) = Utils\.array_to_string_with_specified_style\(tmp_req\.\1, '([^']*)', '(\w+)'\)",
            s,
        )
        if m and shrink_class:
            src_attr, dst, prefix, style = m.groups()
            if style not in ("json", "simple"):
                fail(where, f"unknown shrink style {style}")
            if dst in shrinks:
                fail(where, f"{dst} shrunk twice")
            shrinks[dst] = {"source": src_attr, "prefix": prefix, "style": style}
            continue
        if s == "query = {}" and not query_declared:
            query_declared = True
            continue
        if s == "body = {}" and not body_declared:
            body_declared = True
            continue
        m = re.fullmatch(r"if not DaraCore\.is_null\(request\.(\w+)\):\n    (query|body)\['([^']*)'\] = request\.\1", s)
        if m:
            attr, where_in, wire = m.groups()
            if (where_in == "query" and not query_declared) or (where_in == "body" and not body_declared):
                fail(where, f"{where_in} written before it is declared")
            if req_var is None:
                fail(where, "writes a parameter without a request")
            sends.append({"in": where_in, "wire": wire, "attr": attr})
            continue
        if s == "query = Utils.query(request.to_map())" and req_var and not query_declared:
            whole = True
            query_declared = True
            continue
        if isinstance(stmt, ast.Assign) and ast.unparse(stmt.targets[0]) == "req":
            call = stmt.value
            if not (isinstance(call, ast.Call) and ast.unparse(call.func) == "open_api_util_models.OpenApiRequest"):
                fail(where, f"unexpected req: {s}")
            if call.args:
                fail(where, "positional OpenApiRequest arguments")
            req_args = {kw.arg: ast.unparse(kw.value) for kw in call.keywords}
            continue
        if isinstance(stmt, ast.Assign) and ast.unparse(stmt.targets[0]) == "params":
            call = stmt.value
            if not (isinstance(call, ast.Call) and ast.unparse(call.func) == "open_api_util_models.Params"):
                fail(where, f"unexpected params: {s}")
            op_params = {kw.arg: const_str(kw.value, where) for kw in call.keywords}
            continue
        m = re.fullmatch(
            r"return DaraCore\.from_map\(main_models\.(\w+)\(\), self\.call_api\(params, req, runtime\)\)", s
        )
        if m:
            response_class = m.group(1)
            continue
        fail(where, f"unknown statement: {s!r}")

    expected_req = {}
    if query_declared:
        expected_req["query"] = "Utils.query(query)"
    if body_declared:
        expected_req["body"] = "Utils.parse_to_map(body)"
    if req_args != expected_req:
        fail(where, f"OpenApiRequest({req_args}) does not match declared query/body {expected_req}")
    if op_params is None or response_class is None:
        fail(where, "no Params or no return")
    for k, v in FIXED_PARAMS.items():
        if op_params.get(k) != v:
            fail(where, f"Params.{k} = {op_params.get(k)!r}, expected {v!r}")
    extra = set(op_params) - set(FIXED_PARAMS) - {"action", "method"}
    if extra:
        fail(where, f"unknown Params fields {extra}")
    if op_params["method"] not in ("GET", "POST"):
        fail(where, f"method {op_params['method']}")
    if shrink_class and not shrinks:
        fail(where, "shrink request without any shrunk field")
    if whole and sends:
        fail(where, "both a whole-request query and single parameters")
    if shrinks and not (whole or any(s["attr"] in shrinks for s in sends)):
        fail(where, "shrunk fields never sent")
    return {
        "fn": fn.name,
        "action": op_params["action"],
        "method": op_params["method"],
        "request": request_class,
        "shrink": shrink_class,
        "shrinks": shrinks,
        "sends": sends,
        "whole": whole,
        "response_wrapper": response_class,
    }


def parse_client(src: str) -> list[dict]:
    tree = ast.parse(src)
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    if [c.name for c in classes] != ["Client"]:
        fail("client.py", "expected exactly one class Client")
    ops = []
    sync_names = set()
    for fn in classes[0].body:
        if isinstance(fn, ast.FunctionDef) and fn.name.endswith("with_options"):
            ops.append(parse_operation(fn))
            sync_names.add(fn.name)
        elif isinstance(fn, ast.AsyncFunctionDef) and fn.name.endswith("with_options_async"):
            if fn.name[: -len("_async")] not in sync_names:
                fail("client.py", f"{fn.name} has no sync twin before it")
    return ops


# ---------------------------------------------------------------------------------------
# Assembly


def is_scalar(t: dict) -> bool:
    return t["kind"] in ("string", "integer", "float", "boolean")


def field_by_attr(model: dict, attr: str) -> dict | None:
    for f in model["fields"]:
        if f["python"] == attr:
            return f
    return None


def field_by_wire(model: dict, wire: str) -> dict | None:
    for f in model["fields"]:
        if f["wire"] == wire:
            return f
    return None


def python_method(fn: str) -> str:
    return fn[: -len("with_options")].rstrip("_")


def build(files: dict[str, str]) -> tuple[dict, list[dict]]:
    models = parse_models(files)
    raw_ops = parse_client(files[f"{MODULE}/client.py"])
    notes: list[dict] = []

    def note(kind: str, operations: list[str] | str | None, field: str | None, detail: str) -> None:
        if isinstance(operations, str):
            operations = [operations]
        notes.append({"kind": kind, "operations": operations or [], "field": field, "detail": detail})

    top_requests, shrink_classes, wrappers = set(), set(), set()
    operations = []
    seen_actions = set()
    for op in raw_ops:
        where = f"client.py:{op['fn']}"
        action = op["action"]
        if action in seen_actions:
            fail(where, f"action {action} twice")
        seen_actions.add(action)
        wrapper = models.get(op["response_wrapper"])
        if wrapper is None:
            fail(where, f"unknown response class {op['response_wrapper']}")
        wrappers.add(op["response_wrapper"])
        wf = {f["wire"]: f for f in wrapper["fields"]}
        if list(wf) != ["headers", "statusCode", "body"] or wf["body"]["type"]["kind"] != "ref":
            fail(where, f"unexpected response wrapper fields {list(wf)}")
        response = wf["body"]["type"]["shape"]

        params = []
        req = None
        if op["request"]:
            req = models.get(op["request"])
            if req is None:
                fail(where, f"unknown request class {op['request']}")
            top_requests.add(op["request"])
        sent_model = req
        if op["shrink"]:
            sent_model = models.get(op["shrink"])
            if sent_model is None:
                fail(where, f"unknown shrink class {op['shrink']}")
            shrink_classes.add(op["shrink"])
            for dst, sh in op["shrinks"].items():
                sf = field_by_attr(sent_model, dst)
                of = field_by_attr(req, sh["source"])
                if sf is None or of is None:
                    fail(where, f"shrink {sh['source']} -> {dst} names an unknown field")
                if sf["type"] != {"kind": "string"}:
                    fail(where, f"shrink field {dst} is not a string")
                if sf["wire"] != of["wire"]:
                    note("shrink_key_differs", action, of["wire"],
                         f"the shrink model writes {sf['wire']!r} where the request model writes {of['wire']!r}")
                if sh["prefix"] != of["wire"]:
                    note("shrink_prefix_differs", action, of["wire"],
                         f"array_to_string_with_specified_style is given prefix {sh['prefix']!r}")
                if is_scalar(of["type"]) or of["type"]["kind"] == "any":
                    note("shrink_of_scalar", action, of["wire"],
                         f"a {of['type']['kind']} shrunk with style {sh['style']!r}: "
                         + ("DaraCore.to_json_string(_parse_to_dict(x)) gives 'null' for a scalar"
                            if sh["style"] == "json" else "','.join over a string joins its characters"))
            # Everything but the shrunk fields must survive Utils.convert (to_map -> from_map)
            # unchanged, or the original model's type would not be what is sent.
            for sf in sent_model["fields"]:
                if sf["python"] in op["shrinks"]:
                    continue
                of = field_by_attr(req, sf["python"])
                if of is None or of["wire"] != sf["wire"]:
                    fail(where, f"shrink field {sf['python']} has no twin in {op['request']}")
                if not same_shape(models, of["type"], sf["type"]):
                    fail(where, f"shrink field {sf['python']} type {sf['type']} differs from {of['type']}")

        if op["whole"]:
            sends = [{"in": "query", "wire": f["wire"], "attr": f["python"]} for f in sent_model["fields"]]
        else:
            sends = op["sends"]
        wires_seen = set()
        for snd in sends:
            key = (snd["in"], snd["wire"])
            if key in wires_seen:
                fail(where, f"{snd['wire']} sent twice in {snd['in']}")
            wires_seen.add(key)
            attr = snd["attr"]
            if attr in op["shrinks"]:
                sh = op["shrinks"][attr]
                of = field_by_attr(req, sh["source"])
                style = sh["style"]
            else:
                if sent_model is not req and field_by_attr(sent_model, attr) is None:
                    fail(where, f"sends unknown shrink attribute {attr}")
                of = field_by_attr(req, attr)
                if of is None:
                    fail(where, f"sends request.{attr}, not a field of {op['request']}")
                style = "plain" if is_scalar(of["type"]) else "flat"
            if snd["wire"] != of["wire"]:
                note("wire_differs_from_to_map", action, snd["wire"],
                     f"client.py sends {snd['wire']!r}; {op['request']}.to_map() names {of['python']!r} {of['wire']!r}")
            params.append({
                "name": snd["wire"],
                "python": of["python"],
                "in": snd["in"],
                "style": style,
                "type": of["type"],
                "required": of["required"],
                "doc": of["doc"],
            })
        if req is not None:
            sent_attrs = {p["python"] for p in params}
            for f in req["fields"]:
                if f["python"] not in sent_attrs:
                    note("never_sent", action, f["wire"],
                         f"{op['request']}.{f['python']} is in the model but client.py never sends it")
        if op["request"] is None and f"{action}Request" in models:
            note("request_model_unused", action, None, f"{action}Request exists but client.py takes no request")

        operations.append({
            "name": action,
            "method": op["method"],
            "python": python_method(op["fn"]),
            "python_with_options": op["fn"],
            "request": op["request"],
            "params": params,
            "response": response,
        })

    if len(operations) != EXPECTED_OPERATIONS:
        fail("client.py", f"{len(operations)} operations, expected {EXPECTED_OPERATIONS}")
    operations.sort(key=lambda o: o["name"])

    # Shapes: the closure of what the original requests and the response bodies reference.
    roots = [f["type"] for op in operations if op["request"] for f in models[op["request"]]["fields"]]
    roots += [{"kind": "ref", "shape": op["response"]} for op in operations]
    reached: list[str] = []
    stack = list(reversed(roots))
    seen = set()
    while stack:
        t = stack.pop()
        for name in refs_of(t):
            if name in seen:
                continue
            if name not in models:
                fail("models", f"reference to unknown class {name}")
            if name in top_requests or name in shrink_classes or name in wrappers:
                fail("models", f"{name} is referenced as a nested shape")
            seen.add(name)
            reached.append(name)
            stack.extend(reversed([f["type"] for f in models[name]["fields"]]))
    shapes = {}
    for name in sorted(reached):
        shapes[name] = {"fields": [
            {"name": f["wire"], "python": f["python"], "type": f["type"], "required": f["required"], "doc": f["doc"]}
            for f in models[name]["fields"]
        ]}
    check_cycles(shapes)

    orphans = sorted(set(models) - set(reached) - top_requests - shrink_classes - wrappers)
    for name in orphans:
        if name.endswith("ShrinkRequest") or re.search(r"ShrinkRequest[A-Z]", name):
            continue  # nested classes of shrink requests mirror the original request's
        note("unreferenced_model", None, name, f"model class {name} ({models[name]['file'].split('/')[-1]}) is used by no operation")

    extra_notes(operations, shapes, models, note)

    doc = {
        "product": PRODUCT,
        "version": API_VERSION,
        "source": {"package": PACKAGE, "version": VERSION, "wheel_sha256": WHEEL_SHA256},
        "operations": operations,
        "shapes": shapes,
    }
    return doc, notes


def refs_of(t: dict) -> list[str]:
    k = t["kind"]
    if k == "ref":
        return [t["shape"]]
    if k == "list":
        return refs_of(t["items"])
    if k == "map":
        return refs_of(t["values"])
    return []


def same_shape(models: dict, a: dict, b: dict, depth: int = 0) -> bool:
    """Structural equality of two TYPEs (class names may differ: Shrink twins)."""
    if depth > 20:
        return False
    if a["kind"] != b["kind"]:
        return False
    k = a["kind"]
    if k == "list":
        return same_shape(models, a["items"], b["items"], depth + 1)
    if k == "map":
        return same_shape(models, a["values"], b["values"], depth + 1)
    if k == "ref":
        fa, fb = models[a["shape"]]["fields"], models[b["shape"]]["fields"]
        return len(fa) == len(fb) and all(
            x["wire"] == y["wire"] and same_shape(models, x["type"], y["type"], depth + 1) for x, y in zip(fa, fb)
        )
    return True


def check_cycles(shapes: dict) -> None:
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            fail("shapes", f"recursive shapes: {' -> '.join(path + [name])}")
        state[name] = 1
        for f in shapes[name]["fields"]:
            for r in refs_of(f["type"]):
                visit(r, path + [name])
        state[name] = 2

    for name in shapes:
        visit(name, [])


RUST_KEYWORDS = {
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for", "if",
    "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self",
    "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "async",
    "await", "dyn", "abstract", "become", "box", "do", "final", "macro", "override", "priv", "typeof",
    "unsized", "virtual", "yield", "try", "gen",
}


def snake(wire: str) -> str:
    """The snake_case a generator would naively derive from a PascalCase wire name."""
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", wire)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.replace("-", "_").replace(".", "_").lower()


def shape_users(operations: list[dict], shapes: dict, models: dict) -> dict[str, list[str]]:
    """For each shape, the operations whose request or response reaches it."""
    users: dict[str, set[str]] = {n: set() for n in shapes}
    for op in operations:
        roots = [{"kind": "ref", "shape": op["response"]}]
        if op["request"]:
            roots += [f["type"] for f in models[op["request"]]["fields"]]
        stack, seen = list(roots), set()
        while stack:
            for name in refs_of(stack.pop()):
                if name not in seen:
                    seen.add(name)
                    users[name].add(op["name"])
                    stack.extend(f["type"] for f in shapes[name]["fields"])
    return {n: sorted(u) for n, u in users.items()}


def erase_refs(t: dict) -> dict:
    if t["kind"] == "ref":
        return {"kind": "object"}
    if t["kind"] == "list":
        return {"kind": "list", "items": erase_refs(t["items"])}
    if t["kind"] == "map":
        return {"kind": "map", "values": erase_refs(t["values"])}
    return t


def type_str(t: dict) -> str:
    k = t["kind"]
    if k == "list":
        return f"list<{type_str(t['items'])}>"
    if k == "map":
        return f"map<{type_str(t['values'])}>"
    if k == "ref":
        return t["shape"]
    return k


def extra_notes(operations: list[dict], shapes: dict, models: dict, note) -> None:
    users = shape_users(operations, shapes, models)

    # One wire name, several types across operations (request parameters; nested object
    # types differ by class name in every operation, so only their kind is compared).
    by_wire: dict[str, dict[str, list[str]]] = {}
    for op in operations:
        for p in op["params"]:
            by_wire.setdefault(p["name"], {}).setdefault(type_str(erase_refs(p["type"])), []).append(op["name"])
    for wire in sorted(by_wire):
        kinds = by_wire[wire]
        if len(kinds) > 1:
            ops = sorted({o for v in kinds.values() for o in v})
            parts = "; ".join(f"{k} in {', '.join(sorted(v))}" for k, v in sorted(kinds.items()))
            note("type_varies_across_operations", ops, wire, f"request parameter {wire}: {parts}")

    # The same for the top-level fields of response bodies where a scalar is involved (paging
    # fields a caller would expect to be numbers, codes, ids).
    by_field: dict[str, dict[str, list[str]]] = {}
    for op in operations:
        for f in shapes[op["response"]]["fields"]:
            by_field.setdefault(f["name"], {}).setdefault(type_str(erase_refs(f["type"])), []).append(op["name"])
    for name in sorted(by_field):
        kinds = by_field[name]
        if len(kinds) > 1 and any(k in ("string", "integer", "float", "boolean") for k in kinds):
            ops = sorted({o for v in kinds.values() for o in v})
            parts = "; ".join(f"{k} in {', '.join(sorted(v))}" for k, v in sorted(kinds.items()))
            note("response_type_varies_across_operations", ops, name, f"response body field {name}: {parts}")

    # Name checks, grouped by (check, wire name, python name) so that one note lists every place.
    groups: dict[tuple, dict] = {}

    def add(kind: str, wire: str, python: str, detail: str, ops: list[str], where: str) -> None:
        g = groups.setdefault((kind, wire, python), {"detail": detail, "ops": set(), "where": set()})
        g["ops"].update(ops)
        g["where"].add(where)

    def field_checks(wire: str, python: str, ops: list[str], where: str) -> None:
        if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", wire):
            add("wire_name_not_pascal", wire, python, f"wire name {wire!r} is not PascalCase", ops, where)
        if python in RUST_KEYWORDS or snake(wire) in RUST_KEYWORDS:
            add("rust_keyword", wire, python,
                f"python {python!r} / snake_case {snake(wire)!r} is a Rust keyword", ops, where)
        if python.replace("_", "") != wire.replace("_", "").lower():
            add("python_name_differs", wire, python,
                f"python name {python!r} is not the wire name {wire!r} lower-cased", ops, where)
        elif python != snake(wire):
            add("python_name_mangled", wire, python,
                f"python name {python!r}; the naive snake_case of {wire!r} is {snake(wire)!r}", ops, where)

    for op in operations:
        for p in op["params"]:
            field_checks(p["name"], p["python"], [op["name"]], f"{op['name']} parameter")
    for sname, shape in shapes.items():
        for f in shape["fields"]:
            field_checks(f["name"], f["python"], users[sname], sname)
    for (kind, wire, _python), g in sorted(groups.items()):
        note(kind, sorted(g["ops"]), wire, g["detail"] + "; in " + ", ".join(sorted(g["where"])))

    for sname, shape in shapes.items():
        snakes: dict[str, list[str]] = {}
        for f in shape["fields"]:
            snakes.setdefault(snake(f["name"]), []).append(f["name"])
        for s, ws in snakes.items():
            if len(ws) > 1:
                note("snake_collision", users[sname], s, f"fields {ws} of {sname} all become {s!r}")
    for op in operations:
        snakes = {}
        for p in op["params"]:
            snakes.setdefault(snake(p["name"]), []).append(p["name"])
        for s, ws in snakes.items():
            if len(ws) > 1:
                note("snake_collision", [op["name"]], s, f"parameters {ws} all become {s!r}")

    # Required lines that are not exactly the marker: the flag stays false, the lead decides.
    for owner, fields, ops in (
        [(op["request"], models[op["request"]]["fields"], [op["name"]]) for op in operations if op["request"]]
        + [(n, models[n]["fields"], users[n]) for n in shapes]
    ):
        for f in fields:
            for line in f["raw_comment"]:
                if line != REQUIRED_LINE and line.startswith(REQUIRED_LINE):
                    note("required_line_variant", ops, f["wire"],
                         f"{owner}.{f['python']}: comment says {line!r}; not marked required")
    for op in operations:
        if op["python"] + "_with_options" != op["python_with_options"]:
            note("python_method_name", [op["name"]], None,
                 f"the sync method is {op['python_with_options']!r} (no underscore before with_options)")


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    wheel = Path(argv[1])
    out = Path(argv[2]) if len(argv) == 3 else Path(__file__).resolve().parent / "ens-2017-11-10.json"
    try:
        files = read_wheel(wheel)
        doc, notes = build(files)
    except ExtractError as e:
        print(f"extract.py: {e}", file=sys.stderr)
        return 1
    text = json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=False) + "\n"
    out.write_text(text, encoding="utf-8")
    print(f"extract.py: {len(doc['operations'])} operations, {len(doc['shapes'])} shapes -> {out}; "
          f"{len(notes)} anomalies found (check.py compares them with overrides.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
