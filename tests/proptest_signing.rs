//! Property tests: the percent-encoder and both signers agree with an independent reference on
//! arbitrary Unicode keys and values, in any order, empty values included.

mod common;

use alibabacloud_ens::signer::{percent_decode, percent_encode, v1, v3, SigningParams};
use proptest::prelude::*;

fn reference_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn params_strategy() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(("\\PC{0,12}", "\\PC{0,24}"), 0..8)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn encode_matches_reference_and_round_trips(s in "\\PC*") {
        let e = percent_encode(&s);
        prop_assert_eq!(&e, &reference_encode(&s));
        prop_assert!(e.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b)));
        prop_assert_eq!(percent_decode(&e), Some(s));
    }

    #[test]
    fn v1_string_to_sign_is_order_independent_and_matches_reference(
        params in params_strategy(),
        method in prop::sample::select(vec!["GET", "POST"]),
        seed in any::<u64>(),
    ) {
        let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut shuffled = borrowed.clone();
        // Deterministic shuffle from the seed.
        let n = shuffled.len();
        for i in (1..n).rev() {
            let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) % (i as u64 + 1)) as usize;
            shuffled.swap(i, j);
        }
        let a = v1::string_to_sign(method, &borrowed);
        prop_assert_eq!(&a, &v1::string_to_sign(method, &shuffled));
        let mut sorted = params.clone();
        sorted.sort();
        let canonical = sorted
            .iter()
            .map(|(k, v)| format!("{}={}", reference_encode(k), reference_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        prop_assert_eq!(&a, &format!("{method}&%2F&{}", reference_encode(&canonical)));
        prop_assert_eq!(v1::canonicalized_query(&shuffled), canonical);
        let owned: Vec<(String, String)> = params.clone();
        prop_assert_eq!(v1::signature("secret", &a), common::reference_v1(method, &owned, "secret"));
    }

    #[test]
    fn v3_canonical_query_is_order_independent(params in params_strategy()) {
        let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut reversed = borrowed.clone();
        reversed.reverse();
        prop_assert_eq!(v3::canonical_query(&borrowed), v3::canonical_query(&reversed));
    }

    #[test]
    fn v3_sign_matches_the_reference(
        params in params_strategy(),
        nonce in "[0-9a-f]{32}",
        secret in "\\PC{1,40}",
    ) {
        let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let signing = SigningParams::new("id", &secret, time::macros::datetime!(2024-01-02 03:04:05 UTC), &nonce);
        let signed = v3::sign(
            &v3::V3Request {
                method: "POST",
                host: "127.0.0.1:8080",
                action: "AssociateHaVip",
                version: "2017-11-10",
                params: &borrowed,
                extra_signed_headers: &[],
                body: b"",
            },
            &signing,
        );
        let mut headers: Vec<(String, String)> =
            signed.headers.iter().filter(|(k, _)| *k != "authorization").map(|(k, v)| (k.to_string(), v.to_string())).collect();
        headers.push(("host".into(), "127.0.0.1:8080".into()));
        let recorded = common::Recorded {
            method: "POST".into(),
            path: "/".into(),
            raw_query: String::new(),
            query: params.clone(),
            headers: {
                let mut h = headers;
                h.push(("authorization".into(), signed.headers.last().unwrap().1.to_string()));
                h
            },
            body: Vec::new(),
        };
        let (expected, sent, _) = common::reference_v3(&recorded, &secret);
        prop_assert_eq!(sent, expected);
    }
}
