//! Entry points for `cargo fuzz` (compiled only with `--cfg fuzzing`, which cargo-fuzz sets).

use crate::operation::describe_ha_vips::Body as DescribeBody;
use crate::wire::{RawAnswer, RequestIdBody};

/// Feeds `data` to every answer decoder: the error-body decoder with a status taken from the
/// first two bytes, and the success decoders of every operation.
pub fn decode_answers(data: &[u8]) {
    let (status, body) = match data {
        [a, b, rest @ ..] => (100 + (u16::from_le_bytes([*a, *b]) % 500), rest),
        _ => (200, data),
    };
    let raw = || RawAnswer {
        status,
        body: body.to_vec(),
        header_request_id: None,
        retry_after: None,
    };
    let e = raw().into_error("Fuzz");
    let _ = (e.to_string(), e.code(), e.request_id(), e.is_retryable());
    if let Ok((b, _)) = raw().decode::<DescribeBody>("DescribeHaVips") {
        for h in &b.ha_vips.0 {
            let _ = (h.status.to_string(), h.is_in_use_by("i-1"));
        }
    }
    let _ = raw().decode::<RequestIdBody>("AssociateHaVip");
}
