//! The emulator's request handling (hyper parsing, query/form decoding, V1/V3 authentication,
//! operations) on arbitrary bytes sent over a real connection. libfuzzer-sys turns a panic in
//! any thread, the server's included, into an abort, so a server-side panic is a crash here.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use alibabacloud_ens::emulator::Emulator;
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::runtime::Runtime;

struct Target {
    rt: Runtime,
    addr: std::net::SocketAddr,
    _emulator: Emulator,
}

fn target() -> &'static Target {
    static T: OnceLock<Target> = OnceLock::new();
    T.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        // A short request timeout: inputs that promise more body than they send must not
        // hold their connections (and memory) for the default 30 s.
        let emulator = rt
            .block_on(Emulator::builder().demo().request_timeout(Duration::from_secs(1)).start())
            .expect("emulator");
        let addr = emulator.local_addr();
        Target { rt, addr, _emulator: emulator }
    })
}

/// Shapes the input: raw bytes half of the time; otherwise a well-formed request head around a
/// fuzzed query string, headers and body, so authentication and the operations are reached.
fn request(data: &[u8]) -> Vec<u8> {
    let Some((&mode, rest)) = data.split_first() else { return Vec::new() };
    if mode % 2 == 0 {
        return rest.to_vec();
    }
    let mut parts = rest.splitn(3, |b| *b == 0);
    let query = parts.next().unwrap_or_default();
    let headers = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    let method: &[u8] = if mode & 2 == 0 { b"GET" } else { b"POST" };
    let mut out = Vec::new();
    out.extend_from_slice(method);
    out.extend_from_slice(b" /?");
    out.extend(query.iter().filter(|b| !b.is_ascii_whitespace()));
    out.extend_from_slice(b" HTTP/1.1\r\nhost: 127.0.0.1\r\n");
    if mode & 4 != 0 {
        out.extend_from_slice(b"content-type: application/x-www-form-urlencoded\r\n");
    }
    for line in headers.split(|b| *b == b'\n') {
        if line.contains(&b':') && !line.contains(&b'\r') {
            out.extend_from_slice(line);
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(format!("content-length: {}\r\nconnection: close\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

fuzz_target!(|data: &[u8]| {
    let t = target();
    let bytes = request(data);
    t.rt.block_on(async {
        let Ok(mut s) = TcpStream::connect(t.addr).await else { return };
        if s.write_all(&bytes).await.is_err() {
            return;
        }
        let _ = s.shutdown().await;
        let mut sink = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut sink)).await;
    });
});
