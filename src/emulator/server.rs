//! The HTTP side: hyper accept loop, request parsing, dispatch, response writing, request log.
//!
//! One connection is served by hyper over a [`DeadlineIo`]: from the first byte of a request
//! until its body is complete, and again from the answer being ready until it is written, at
//! most the request timeout may pass; otherwise the connection is closed without an answer.
//! (hyper's own header read timeout, the same duration, closes idle keep-alive connections.)
//! The body is read by [`read_body`] into one buffer of at most [`MAX_BODY_BYTES`].
//!
//! One request goes through [`process`]:
//! 1. HTTP method (`GET`/`POST`), path (`/`), body size, query and form decoding (see
//!    [`params`](super::params): strict escapes, no repeated names);
//! 2. [`auth::authenticate`];
//! 3. the action must be one the emulator knows (`InvalidAction.NotFound` otherwise);
//! 4. the next matching injected [`Fault`], if any, is taken;
//! 5. the operation runs against the [`State`](super::state::State) (unless the fault says not
//!    to) and the answer is written (or mangled, or not written, as the fault says);
//! 6. a [`RequestRecord`] is stored (bounded: see the module documentation's Defaults table)
//!    and, when enabled, one log line is printed (control characters escaped, long values cut).
//!
//! The parser never panics on what a client sends: malformed percent-encoding, non-UTF-8,
//! oversized bodies and odd headers all get a JSON error. (Request heads too large for hyper's
//! buffer, or URIs hyper itself cannot parse, are refused by hyper with an empty 4xx answer
//! before they reach this code.)

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Body as HttpBody, Bytes, Incoming};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::Sleep;

use super::auth::{self, Draft, RequestView};
use super::faults::Fault;
use super::params::{
    self, cut, AssociateEipParams, AssociateParams, CreateParams, DeleteParams, DescribeEipsParams,
    DescribeEnisParams, DescribeInstancesParams, DescribeParams, ModifyParams, Params,
    UnassociateEipParams, UnassociateParams,
};
use super::{
    lock, ApiError, RequestRecord, Shared, ACTIONS, HOST_ID, RECORD_FIELD_BYTES, RECORD_MAX_PARAMS,
    RECORD_NAME_BYTES, RECORD_PARAM_BYTES, RECORD_VALUE_BYTES,
};
use crate::signer;

/// Request bodies larger than this are refused (413).
pub(crate) const MAX_BODY_BYTES: usize = 1 << 20;
/// A body declared (`Content-Length`) or found larger than [`MAX_BODY_BYTES`] is still read
/// and thrown away up to this many bytes, so that an ordinary client that sent it whole can
/// read the 413; a larger one is answered at once and the connection closed.
pub(crate) const MAX_DRAIN_BYTES: usize = 2 << 20;
/// Query strings longer than this are refused (400). (URIs of 64 KiB or more cannot even be
/// parsed by hyper, which refuses them itself.)
pub(crate) const MAX_QUERY_BYTES: usize = 32 << 10;
/// hyper's read buffer for a request head.
const MAX_HEAD_BYTES: usize = 128 << 10;

pub(crate) type Body = Full<Bytes>;

/// Returned by the service to make hyper close the connection without writing anything.
#[derive(Debug)]
pub(crate) struct DropConnection;

impl fmt::Display for DropConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for DropConnection {}

/// Accepts connections until the task is aborted; aborting it aborts every connection task.
pub(crate) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    connections.spawn(serve_connection(stream, Arc::clone(&shared)));
                }
                // Out of file descriptors and the like: wait a little instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let timeout = shared.request_timeout;
    let deadlines = Arc::new(Mutex::new(Deadlines::default()));
    let io = DeadlineIo::new(stream, Arc::clone(&deadlines), timeout);
    let service =
        service_fn(move |req| handle(Arc::clone(&shared), Arc::clone(&deadlines), timeout, req));
    let _ = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .serve_connection(TokioIo::new(io), service)
        .await;
}

/// The deadlines of one connection: set by [`handle`] and by [`DeadlineIo`] itself, enforced by
/// [`DeadlineIo`]. Both run in the connection's task.
#[derive(Debug, Default)]
struct Deadlines {
    /// Receiving the current request (head and body) must end by then. Set when a read
    /// returns the first bytes of a request, cleared when its body is complete.
    read: Option<Instant>,
    /// Writing the current answer must end by then. Set when an answer is ready; a write that
    /// cannot proceed after it fails.
    write: Option<Instant>,
}

/// The connection's socket, with [`Deadlines`]: once a deadline has passed, a read (or a
/// write) that would wait fails with `TimedOut` instead, and hyper closes the connection.
struct DeadlineIo {
    inner: TcpStream,
    deadlines: Arc<Mutex<Deadlines>>,
    timeout: Duration,
    read_timer: Option<Pin<Box<Sleep>>>,
    write_timer: Option<Pin<Box<Sleep>>>,
}

impl DeadlineIo {
    fn new(inner: TcpStream, deadlines: Arc<Mutex<Deadlines>>, timeout: Duration) -> Self {
        DeadlineIo {
            inner,
            deadlines,
            timeout,
            read_timer: None,
            write_timer: None,
        }
    }
}

fn timed_out() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "the request or its answer took longer than the request timeout",
    )
}

/// `true` when `deadline` has passed; otherwise arms `timer` for it (so that the task is woken
/// then).
fn expired(timer: &mut Option<Pin<Box<Sleep>>>, deadline: Instant, cx: &mut Context<'_>) -> bool {
    let at = tokio::time::Instant::from_std(deadline);
    let timer = match timer {
        Some(t) => {
            if t.deadline() != at {
                t.as_mut().reset(at);
            }
            t
        }
        None => timer.insert(Box::pin(tokio::time::sleep_until(at))),
    };
    timer.as_mut().poll(cx).is_ready()
}

impl AsyncRead for DeadlineIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let deadline = lock(&this.deadlines).read;
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Poll::Ready(Err(timed_out()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if deadline.is_none() && buf.filled().len() > before {
                    // The first bytes of a request.
                    lock(&this.deadlines).read = Some(Instant::now() + this.timeout);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => match deadline {
                Some(d) if expired(&mut this.read_timer, d, cx) => Poll::Ready(Err(timed_out())),
                _ => Poll::Pending,
            },
            ready => ready,
        }
    }
}

impl DeadlineIo {
    /// Passes a pending write through, or fails it once the write deadline has passed.
    fn write_pending<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        match lock(&self.deadlines).write {
            Some(d) if expired(&mut self.write_timer, d, cx) => Poll::Ready(Err(timed_out())),
            _ => Poll::Pending,
        }
    }
}

impl AsyncWrite for DeadlineIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Pending => this.write_pending(cx),
            ready => ready,
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Pending => this.write_pending(cx),
            ready => ready,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending => this.write_pending(cx),
            ready => ready,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_shutdown(cx) {
            Poll::Pending => this.write_pending(cx),
            ready => ready,
        }
    }
}

/// Why a body was not read whole.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Larger than the limit (declared or counted). `drained`: the rest was read and thrown
    /// away, so the connection could carry on.
    TooLarge { drained: bool },
    /// The connection failed (the client went away, or a deadline passed).
    Broken,
}

/// Reads a body into one buffer, growing as frames arrive, of at most `limit` bytes. A body
/// declared larger than `drain` is refused without reading; one declared or found larger than
/// `limit` is read and thrown away up to `drain` bytes, keeping nothing. Time is bounded by the
/// connection's [`DeadlineIo`].
pub(crate) async fn read_body<B>(
    mut body: B,
    limit: usize,
    drain: usize,
) -> Result<Vec<u8>, BodyError>
where
    B: HttpBody<Data = Bytes> + Unpin,
{
    let declared = usize::try_from(body.size_hint().lower()).unwrap_or(usize::MAX);
    if declared > drain {
        return Err(BodyError::TooLarge { drained: false });
    }
    let mut too_large = declared > limit;
    let mut buf: Vec<u8> = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(|_| BodyError::Broken)?.into_data() else {
            continue; // trailers
        };
        total = total.saturating_add(data.len());
        if too_large || total > limit {
            too_large = true;
            buf = Vec::new();
            if total > drain {
                return Err(BodyError::TooLarge { drained: false });
            }
            continue;
        }
        if total > buf.capacity() {
            // Double, but never beyond the limit.
            let want = buf.capacity().saturating_mul(2).max(total).min(limit);
            buf.reserve_exact(want - buf.len());
        }
        buf.extend_from_slice(&data);
    }
    if too_large {
        Err(BodyError::TooLarge { drained: true })
    } else {
        Ok(buf)
    }
}

async fn handle(
    shared: Arc<Shared>,
    deadlines: Arc<Mutex<Deadlines>>,
    timeout: Duration,
    req: Request<Incoming>,
) -> Result<Response<Body>, DropConnection> {
    let received_at = Instant::now();
    // A head that came out of hyper's buffer (pipelined) starts its clock now.
    lock(&deadlines).read.get_or_insert(received_at + timeout);
    let (parts, body) = req.into_parts();
    let mut close = false;
    let body = match read_body(body, MAX_BODY_BYTES, MAX_DRAIN_BYTES).await {
        Ok(buf) => Ok(Bytes::from(buf)),
        Err(BodyError::TooLarge { drained }) => {
            close = !drained;
            Err(ApiError::new(
                413,
                "InvalidParameter",
                format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
            ))
        }
        // The client went away (or ran out of time) while sending its body: nobody to answer.
        Err(BodyError::Broken) => return Err(DropConnection),
    };
    // Received: processing time does not count against the client.
    lock(&deadlines).read = None;
    // Processing runs in its own task so that a client that gives up (e.g. times out during a
    // `Fault::Slow`) does not cancel a write half-way: the state changes as it would on a
    // real server.
    let task = tokio::spawn(process(shared, parts, body, received_at));
    let response = match task.await {
        Ok(Some(response)) => response,
        Ok(None) => return Err(DropConnection),
        Err(_) => error_response(
            &new_request_id(),
            &ApiError::new(
                500,
                "InternalError",
                "The emulator failed to handle the request.",
            ),
        ),
    };
    lock(&deadlines).write = Some(Instant::now() + timeout);
    Ok(if close {
        with_header(response, "connection", "close")
    } else {
        response
    })
}

/// A fresh request id: 32 random hex digits, upper case, as `8-4-4-4-12`.
pub(crate) fn new_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static FALLBACK: AtomicU64 = AtomicU64::new(1);
    let hex = signer::new_nonce().unwrap_or_else(|_| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!(
            "{:016x}{:016x}",
            FALLBACK.fetch_add(1, Ordering::Relaxed),
            nanos as u64
        )
    });
    let h = hex.to_ascii_uppercase();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Decodes `application/x-www-form-urlencoded` text (also the query string) with
/// `serde_urlencoded`, after the emulator's own stricter check: see
/// [`params::decode_pairs`](super::params::decode_pairs). `None` on a malformed escape or a
/// result that is not UTF-8. (The server itself decodes through [`Params::decode`].)
#[cfg(test)]
pub(crate) fn parse_form(input: &str) -> Option<Vec<(String, String)>> {
    super::params::decode_pairs(input)
}

fn with_header(mut resp: Response<Body>, name: &'static str, value: &str) -> Response<Body> {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
    resp
}

pub(crate) fn response(
    status: u16,
    content_type: Option<&str>,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match content_type {
        Some(ct) if !ct.is_empty() => with_header(resp, "content-type", ct),
        _ => resp,
    }
}

fn json_response(status: u16, request_id: &str, body: &Value) -> Response<Body> {
    let resp = response(status, Some("application/json"), body.to_string());
    with_header(resp, "x-acs-request-id", request_id)
}

fn error_body(request_id: &str, e: &ApiError) -> Value {
    json!({
        "RequestId": request_id,
        "HostId": HOST_ID,
        "Code": e.code,
        "Message": e.message,
        "Recommend": format!(
            "https://api.aliyun.com/troubleshoot?q={}&product=Ens",
            signer::percent_encode(&e.code)
        ),
    })
}

fn error_response(request_id: &str, e: &ApiError) -> Response<Body> {
    json_response(e.status, request_id, &error_body(request_id, e))
}

fn html_page(status: u16) -> String {
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    format!(
        "<!DOCTYPE html>\r\n<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n\
         <center><h1>{status} {reason}</h1></center>\r\n<hr><center>Tengine</center>\r\n\
         </body>\r\n</html>\r\n"
    )
}

/// Steps 1–2: everything up to and including authentication; the principal and the decoded
/// parameters.
fn admit(
    shared: &Shared,
    parts: &hyper::http::request::Parts,
    body: &Result<Bytes, ApiError>,
    draft: &mut Draft,
) -> Result<(auth::Principal, Params), ApiError> {
    if parts.method != Method::GET && parts.method != Method::POST {
        return Err(ApiError::bad(
            "UnsupportedHTTPMethod",
            format!(
                "Specified HTTP method {} is not supported: use GET or POST.",
                parts.method
            ),
        ));
    }
    let body = body.as_ref().map_err(Clone::clone)?;
    if parts.uri.path() != "/" {
        return Err(ApiError::new(
            404,
            "InvalidApi.NotFound",
            "Specified api is not found: RPC requests go to path /.",
        ));
    }
    let raw_query = parts.uri.query().unwrap_or("");
    if raw_query.len() > MAX_QUERY_BYTES {
        return Err(ApiError::bad(
            "InvalidParameter",
            format!("The query string is longer than {MAX_QUERY_BYTES} bytes."),
        ));
    }
    let is_form = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let raw_form =
        (parts.method == Method::POST && is_form && !body.is_empty()).then_some(&body[..]);
    draft.param_count =
        params::count_params(raw_query.as_bytes()) + raw_form.map_or(0, params::count_params);
    let params = Params::decode(raw_query, raw_form)?;
    if let Some(principal) = super::sts::admit_unsigned(&params, draft)? {
        return Ok((principal, params));
    }
    let view = RequestView {
        method: parts.method.as_str(),
        headers: &parts.headers,
        params: &params,
        body,
    };
    let principal = auth::authenticate(shared, &view, draft)?;
    Ok((principal, params))
}

/// The operations the emulator serves (their names are [`ACTIONS`], and the STS's
/// [`STS_ACTIONS`](super::STS_ACTIONS)).
#[derive(Debug, Clone, Copy)]
enum Operation {
    Associate,
    Unassociate,
    Describe,
    Create,
    Delete,
    Modify,
    DescribeInstances,
    DescribeNetworkInterfaces,
    DescribeEips,
    AssociateEip,
    UnassociateEip,
    AssumeRole,
    AssumeRoleWithOidc,
}

impl Operation {
    fn from_action(principal: &auth::Principal) -> Option<Self> {
        match (principal.sts, principal.action.as_str()) {
            (false, "AssociateHaVip") => Some(Operation::Associate),
            (false, "UnassociateHaVip") => Some(Operation::Unassociate),
            (false, "DescribeHaVips") => Some(Operation::Describe),
            (false, "CreateHaVip") => Some(Operation::Create),
            (false, "DeleteHaVips") => Some(Operation::Delete),
            (false, "ModifyHaVipAttribute") => Some(Operation::Modify),
            (false, "DescribeInstances") => Some(Operation::DescribeInstances),
            (false, "DescribeNetworkInterfaces") => Some(Operation::DescribeNetworkInterfaces),
            (false, "DescribeEnsEipAddresses") => Some(Operation::DescribeEips),
            (false, "AssociateEnsEipAddress") => Some(Operation::AssociateEip),
            (false, "UnAssociateEnsEipAddress") => Some(Operation::UnassociateEip),
            (true, "AssumeRole") => Some(Operation::AssumeRole),
            (true, "AssumeRoleWithOIDC") => Some(Operation::AssumeRoleWithOidc),
            _ => None,
        }
    }

    /// Runs the operation against the state with its typed parameters: the success body
    /// without `RequestId`, or the error.
    fn apply(self, shared: &Shared, params: &Params, deny: bool) -> Result<Value, ApiError> {
        match self {
            Operation::Associate => {
                let p: AssociateParams = params.typed()?;
                lock(&shared.state).associate(&p, deny)
            }
            Operation::Unassociate => {
                let p: UnassociateParams = params.typed()?;
                lock(&shared.state).unassociate(&p, deny)
            }
            Operation::Describe => {
                let p: DescribeParams = params.typed()?;
                lock(&shared.state).describe(&p, deny)
            }
            Operation::Create => {
                let p: CreateParams = params.typed()?;
                lock(&shared.state).create(&p, deny)
            }
            Operation::Delete => {
                let p: DeleteParams = params.typed()?;
                lock(&shared.state).delete(&p, deny)
            }
            Operation::Modify => {
                let p: ModifyParams = params.typed()?;
                lock(&shared.state).modify(&p, deny)
            }
            Operation::DescribeInstances => {
                let p: DescribeInstancesParams = params.typed()?;
                lock(&shared.state).describe_instances(&p, deny)
            }
            Operation::DescribeNetworkInterfaces => {
                let p: DescribeEnisParams = params.typed()?;
                lock(&shared.state).describe_network_interfaces(&p, deny)
            }
            Operation::DescribeEips => {
                let p: DescribeEipsParams = params.typed()?;
                lock(&shared.state).describe_eips(&p, deny)
            }
            Operation::AssociateEip => {
                let p: AssociateEipParams = params.typed()?;
                lock(&shared.state).associate_eip(&p, deny)
            }
            Operation::UnassociateEip => {
                let p: UnassociateEipParams = params.typed()?;
                lock(&shared.state).unassociate_eip(&p, deny)
            }
            Operation::AssumeRole => shared.sts.assume_role(shared, params, deny),
            Operation::AssumeRoleWithOidc => shared.sts.assume_role_with_oidc(shared, params),
        }
    }
}

/// The gateway's answer to an action it does not know (404 `InvalidAction.NotFound`), naming
/// the action (escaped and cut: it is whatever the client sent) and saying that the emulator
/// does not play it.
fn unknown_action(principal: &auth::Principal) -> ApiError {
    // (An STS request naming another action is refused earlier, as `InvalidVersion`.)
    let played = ACTIONS.join(", ");
    ApiError::new(
        404,
        "InvalidAction.NotFound",
        format!(
            "Specified api is not found, please check your url and method. The ENS emulator \
             does not play the action \"{}\"; it plays {played}.",
            super::log_safe(&principal.action, UNKNOWN_ACTION_CHARS)
        ),
    )
}

/// An unknown action is cut to this many characters in its error message.
const UNKNOWN_ACTION_CHARS: usize = 128;

/// The answer to a request, before it is written: the response (`None`: close the connection
/// without one) and the result code to record.
struct Answer {
    response: Option<Response<Body>>,
    code: String,
}

impl Answer {
    fn error(request_id: &str, e: ApiError) -> Self {
        Answer {
            response: Some(error_response(request_id, &e)),
            code: e.code,
        }
    }

    /// Not a service answer (HTML, empty, raw, dropped): no code.
    fn other(response: Option<Response<Body>>) -> Self {
        Answer {
            response,
            code: String::new(),
        }
    }
}

/// The status, code and JSON body answering an operation's result.
fn answer_result(request_id: &str, result: Result<Value, ApiError>) -> (u16, String, Value) {
    match result {
        Ok(mut body) => {
            if let Value::Object(map) = &mut body {
                map.insert("RequestId".to_owned(), Value::String(request_id.to_owned()));
            }
            (200, "Success".to_owned(), body)
        }
        Err(e) => (e.status, e.code.clone(), error_body(request_id, &e)),
    }
}

/// Handles one request end to end; `None` means "close the connection without answering".
pub(crate) async fn process(
    shared: Arc<Shared>,
    parts: hyper::http::request::Parts,
    body: Result<Bytes, ApiError>,
    received_at: Instant,
) -> Option<Response<Body>> {
    if super::metadata::is_metadata_path(parts.uri.path()) {
        return super::metadata::serve(&shared, &parts, received_at).await;
    }
    let request_id = new_request_id();
    let mut draft = Draft::default();
    let mut fault: Option<Fault> = None;

    let admission = admit(&shared, &parts, &body, &mut draft);

    let answer = match &admission {
        Err(e) => Answer::error(&request_id, e.clone()),
        Ok((principal, params)) => match Operation::from_action(principal) {
            None => Answer::error(&request_id, unknown_action(principal)),
            Some(operation) => {
                fault = lock(&shared.faults).take(&principal.action);
                let run = || {
                    answer_result(
                        &request_id,
                        operation.apply(&shared, params, principal.deny),
                    )
                };
                match &fault {
                    None | Some(Fault::Slow { .. }) => {
                        if let Some(Fault::Slow { delay }) = &fault {
                            tokio::time::sleep(*delay).await;
                        }
                        let (status, code, body) = run();
                        Answer {
                            response: Some(json_response(status, &request_id, &body)),
                            code,
                        }
                    }
                    Some(Fault::ServiceError {
                        status,
                        code,
                        message,
                    }) => Answer::error(
                        &request_id,
                        ApiError::new(*status, code.clone(), message.clone()),
                    ),
                    Some(Fault::Html { status }) => Answer::other(Some(response(
                        *status,
                        Some("text/html"),
                        html_page(*status),
                    ))),
                    Some(Fault::Empty { status }) => {
                        Answer::other(Some(response(*status, None, Bytes::new())))
                    }
                    Some(Fault::Raw {
                        status,
                        content_type,
                        body,
                    }) => Answer::other(Some(response(*status, Some(content_type), body.clone()))),
                    Some(Fault::DropBeforeApply) => Answer::other(None),
                    Some(Fault::DropAfterApply) => Answer {
                        response: None,
                        code: run().1,
                    },
                    Some(Fault::TruncatedJson) => {
                        let (_, code, body) = run();
                        let text = body.to_string();
                        // Cut at a character boundary at or before the middle.
                        let half = (0..=text.len() / 2)
                            .rev()
                            .find(|&i| text.is_char_boundary(i))
                            .unwrap_or(0);
                        let resp = response(200, Some("application/json"), text[..half].to_owned());
                        Answer {
                            response: Some(with_header(resp, "x-acs-request-id", &request_id)),
                            code,
                        }
                    }
                }
            }
        },
    };

    // Bounded: every field cut, and only an authenticated request keeps its key id, nonce and
    // (some of its) parameters; any other is kept as a summary.
    let authenticated = admission.as_ref().ok().map(|(_, params)| params);
    let field = |s: Option<String>| s.map(|s| cut(&s, RECORD_FIELD_BYTES));
    let record = RequestRecord {
        request_id,
        received_at,
        http_method: cut(parts.method.as_str(), RECORD_FIELD_BYTES),
        action: field(draft.action),
        signature_version: draft.version,
        access_key_id: authenticated.and(field(draft.access_key_id)),
        nonce: authenticated.and(field(draft.nonce)),
        params: authenticated.map_or_else(Vec::new, |p| record_params(draft.version, p)),
        param_count: draft.param_count,
        authenticated: authenticated.is_some(),
        http_status: answer.response.as_ref().map(|r| r.status().as_u16()),
        code: cut(&answer.code, RECORD_FIELD_BYTES),
        fault,
    };
    if shared.log_requests() {
        eprintln!("{}", record.log_line());
    }
    shared.push_record(record);
    answer.response
}

/// The API parameters a [`RequestRecord`] keeps: at most [`RECORD_MAX_PARAMS`], names cut to
/// [`RECORD_NAME_BYTES`], values to [`RECORD_VALUE_BYTES`], and no more than
/// [`RECORD_PARAM_BYTES`] of names and values in all.
pub(crate) fn record_params(
    version: Option<signer::SignatureVersion>,
    params: &Params,
) -> Vec<(String, String)> {
    let mut kept = Vec::new();
    let mut bytes = 0usize;
    for (k, v) in params
        .all()
        .filter(|(k, _)| auth::is_api_param(version, k) && !super::sts::is_secret_param(k))
    {
        let (k, v) = (cut(k, RECORD_NAME_BYTES), cut(v, RECORD_VALUE_BYTES));
        bytes += k.len() + v.len();
        if kept.len() == RECORD_MAX_PARAMS || bytes > RECORD_PARAM_BYTES {
            break;
        }
        kept.push((k, v));
    }
    kept.shrink_to_fit();
    kept
}
