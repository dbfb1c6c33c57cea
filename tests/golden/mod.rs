//! How the generated golden test (`tests/generated_golden.rs`) compares the crate with
//! Alibaba's official Python SDK, whose wire forms and synthetic answers are in
//! `codegen/golden.json` (written by `codegen/golden.py` from the pinned wheel).
//!
//! Wire form: the same method; the same parameters in the query and the same in the form
//! body, as multisets of (name, value) pairs (the order of parameters carries no meaning).
//! Values of JSON-style parameters are compared as JSON (the SDK's key order and ours may
//! differ); a boolean the SDK wrote as Python's `True`/`False` is compared as `true`/`false`,
//! which the crate sends (see `src/runtime.rs`). Every request's V3 signature is also checked
//! with the tests' own reference signer.
//!
//! Answers: the synthetic answer sets every field (a top-level `Code` is set to `0`, a
//! success, so that the answer is not read as a failure); the decoded output, serialized back,
//! must hold every scalar value of the answer, no more and no fewer (list wrappers such as
//! `{"Instance": [...]}` vanish, values stay).

// Each test binary uses a part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use alibabacloud_ens::{Client, Error, RetryConfig, SignatureVersion};
use serde_json::Value;

use crate::common::{client_for, reference_v1, reference_v3, Recorded, Reply, TestServer, SECRET};

/// What a case's future yields: the output as JSON (or why it would not serialize).
pub type CaseFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Result<Value, String>, Error>> + Send + 'a>>;

/// One operation: its action and a call of its builder with the golden input.
pub struct Case {
    pub action: &'static str,
    pub run: for<'a> fn(&'a Client) -> CaseFuture<'a>,
}

impl Case {
    pub fn new(action: &'static str, run: for<'a> fn(&'a Client) -> CaseFuture<'a>) -> Self {
        Case { action, run }
    }
}

fn golden() -> Value {
    serde_json::from_str(include_str!("../../codegen/golden.json")).expect("golden.json")
}

fn metadata() -> Value {
    serde_json::from_str(include_str!("../../codegen/ens-2017-11-10.json")).expect("metadata")
}

/// The names of the JSON-style parameters of every operation.
fn json_params(meta: &Value) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for op in meta["operations"].as_array().expect("operations") {
        let names = op["params"]
            .as_array()
            .expect("params")
            .iter()
            .filter(|p| p["style"] == "json")
            .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
            .collect();
        out.insert(op["name"].as_str().unwrap_or_default().to_owned(), names);
    }
    out
}

/// A value as compared: JSON parsed and written back with sorted keys for JSON-style
/// parameters, Python's booleans as Rust's.
fn normalized(name: &str, value: &str, json: &[String]) -> String {
    let base = name.split('.').next().unwrap_or(name);
    if json.iter().any(|j| j == base) {
        if let Ok(v) = serde_json::from_str::<Value>(value) {
            return v.to_string();
        }
    }
    match value {
        "True" => "true".to_owned(),
        "False" => "false".to_owned(),
        v => v.to_owned(),
    }
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap_or_default().to_owned(),
                        p[1].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn sorted(mut p: Vec<(String, String)>, json: &[String]) -> Vec<(String, String)> {
    for (k, v) in &mut p {
        *v = normalized(k, v, json);
    }
    p.sort();
    p
}

/// Every scalar in `v`, as text, sorted (`null` left out).
fn leaves(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Null => {}
        Value::Bool(b) => out.push(b.to_string()),
        Value::Number(n) => out.push(match n.as_f64() {
            Some(f) if n.is_f64() => format!("{f:?}"),
            _ => n.to_string(),
        }),
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| leaves(x, out)),
        Value::Object(m) => m.values().for_each(|x| leaves(x, out)),
    }
}

fn sorted_leaves(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    leaves(v, &mut out);
    out.sort();
    out
}

fn form(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

/// The common parameters V1 adds to the query (not the operation's).
const V1_COMMON: &[&str] = &[
    "Action",
    "Version",
    "Format",
    "AccessKeyId",
    "SecurityToken",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "SignatureType",
    "Timestamp",
];

fn compare(
    action: &str,
    g: &Value,
    req: &Recorded,
    json: &[String],
    version: SignatureVersion,
    fails: &mut Vec<String>,
) {
    let wire = &g["wire"];
    let want_method = wire["method"].as_str().unwrap_or_default();
    if req.method != want_method {
        fails.push(format!(
            "{action}: method {} (the SDK: {want_method})",
            req.method
        ));
    }
    let api_query: Vec<(String, String)> = req
        .query
        .iter()
        .filter(|(k, _)| version == SignatureVersion::V3 || !V1_COMMON.contains(&k.as_str()))
        .cloned()
        .collect();
    let got_q = sorted(api_query, json);
    let want_q = sorted(pairs(&wire["query"]), json);
    if got_q != want_q {
        fails.push(format!(
            "{action}: query\n  crate: {got_q:?}\n  SDK:   {want_q:?}"
        ));
    }
    let got_b = sorted(form(&req.body), json);
    let want_b = sorted(pairs(&wire["body"]), json);
    if got_b != want_b {
        fails.push(format!(
            "{action}: body\n  crate: {got_b:?}\n  SDK:   {want_b:?}"
        ));
    }
    let verified = match version {
        SignatureVersion::V3 => {
            let (expected, sent, _) = reference_v3(req, SECRET);
            expected == sent
        }
        _ => {
            // V1 signs the query and the form body together.
            let mut params = req.query.clone();
            params.extend(form(&req.body));
            req.param("Signature") == Some(reference_v1(&req.method, &params, SECRET).as_str())
        }
    };
    if !verified {
        fails.push(format!(
            "{action}: the {version:?} signature does not verify"
        ));
    }
}

/// What a run compares besides the wire form.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Answers {
    /// Every value of the synthetic answer must reach the output (generated outputs are the
    /// answer's shape).
    EveryValue,
    /// The call must succeed (hand-made outputs add fields of their own, and their decoding
    /// has tests of its own).
    Succeed,
}

/// Runs every generated case; every golden operation but `hand_made` must have one.
pub async fn check_all(cases: Vec<Case>, hand_made: &[&str]) {
    let covered: Vec<&str> = cases.iter().map(|c| c.action).collect();
    let golden = golden();
    let uncovered: Vec<&String> = golden["operations"]
        .as_object()
        .expect("operations")
        .keys()
        .filter(|k| !covered.contains(&k.as_str()) && !hand_made.contains(&k.as_str()))
        .collect();
    assert!(
        uncovered.is_empty(),
        "operations without a case: {uncovered:?}"
    );
    check(cases, Answers::EveryValue).await;
}

/// Runs `cases` against a recording server answering each case's synthetic answer, and fails
/// listing every difference.
pub async fn check(cases: Vec<Case>, answers: Answers) {
    let golden = golden();
    let meta = metadata();
    let json = json_params(&meta);
    let ops = golden["operations"].as_object().expect("operations");

    let server = TestServer::start().await;
    let mut fails = Vec::new();
    // Both signatures: V3 as the official SDK sends it, V1 with its common parameters.
    for version in [SignatureVersion::V3, SignatureVersion::V1] {
        let client = client_for(&server)
            .signature_version(version)
            .retry_config(RetryConfig::disabled())
            .build()
            .expect("client");
        run_cases(
            &cases, &client, &server, ops, &json, version, answers, &mut fails,
        )
        .await;
    }
    assert!(
        fails.is_empty(),
        "{} of {} operations differ:\n{}",
        fails.len(),
        cases.len(),
        fails.join("\n")
    );
}

#[allow(clippy::too_many_arguments)]
async fn run_cases(
    cases: &[Case],
    client: &Client,
    server: &TestServer,
    ops: &serde_json::Map<String, Value>,
    json: &BTreeMap<String, Vec<String>>,
    version: SignatureVersion,
    answers: Answers,
    fails: &mut Vec<String>,
) {
    for case in cases {
        let Some(g) = ops.get(case.action) else {
            fails.push(format!("{}: not in golden.json", case.action));
            continue;
        };
        let mut answer = g["answer"].clone();
        if let Some(code) = answer.get_mut("Code") {
            *code = if code.is_string() {
                Value::from("0")
            } else {
                Value::from(0)
            };
        }
        server.push(Reply::Json(200, answer.to_string()));
        let before = server.requests().len();
        let result = (case.run)(client).await;
        let requests = server.requests();
        let no_json = Vec::new();
        match requests.get(before) {
            Some(req) => compare(
                case.action,
                g,
                req,
                json.get(case.action).unwrap_or(&no_json),
                version,
                fails,
            ),
            None => fails.push(format!("{}: nothing was sent", case.action)),
        }
        match result {
            Err(e) => fails.push(format!("{} ({version:?}): {e}", case.action)),
            Ok(Err(e)) => fails.push(format!(
                "{}: the output does not serialize: {e}",
                case.action
            )),
            Ok(Ok(_)) if answers == Answers::Succeed => {}
            Ok(Ok(out)) => {
                let (got, want) = (sorted_leaves(&out), sorted_leaves(&answer));
                if got != want {
                    let missing: Vec<&String> = want.iter().filter(|w| !got.contains(w)).collect();
                    let extra: Vec<&String> = got.iter().filter(|g| !want.contains(g)).collect();
                    fails.push(format!(
                        "{}: decoded values differ from the answer's; missing {missing:?}, extra {extra:?}",
                        case.action
                    ));
                }
            }
        }
    }
}
