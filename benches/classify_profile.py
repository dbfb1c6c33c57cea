#!/usr/bin/env python3
"""Where the client's CPU goes, per component, from `perf script` text.

    python3 benches/classify_profile.py CPU_US NAME=FILE [NAME=FILE ...]

Each FILE is `perf script --inline -F tid,ip,sym` of a `perf record --call-graph dwarf` run
of the client_cpu bench in its `--only` mode (benches/profile_client_cpu.sh writes them).
Each sample is charged to the innermost frame that matches a component below, skipping
kernel, libc and generic frames (alloc, core, std), so a syscall or a malloc counts for the
Rust code that made it. CPU_US is a comma-separated list of the CPU per call of each NAME
(from the bench), used to turn shares into microseconds. Prints a Markdown table.
"""
import re
import sys
from collections import Counter

SDK = r"alibabacloud_ens::"
RULES = [
    ("tracing spans/events", r"^(tracing::|tracing_core::|<tracing::|<tracing_core::|core::ptr::drop_in_place<tracing::)"),
    ("timers (time limit per attempt)", r"(alibabacloud_ens::clock::within|TokioClock as alibabacloud_ens::clock::Clock>::sleep_until|tokio::time::sleep::|tokio::runtime::time::entry|<tokio::time::sleep::Sleep|drop_in_place<tokio::time::sleep::Sleep)"),
    ("nonce (getrandom)", r"alibabacloud_ens::signer::new_nonce|getrandom::"),
    ("request id", r"alibabacloud_ens::wire::request_id|alibabacloud_ens::error::Escaped|alibabacloud_ens::wire::sniff_request_id"),
    ("signing (V1/V3, timestamp)", r"alibabacloud_ens::signer::|SigningParams|TokioClock as alibabacloud_ens::clock::Clock>::system_time|time::formatting::|time::offset_date_time::OffsetDateTime::format"),
    ("credentials lookup", r"provide_credentials|alibabacloud_ens::credentials::"),
    ("URL and query (set_query)", r"alibabacloud_ens::wire::set_query|alibabacloud_ens::wire::FormPairs|serde_urlencoded::ser|form_urlencoded::|<url::Url as core::clone::Clone>|url::Url::set_query|url::Url::query_pairs_mut"),
    ("request headers", r"reqwest::async_impl::request::RequestBuilder::header|http::header::value::HeaderValue|http::header::map::HeaderMap<T>>::(insert|with_capacity)|reqwest::async_impl::request::RequestBuilder::headers"),
    ("reading the body", r"alibabacloud_ens::transport::exchange|reqwest::async_impl::response::Response::(chunk|bytes)"),
    ("success check (top-level Code)", r"alibabacloud_ens::wire::RawAnswer::has_failure_code|alibabacloud_ens::wire::top_level_code"),
    ("decoding the answer (serde_json)", r"serde_path_to_error|serde_json::|alibabacloud_ens::wire::from_json|alibabacloud_ens::wire::decode_json|alibabacloud_ens::lenient::|alibabacloud_ens::wire::RawAnswer::decode|alibabacloud_ens::model::|Deserialize|serde::de::|serde_core::de::|time::parsing::|OffsetDateTime::parse"),
    ("builder, parameters, output", r"FluentBuilder::(request|encode)|alibabacloud_ens::runtime::encode|alibabacloud_ens::transport::Transport::request|alibabacloud_ens::transport::Request|alibabacloud_ens::operation::check_|CallOverrides|drop_in_place<alibabacloud_ens::(operation|generated)::.*(FluentBuilder|Output|HaVip|Instance)|drop_in_place<core::result::Result<alibabacloud_ens::"),
    ("HTTP exchange (reqwest, hyper)", r"^(reqwest::|<reqwest::|hyper::|<hyper::|hyper_util::|<hyper_util::|http::|<http::|bytes::|<bytes::|httparse::|want::|<want::|futures_util::|<futures_util::|futures_channel::|<futures_channel::|tower::|<tower::|tower_http::|<tower_http::|url::|<url::|core::ptr::drop_in_place<(reqwest|hyper|hyper_util|http)::|tokio::net::|<tokio::net::|tokio::io::|<tokio::io::|tokio::sync::oneshot|<tokio::sync::oneshot|tokio::sync::mpsc|tower_service)"),
    ("socket I/O syscalls (mio)", r"mio::sys::unix::selector::stateless_io_source::IoSourceState::do_io|mio::net::tcp::stream::TcpStream as std::io::(Read|Write)>"),
    ("epoll wait (I/O driver)", r"mio::sys::unix::selector::Selector::select|mio::poll::Poll::poll"),
    ("SDK futures (send, attempt loop)", r"^(alibabacloud_ens::|<alibabacloud_ens::|core::ptr::drop_in_place<alibabacloud_ens::)"),
    ("benchmark loop", r"^(client_cpu::|<client_cpu::|core::ptr::drop_in_place<client_cpu)"),
    ("tokio runtime (scheduler, park)", r"^(tokio::|<tokio::|mio::|<mio::|parking_lot|std::thread::|std::sys::|std::sync::)"),
]
RULES = [(n, re.compile(p)) for n, p in RULES]
# The table's rows: the rules, in their order (for a frame, the first rule that matches wins;
# no pattern before the socket and epoll rules matches mio's frames).
ORDER = [n for n, _ in RULES]
EXCLUDE = re.compile(r"client_cpu::presign|client_cpu::Clients::new|_dl_start|client_cpu::start_emulator")
SIGNER = re.compile(r"alibabacloud_ens::signer::")
TRANSPORT = re.compile(r"alibabacloud_ens::transport::")


def excluded(fr):
    """Set-up outside the timed calls: the floor's pre-signing (signer frames with no transport
    above them, whatever got inlined), building the clients, starting the emulator."""
    if any(EXCLUDE.search(s) for s in fr):
        return True
    return any(SIGNER.search(s) for s in fr) and not any(TRANSPORT.search(s) for s in fr)


def samples(path):
    block = []
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                if block:
                    yield block
                block = []
                continue
            block.append(line)
    if block:
        yield block


def frames(block):
    out = []
    for line in block[1:]:
        parts = line.strip().split(" ", 1)
        if len(parts) < 2:
            continue
        sym = parts[1]
        if sym.endswith(" (inlined)"):
            sym = sym[: -len(" (inlined)")]
        out.append(sym)
    return out


def classify(fr):
    for sym in fr:
        for name, rx in RULES:
            if rx.search(sym):
                return name
    return "other (kernel or libc alone)"


def main():
    cpu = [float(x) for x in sys.argv[1].split(",")]
    runs = [a.split("=", 1) for a in sys.argv[2:]]
    if len(cpu) != len(runs):
        sys.exit("one CPU figure per NAME=FILE")
    data = []
    for _, path in runs:
        c, total = Counter(), 0
        for b in samples(path):
            fr = frames(b)
            if excluded(fr):
                continue
            c[classify(fr)] += 1
            total += 1
        data.append((c, max(total, 1)))
    print("| component | " + " | ".join(n for n, _ in runs) + " |")
    print("|---" * (len(runs) + 1) + "|")
    for name in ORDER + ["other (kernel or libc alone)"]:
        cells = []
        for (c, t), us in zip(data, cpu):
            share = c[name] / t
            cells.append(f"{share * 100:.1f} % · {share * us:.2f} µs" if c[name] else "–")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("| samples | " + " | ".join(str(t) for _, t in data) + " |")
    print("| CPU/call (bench) | " + " | ".join(f"{us:.1f} µs" for us in cpu) + " |")


if __name__ == "__main__":
    main()
