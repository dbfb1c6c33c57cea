//! Entry points for `cargo fuzz` (compiled only with `--cfg fuzzing`, which cargo-fuzz sets).

use crate::operation::describe_ha_vips::Body as DescribeBody;
use crate::operation::RequestIdBody;
use crate::transport::{error_from_body, RawSuccess};

/// Feeds `data` to every answer decoder: the error-body decoder with a status taken from the
/// first two bytes, and the success decoders of every operation.
pub fn decode_answers(data: &[u8]) {
    let (status, body) = match data {
        [a, b, rest @ ..] => (100 + (u16::from_le_bytes([*a, *b]) % 500), rest),
        _ => (200, data),
    };
    let e = error_from_body("Fuzz", status, body, None, 1);
    let _ = (e.to_string(), e.code(), e.request_id(), e.is_retryable());
    let raw = RawSuccess {
        body: body.to_vec(),
        status,
        header_request_id: None,
        attempts: 1,
        already_applied: None,
    };
    if let Ok((b, _)) = raw.decode::<DescribeBody>("DescribeHaVips") {
        for h in &b.ha_vips {
            let _ = (h.status.to_string(), h.is_in_use_by("i-1"));
        }
    }
    let _ = raw.decode::<RequestIdBody>("AssociateHaVip");
}
