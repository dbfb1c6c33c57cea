//! Alibaba Cloud's percent-encoding (RFC 3986 unreserved set, upper-case hex).

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// `true` for the bytes that stay literal: `A-Z a-z 0-9 - _ . ~`.
#[inline]
const fn is_unreserved(b: u8) -> bool {
    matches!(b, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~')
}

/// [`is_unreserved`] as a table, for the scanning loops.
static UNRESERVED: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = is_unreserved(b as u8);
        b += 1;
    }
    t
};

/// The index of the first byte at or after `from` that must be escaped, or `bytes.len()`.
#[inline]
fn next_reserved(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| !UNRESERVED[b as usize])
        .map_or(bytes.len(), |p| from + p)
}

/// `%00%01…%FF`: the escape of byte `b` is `ESCAPES[3b..3b+3]`.
static ESCAPES: &str = match std::str::from_utf8(&escape_table()) {
    Ok(s) => s,
    Err(_) => panic!("the escape table is ASCII"),
};

const fn escape_table() -> [u8; 768] {
    let mut t = [0u8; 768];
    let mut b = 0;
    while b < 256 {
        t[b * 3] = b'%';
        t[b * 3 + 1] = HEX[b >> 4];
        t[b * 3 + 2] = HEX[b & 0x0f];
        b += 1;
    }
    t
}

#[inline]
fn escape(b: u8) -> &'static str {
    let i = b as usize * 3;
    &ESCAPES[i..i + 3]
}

/// Percent-encodes `input` the way Alibaba Cloud's signatures require.
///
/// Every byte of the UTF-8 encoding is written as `%XX` (upper-case hex) except the unreserved
/// characters `A-Z a-z 0-9 - _ . ~`. Space becomes `%20` (never `+`), `*` becomes `%2A`, `+`
/// becomes `%2B`, `/` becomes `%2F`. No Unicode normalisation is applied.
///
/// ```
/// use alibabacloud_ens::signer::percent_encode;
/// assert_eq!(percent_encode("a b*c~d+e/é"), "a%20b%2Ac~d%2Be%2F%C3%A9");
/// ```
pub fn percent_encode(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + input.len() / 2);
    percent_encode_into(&mut out, input);
    out
}

/// Appends the percent-encoding of `input` to `out` (see [`percent_encode`]).
pub fn percent_encode_into(out: &mut String, input: &str) {
    let bytes = input.as_bytes();
    let mut start = 0;
    loop {
        let i = next_reserved(bytes, start);
        // `start..i` holds only ASCII unreserved bytes; `start` follows an escaped byte, and a
        // run of them covers whole characters, so both ends are char boundaries.
        out.push_str(&input[start..i]);
        if i == bytes.len() {
            return;
        }
        start = next_unescaped(bytes, i, |b| out.push_str(escape(b)));
    }
}

/// Escapes the run of reserved bytes starting at `from` with `push`, and returns where the next
/// unreserved byte (or the end) is: always a char boundary.
#[inline]
fn next_unescaped(bytes: &[u8], mut from: usize, mut push: impl FnMut(u8)) -> usize {
    while let Some(&b) = bytes.get(from) {
        if UNRESERVED[b as usize] {
            break;
        }
        push(b);
        from += 1;
    }
    from
}

/// Appends percent-encode(percent-encode(`input`)) to `out` in one pass: V1's string to sign
/// encodes the canonicalized query once more (`%` becomes `%25`). Most values need no escaping
/// at all and are copied whole.
pub(crate) fn percent_encode_twice_into(out: &mut String, input: &str) {
    let bytes = input.as_bytes();
    let mut start = 0;
    loop {
        let i = next_reserved(bytes, start);
        out.push_str(&input[start..i]);
        if i == bytes.len() {
            return;
        }
        start = next_unescaped(bytes, i, |b| {
            out.push_str("%25");
            out.push_str(&escape(b)[1..]);
        });
    }
}

/// Decodes `%XX` escapes (and nothing else: `+` stays `+`). Returns `None` on a malformed escape
/// or when the result is not UTF-8.
pub fn percent_decode(input: &str) -> Option<String> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = hex_val(*bytes.get(i + 1)?)?;
            let lo = hex_val(*bytes.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    hex_lower_into(&mut out, bytes);
    out
}

/// Appends the lower-case hex of `bytes` to `out`.
pub(crate) fn hex_lower_into(out: &mut String, bytes: &[u8]) {
    const LOWER: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(LOWER[(b >> 4) as usize] as char);
        out.push(LOWER[(b & 0x0f) as usize] as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreserved_bytes_stay_literal() {
        let s = "ABCXYZabcxyz0189-_.~";
        assert_eq!(percent_encode(s), s);
    }

    #[test]
    fn every_other_ascii_byte_is_escaped_upper_case() {
        for b in 0u8..0x80 {
            let s = (b as char).to_string();
            let enc = percent_encode(&s);
            if is_unreserved(b) {
                assert_eq!(enc, s);
            } else {
                assert_eq!(enc, format!("%{b:02X}"), "byte {b:#x}");
            }
        }
    }

    #[test]
    fn documented_special_cases() {
        assert_eq!(percent_encode(" "), "%20");
        assert_eq!(percent_encode("*"), "%2A");
        assert_eq!(percent_encode("+"), "%2B");
        assert_eq!(percent_encode("/"), "%2F");
        assert_eq!(percent_encode("~"), "~");
        assert_eq!(percent_encode(""), "");
        assert_eq!(percent_encode("="), "%3D");
        assert_eq!(percent_encode("&"), "%26");
        assert_eq!(percent_encode("%"), "%25");
    }

    #[test]
    fn non_ascii_is_utf8_bytes_without_normalisation() {
        assert_eq!(percent_encode("é"), "%C3%A9");
        // "e" + combining acute accent stays decomposed.
        assert_eq!(percent_encode("e\u{301}"), "e%CC%81");
        assert_eq!(percent_encode("中"), "%E4%B8%AD");
        assert_eq!(percent_encode("😀"), "%F0%9F%98%80");
    }

    #[test]
    fn one_pass_matches_two() {
        for s in ["", "a b", "2016-02-23T12:46:24Z", "x*y~z+/é", "%41", "中😀"] {
            let mut twice = String::new();
            percent_encode_twice_into(&mut twice, s);
            assert_eq!(twice, percent_encode(&percent_encode(s)));
        }
    }

    #[test]
    fn decode_inverts_encode() {
        for s in ["", "a b", "x*y~z+/é", "%41", "中😀"] {
            assert_eq!(percent_decode(&percent_encode(s)).as_deref(), Some(s));
        }
        assert_eq!(percent_decode("a+b").as_deref(), Some("a+b"));
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%FF"), None);
    }
}
