//! Operations and attempts are traced with their action, attempt number, request id, HTTP
//! status, error code and latency — and never a secret.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use alibabacloud_ens::clock::ManualClock;
use alibabacloud_ens::Credentials;
use common::*;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// A span's name and its fields as text.
type SpanRecord = (String, Vec<(String, String)>);

/// Records every span's name and fields and every event's fields as text.
#[derive(Clone, Default)]
struct Capture {
    lines: Arc<Mutex<Vec<String>>>,
    spans: Arc<Mutex<Vec<SpanRecord>>>,
    next: Arc<AtomicU64>,
}

struct Fields(Vec<(String, String)>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let mut f = Fields(Vec::new());
        attrs.record(&mut f);
        let mut spans = self.spans.lock().unwrap();
        spans.push((attrs.metadata().name().to_owned(), f.0));
        self.next.fetch_add(1, Ordering::Relaxed);
        Id::from_u64(spans.len() as u64)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut f = Fields(Vec::new());
        values.record(&mut f);
        let mut spans = self.spans.lock().unwrap();
        if let Some(s) = spans.get_mut(span.into_u64() as usize - 1) {
            s.1.extend(f.0);
        }
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut f = Fields(Vec::new());
        event.record(&mut f);
        self.lines.lock().unwrap().push(format!("{:?}", f.0));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "current_thread")]
async fn spans_carry_the_attempt_story_and_no_secret() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());

    let server = TestServer::start().await;
    server.push(Reply::Raw(503, "text/html", b"<html>down</html>".to_vec()));
    // The 503 leaves the outcome unknown: the client checks with DescribeHaVips.
    server.push(describe_reply("Available", &[]));
    server.push(error_reply(400, "Throttling.User"));
    server.push(ok_request_id("REQ-OK"));
    let client = alibabacloud_ens::Client::builder()
        .endpoint(server.endpoint())
        .credentials(Credentials::with_security_token(AK, SECRET, TOKEN))
        .clock(ManualClock::new())
        .build()
        .unwrap();
    client
        .associate_ha_vip()
        .ha_vip_id("havip-1")
        .instance_id("i-1")
        .send()
        .await
        .unwrap();

    let spans = capture.spans.lock().unwrap().clone();
    let is_associate = |f: &[(String, String)]| field(f, "action") == Some("AssociateHaVip");
    let ops: Vec<_> = spans
        .iter()
        .filter(|(n, f)| n == "ens_operation" && is_associate(f))
        .collect();
    let attempts: Vec<_> = spans
        .iter()
        .filter(|(n, f)| n == "ens_attempt" && is_associate(f))
        .collect();
    assert_eq!(ops.len(), 1);
    let checks = spans
        .iter()
        .filter(|(n, f)| n == "ens_operation" && field(f, "action") == Some("DescribeHaVips"))
        .count();
    assert_eq!(checks, 1);
    assert_eq!(attempts.len(), 3);
    let op = &ops[0].1;
    assert_eq!(field(op, "action"), Some("AssociateHaVip"));
    assert_eq!(field(op, "attempts"), Some("3"));
    assert_eq!(field(op, "outcome"), Some("success"));
    assert_eq!(field(attempts[0].1.as_slice(), "http_status"), Some("503"));
    assert_eq!(field(&attempts[1].1, "error_code"), Some("Throttling.User"));
    assert_eq!(
        field(&attempts[1].1, "request_id"),
        Some("REQ-Throttling.User")
    );
    assert_eq!(field(&attempts[2].1, "attempt"), Some("3"));
    assert_eq!(field(&attempts[2].1, "request_id"), Some("REQ-OK"));
    assert_eq!(field(&attempts[2].1, "http_status"), Some("200"));
    for (_, f) in &attempts {
        assert!(field(f, "latency_ms").is_some());
    }
    let everything = format!("{spans:?}{:?}", capture.lines.lock().unwrap());
    assert!(
        !everything.contains(SECRET) && !everything.contains(TOKEN),
        "{everything}"
    );
    assert!(!everything.contains("Signature"), "{everything}");
    assert!(capture
        .lines
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("retrying")));
}
