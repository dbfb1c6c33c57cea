#!/usr/bin/env python3
"""Record what Alibaba's official Python SDK puts on the wire for every ENS operation.

For each of the 339 operations: build the request model with every field set, call
`Client.<op>_with_options(request, RuntimeOptions())` against a recorder HTTP server on
127.0.0.1 (default V3 signature), and store the decoded query and form body it received.
Also build, per operation, the response body model with every field set and keep its
to_map() (the JSON the SDK parses). Output: codegen/golden.json (schema in README.md).

The SDK must be the pinned one (requirements.txt); its installed client.py and models are
compared byte for byte with the wheel extract.py read. Every value comes from a per-operation
counter, so two runs write identical bytes.

Usage: golden.py WHEEL [ENS_JSON] [OUT]
"""

from __future__ import annotations

import http.server
import importlib.metadata
import json
import os
import sys
import threading
import typing
import zipfile
from pathlib import Path
from urllib.parse import parse_qsl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import extract  # noqa: E402  (the pinned wheel's name, version and sha256 live there)

# The SDK honours HTTP(S)_PROXY; the recorder is local, so no proxy may sit in between.
for _var in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_var, None)

from alibabacloud_ens20171110 import models as main_models  # noqa: E402
from alibabacloud_ens20171110.client import Client  # noqa: E402
from alibabacloud_tea_openapi import utils_models as open_api_util_models  # noqa: E402
from darabonba.model import DaraModel  # noqa: E402
from darabonba.runtime import RuntimeOptions  # noqa: E402

SDK_PACKAGES = ["alibabacloud-ens20171110", "alibabacloud-tea-openapi", "darabonba-core"]
# What a V1 (RPC) signature would add to the query; V3 puts none of these there, and the
# script stops if one shows up, because the recorded query would no longer be only the API's.
V1_COMMON = {
    "Action", "Version", "Format", "AccessKeyId", "SecurityToken", "Signature", "SignatureMethod",
    "SignatureVersion", "SignatureNonce", "SignatureType", "Timestamp",
}
SPECIAL = "-é高 /+&=?%*~'\""

# The hand-made HAVIP builders check their input before sending (ids are printable ASCII
# without spaces, InstanceType and Status are enumerations, Amount is 1 with an address):
# their golden requests use valid values there. Free text (Name, Description) keeps the
# Unicode and reserved characters.
VALID_INPUTS = {
    "AssociateHaVip": {"HaVipId": "havip-golden-1", "InstanceId": "eni-golden-1", "InstanceType": "NetworkInterface"},
    "UnassociateHaVip": {"HaVipId": "havip-golden-1", "InstanceId": "i-golden-1"},
    "CreateHaVip": {"Amount": 1, "IpAddress": "10.0.0.7", "VSwitchId": "vsw-golden-1"},
    "DeleteHaVips": {"HaVipIds": ["havip-golden-1", "havip-golden-2"]},
    "DescribeHaVips": {
        "EnsRegionId": "cn-golden-1", "EnsRegionIds": ["cn-golden-2", "cn-golden-3"],
        "HaVipAddress": "10.0.0.8", "HaVipId": "havip-golden-1", "NetworkId": "n-golden-1",
        "PageNumber": "2", "PageSize": "50", "Status": "InUse", "VSwitchId": "vsw-golden-1",
    },
    "ModifyHaVipAttribute": {"HaVipId": "havip-golden-1"},
}

NOTES = [
    "Inputs: every field of the operation's ORIGINAL request model is set, nested models fully, "
    "recursively. Values come from a counter n that starts at 0 for each operation and grows by one "
    "for each leaf in to_map order (depth first, list elements in order).",
    "string: f'{WireName}{n}" + SPECIAL + "' (ASCII, a Latin-1 letter, a CJK character, a space and "
    "characters reserved in URLs and JSON); integer: 10 + n; float: n + 0.5; boolean: True.",
    "list: 2 elements; map (Dict[str, X]): 2 entries with keys k1 and k2; any (typing.Any or untyped): "
    "an object {\"k1\": <string>, \"k2\": <integer>}, which Utils.query flattens to Name.k1/Name.k2 "
    "and the json shrink writes as a JSON object.",
    "input is the request model's to_map() taken before the call: wire names, original types "
    "(booleans stay true, lists stay arrays, nested models are objects).",
    "wire.query / wire.body are parse_qsl() of the raw query string / form body (strict UTF-8, '+' "
    "is a space), in the order the SDK sent them; raw_query and raw_body are the bytes as sent.",
    "answer: the response BODY model with every field set as for inputs, except that booleans "
    "alternate true (even n) and false (odd n) so that a misplaced flag is detectable; it is the "
    "model's to_map(), and the script checks that the SDK's from_map() reads it back unchanged.",
    "The recorder answered every call with {\"RequestId\":\"golden\"} (HTTP 200, application/json).",
]


class GoldenError(Exception):
    pass


# ---------------------------------------------------------------------------------------
# The pinned SDK


def check_installed(wheel: Path) -> dict[str, str]:
    versions = {p: importlib.metadata.version(p) for p in SDK_PACKAGES}
    if versions["alibabacloud-ens20171110"] != extract.VERSION:
        raise GoldenError(f"installed {versions['alibabacloud-ens20171110']}, expected {extract.VERSION}")
    files = extract.read_wheel(wheel)  # checks the sha256
    pkg_dir = Path(main_models.__file__).resolve().parent.parent
    for name, text in files.items():
        installed = pkg_dir.parent / name
        if installed.read_text(encoding="utf-8") != text:
            raise GoldenError(f"installed {installed} differs from the wheel's {name}")
    with zipfile.ZipFile(wheel) as zf:
        model_files = [n for n in zf.namelist() if n.startswith(f"{extract.MODULE}/models/_")]
    if len(model_files) != len([n for n in files if "/models/" in n]):
        raise GoldenError("model file count differs")
    return versions


# ---------------------------------------------------------------------------------------
# The recorder


class Recorder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    captured: list[dict] = []

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > 16 * 1024 * 1024:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        Recorder.captured.append({
            "method": self.command,
            "path": path,
            "raw_query": query,
            "raw_body": body,
            "content_type": self.headers.get("Content-Type"),
            "x-acs-action": self.headers.get("x-acs-action"),
            "x-acs-version": self.headers.get("x-acs-version"),
            "authorization": self.headers.get("Authorization"),
        })
        answer = b'{"RequestId":"golden"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = _handle

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


# ---------------------------------------------------------------------------------------
# Values


class Values:
    """Deterministic, distinct values for one operation."""

    def __init__(self, answer: bool, numeric: frozenset[str] = frozenset()) -> None:
        self.n = 0
        self.answer = answer
        # Wire names declared `str` that overrides.json reads as integers (PageSize, …):
        # given digits, so the generated integer type can carry them (answers keep them as
        # strings, as the service sends them, to exercise the lenient decoding).
        self.numeric = numeric

    def tick(self) -> int:
        n = self.n
        self.n += 1
        return n

    def make(self, hint: object, wire: str) -> object:
        origin = typing.get_origin(hint)
        if hint is str and wire in self.numeric:
            return str(10 + self.tick())
        if hint is str:
            return f"{wire}{self.tick()}{SPECIAL}"
        if hint is bool:
            n = self.tick()
            return True if not self.answer else n % 2 == 0
        if hint is int:
            return 10 + self.tick()
        if hint is float:
            return self.tick() + 0.5
        if hint is typing.Any:
            return {"k1": f"{wire}{self.tick()}{SPECIAL}", "k2": 10 + self.tick()}
        if origin is list:
            (item,) = typing.get_args(hint)
            return [self.make(item, wire), self.make(item, wire)]
        if origin is dict:
            key, value = typing.get_args(hint)
            if key is not str:
                raise GoldenError(f"map key type {key}")
            return {"k1": self.make(value, wire), "k2": self.make(value, wire)}
        if isinstance(hint, type) and issubclass(hint, DaraModel):
            return self.model(hint)
        raise GoldenError(f"no value for type {hint!r} ({wire})")

    def model(self, cls: type) -> DaraModel:
        fields = init_fields(cls)
        obj = cls()
        for name, hint in fields:
            setattr(obj, name, self.make(hint, wire_name(cls, name, hint)))
        return obj


def init_fields(cls: type) -> list[tuple[str, object]]:
    hints = typing.get_type_hints(cls.__init__)
    names = list(cls.__init__.__code__.co_varnames[1 : cls.__init__.__code__.co_argcount])
    return [(n, hints.get(n, typing.Any)) for n in names]


_WIRE_CACHE: dict[tuple[type, str], str] = {}


def wire_name(cls: type, name: str, hint: object) -> str:
    """The to_map key of one field, found by setting only that field and diffing to_map()."""
    key = (cls, name)
    if key not in _WIRE_CACHE:
        probe = Values(answer=False)
        obj = cls()
        setattr(obj, name, probe.make(hint, "probe"))
        base, changed = cls().to_map(), obj.to_map()
        keys = [k for k in changed if k not in base or changed[k] != base[k]]
        if len(keys) != 1:
            raise GoldenError(f"{cls.__name__}.{name}: to_map changed {keys}")
        _WIRE_CACHE[key] = keys[0]
    return _WIRE_CACHE[key]


def canonical(value: object) -> object:
    """The value as JSON data (tuples become lists), i.e. exactly what golden.json will hold."""
    return json.loads(json.dumps(value, ensure_ascii=False))


# ---------------------------------------------------------------------------------------
# Cross-checks against ens-2017-11-10.json


def expected_wire(param: dict, value: object) -> list[tuple[str, str]] | None:
    """What the extraction says the SDK sends for one param; None for 'flat' (checked by prefix)."""
    style = param["style"]
    if style == "plain":
        return [(param["name"], str(value))]
    if style == "json":
        return [(param["name"], json.dumps(value, ensure_ascii=False, separators=(",", ":")))]
    if style == "simple":
        return [(param["name"], ",".join(map(str, value)))]
    return None


def flatten(prefix: str, value: object, out: list[tuple[str, str]]) -> None:
    """Utils._object_handler, re-stated (README) to check the extraction's 'flat' style."""
    if value is None:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            flatten(f"{prefix}.{k}", v, out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            flatten(f"{prefix}.{i + 1}", v, out)
    else:
        out.append((prefix, str(value)))


def check_against_extract(op: dict, inp: dict, query: list, body: list) -> None:
    where = op["name"]
    expect: dict[str, list[tuple[str, str]]] = {"query": [], "body": []}
    for p in op["params"]:
        if p["name"] not in inp:
            raise GoldenError(f"{where}: param {p['name']} has no input value")
        v = inp[p["name"]]
        pairs = expected_wire(p, v)
        if pairs is None:
            pairs = []
            flatten(p["name"], v, pairs)
        expect[p["in"]].extend(pairs)
    if query != [list(x) for x in expect["query"]]:
        raise GoldenError(f"{where}: query differs from the extraction:\n sent {query}\n expected {expect['query']}")
    # Form.to_form_string sorts the keys, so the body is compared in that order.
    if body != [list(x) for x in sorted(expect["body"])]:
        raise GoldenError(f"{where}: body differs from the extraction:\n sent {body}\n expected {expect['body']}")


# ---------------------------------------------------------------------------------------
# Main


def record(ens: dict, client: Client, overrides: dict) -> tuple[dict, list[str]]:
    out = {}
    problems = []
    numeric_params = frozenset(k for k, t in overrides.get("param_types", {}).items() if t["kind"] == "integer")
    numeric_fields = frozenset(k for k, t in overrides.get("field_types", {}).items() if t["kind"] == "integer")
    for op in ens["operations"]:
        name = op["name"]
        values = Values(answer=False, numeric=numeric_params)
        args = []
        inp: dict = {}
        if op["request"]:
            req_cls = getattr(main_models, op["request"])
            request = values.model(req_cls)
            by_wire = {p["name"]: p["python"] for p in op["params"]}
            for wire, value in VALID_INPUTS.get(name, {}).items():
                setattr(request, by_wire[wire], value)
            inp = canonical(request.to_map())
            args.append(request)
        method = getattr(client, op["python_with_options"])
        Recorder.captured.clear()
        try:
            resp = method(*args, RuntimeOptions())
        except Exception as e:  # reported, not hidden: the operation is left out
            problems.append(f"{name}: the SDK raised {type(e).__name__}: {e}")
            continue
        if resp.body is None or resp.body.to_map().get("RequestId") != "golden":
            raise GoldenError(f"{name}: the SDK did not parse the recorder's answer")
        if len(Recorder.captured) != 1:
            raise GoldenError(f"{name}: {len(Recorder.captured)} requests recorded")
        cap = Recorder.captured[0]
        if cap["path"] != "/" or cap["method"] != op["method"]:
            raise GoldenError(f"{name}: sent {cap['method']} {cap['path']}")
        if cap["x-acs-action"] != name or cap["x-acs-version"] != ens["version"]:
            raise GoldenError(f"{name}: headers name {cap['x-acs-action']} {cap['x-acs-version']}")
        if not (cap["authorization"] or "").startswith("ACS3-HMAC-SHA256 "):
            raise GoldenError(f"{name}: not a V3 signature: {cap['authorization']!r}")
        raw_body = cap["raw_body"].decode("utf-8")
        query = [list(p) for p in parse_qsl(cap["raw_query"], keep_blank_values=True, strict_parsing=bool(cap["raw_query"]), errors="strict")]
        body = [list(p) for p in parse_qsl(raw_body, keep_blank_values=True, strict_parsing=bool(raw_body), errors="strict")]
        leaked = sorted({k for k, _ in query} & V1_COMMON)
        if leaked:
            raise GoldenError(f"{name}: V1 common parameters in the query: {leaked}")
        check_against_extract(op, inp, query, body)

        answers = Values(answer=True, numeric=numeric_fields)
        body_cls = getattr(main_models, op["response"])
        answer = canonical(answers.model(body_cls).to_map())
        wrapper = getattr(main_models, op["response"].removesuffix("Body"))()
        back = wrapper.from_map({"headers": {}, "statusCode": 200, "body": answer}).body.to_map()
        if canonical(back) != answer:
            raise GoldenError(f"{name}: from_map(to_map(answer)) changes the answer")

        out[name] = {
            "input": inp,
            "wire": {
                "method": cap["method"],
                "query": query,
                "body": body,
                "raw_query": cap["raw_query"],
                "raw_body": raw_body,
                "content_type": cap["content_type"],
            },
            "answer": answer,
        }
    return out, problems


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    wheel = Path(argv[1])
    ens_path = Path(argv[2]) if len(argv) > 2 else HERE / "ens-2017-11-10.json"
    out_path = Path(argv[3]) if len(argv) > 3 else HERE / "golden.json"
    try:
        versions = check_installed(wheel)
        ens = json.loads(ens_path.read_text(encoding="utf-8"))
        if ens["source"]["wheel_sha256"] != extract.WHEEL_SHA256:
            raise GoldenError(f"{ens_path} was extracted from another wheel")
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            config = open_api_util_models.Config(
                access_key_id="golden-access-key-id",
                access_key_secret="golden-access-key-secret",
                endpoint=f"127.0.0.1:{server.server_address[1]}",
                protocol="http",
            )
            overrides = json.loads((HERE / "overrides.json").read_text(encoding="utf-8"))
            operations, problems = record(ens, Client(config), overrides)
        finally:
            server.shutdown()
            server.server_close()
    except (GoldenError, extract.ExtractError) as e:
        print(f"golden.py: {e}", file=sys.stderr)
        return 1
    doc = {"sdk": versions, "notes": NOTES, "operations": operations}
    out_path.write_text(json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")
    print(f"golden.py: {len(operations)} operations recorded -> {out_path}")
    for p in problems:
        print(f"golden.py: NOT RECORDED {p}", file=sys.stderr)
    if problems or len(operations) != len(ens["operations"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
