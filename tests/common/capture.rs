//! A `tracing` subscriber that records every span's fields and every event's fields as text,
//! at every level, or only up to a level (as `RUST_LOG=info` would).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

/// A span's name and its fields as text.
pub type SpanRecord = (String, Vec<(String, String)>);
/// An event's level and its fields as text (`message` included).
pub type EventRecord = (Level, Vec<(String, String)>);

/// Records every span's name and fields and every event's fields as text.
#[derive(Clone, Default)]
pub struct Capture {
    pub lines: Arc<Mutex<Vec<String>>>,
    /// Every event's field values as recorded, unescaped.
    pub raw: Arc<Mutex<Vec<String>>>,
    pub spans: Arc<Mutex<Vec<SpanRecord>>>,
    /// Every event recorded: its level and fields (`message` included).
    pub events: Arc<Mutex<Vec<EventRecord>>>,
    /// The most verbose level recorded (`None`: all).
    max_level: Option<Level>,
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
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        // Ask `enabled` every time: each test thread has its own subscriber, and a callsite
        // another test enabled for good must still be filtered here.
        Interest::sometimes()
    }
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.max_level.is_none_or(|max| *metadata.level() <= max)
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
        if !self.enabled(event.metadata()) {
            return;
        }
        let mut f = Fields(Vec::new());
        event.record(&mut f);
        self.events
            .lock()
            .unwrap()
            .push((*event.metadata().level(), f.0.clone()));
        let mut raw = self.raw.lock().unwrap();
        raw.extend(f.0.iter().map(|(k, v)| format!("{k}={v}")));
        self.lines.lock().unwrap().push(format!("{:?}", f.0));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

impl Capture {
    /// Records events of `max` and less verbose levels only (`Level::INFO`: INFO, WARN and
    /// ERROR), as a subscriber filtered like `RUST_LOG=info` would.
    pub fn at_most(max: Level) -> Capture {
        Capture {
            max_level: Some(max),
            ..Capture::default()
        }
    }

    /// The events recorded whose `message` is `message`, with their fields.
    pub fn events_saying(&self, message: &str) -> Vec<Vec<(String, String)>> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, f)| field(f, "message") == Some(message))
            .map(|(_, f)| f.clone())
            .collect()
    }

    /// Every field value recorded (events and spans), unescaped, as one text.
    pub fn all_text(&self) -> String {
        let mut out = self.raw.lock().unwrap().join("\n");
        for (name, fields) in self.spans.lock().unwrap().iter() {
            out.push('\n');
            out.push_str(name);
            for (k, v) in fields {
                out.push_str(&format!(" {k}={v}"));
            }
        }
        out
    }
}
