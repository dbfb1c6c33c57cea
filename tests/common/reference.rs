//! Independent reference signatures, deliberately written apart from `src/signer` (and not
//! using it). The integration tests use them through `common`; the crate's own unit tests
//! include this file with `#[path]`, so both check the wire against the same reference.

fn reference_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        let c = b as char;
        if c.is_ascii_alphanumeric() || "-_.~".contains(c) {
            out.push(c);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn sorted_query(params: &[(String, String)]) -> String {
    let mut p: Vec<&(String, String)> = params.iter().collect();
    p.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()).then(a.1.cmp(&b.1)));
    p.iter()
        .map(|(k, v)| format!("{}={}", reference_encode(k), reference_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// V1 signature recomputed from the decoded parameters (query and form body together, minus
/// `Signature`).
pub fn reference_v1(method: &str, params: &[(String, String)], secret: &str) -> String {
    use base64::Engine;
    use hmac::Mac;
    let without: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "Signature")
        .cloned()
        .collect();
    let sts = format!("{method}&%2F&{}", reference_encode(&sorted_query(&without)));
    let mut mac =
        hmac::Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes()).unwrap();
    mac.update(sts.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// V3 signature recomputed from a request as received: its method, decoded query, headers
/// (`header` looks one up by lower-case name) and body bytes, using the headers its
/// `Authorization` names. Returns (expected signature, signature sent, signed headers).
pub fn reference_v3_parts(
    method: &str,
    query: &[(String, String)],
    header: &dyn Fn(&str) -> Option<String>,
    body: &[u8],
    secret: &str,
) -> (String, String, String) {
    use hmac::Mac;
    use sha2::Digest;
    let auth = header("authorization").expect("authorization header");
    let rest = auth.strip_prefix("ACS3-HMAC-SHA256 ").expect("algorithm");
    let mut signed_headers = "";
    let mut sent = "";
    for part in rest.split(',') {
        if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed_headers = v;
        }
        if let Some(v) = part.strip_prefix("Signature=") {
            sent = v;
        }
    }
    let canonical_headers: String = signed_headers
        .split(';')
        .map(|h| {
            format!(
                "{h}:{}\n",
                header(h)
                    .unwrap_or_else(|| panic!("signed header {h} not sent"))
                    .trim()
            )
        })
        .collect();
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let payload = hex(&sha2::Sha256::digest(body));
    let creq = format!(
        "{method}\n/\n{}\n{}\n{}\n{}",
        sorted_query(query),
        canonical_headers,
        signed_headers,
        payload
    );
    let sts = format!(
        "ACS3-HMAC-SHA256\n{}",
        hex(&sha2::Sha256::digest(creq.as_bytes()))
    );
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(sts.as_bytes());
    (
        hex(&mac.finalize().into_bytes()),
        sent.to_owned(),
        signed_headers.to_owned(),
    )
}
