//! Every level of an error chain says only its own part: no level's `Display` repeats the text
//! of anything beneath it in the `source()` chain (so `anyhow`'s `{:#}` prints each part once).

mod common;

use std::error::Error as StdError;
use std::time::Duration;

use alibabacloud_ens::clock::ManualClock;
use alibabacloud_ens::error::CredentialsError;
use alibabacloud_ens::{Error, RetryConfig};
use common::{client_for, describe_reply, error_reply, Reply, TestServer};

/// Each level's text, top first.
fn chain(e: &(dyn StdError + 'static)) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push(c.to_string());
        cause = c.source();
    }
    out
}

/// Fails when a level contains the text of any level beneath it.
fn assert_no_repeats(e: &Error) -> Vec<String> {
    let levels = chain(e);
    for (i, level) in levels.iter().enumerate() {
        for below in &levels[i + 1..] {
            assert!(
                below.is_empty() || !level.contains(below.as_str()),
                "level {i} repeats its source's text:\n  {level}\n  contains: {below}\nchain: {levels:#?}"
            );
        }
    }
    levels
}

#[tokio::test]
async fn connection_refused() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = alibabacloud_ens::Client::builder()
        .endpoint(format!("http://127.0.0.1:{port}"))
        .credentials(alibabacloud_ens::Credentials::new("id", "secret"))
        .retry_config(RetryConfig::disabled())
        .build()
        .unwrap();
    let e = client.describe_ha_vips().send().await.unwrap_err();
    assert!(matches!(e, Error::Transport(_)), "{e:?}");
    let levels = assert_no_repeats(&e);
    assert!(levels.len() >= 2, "the cause is kept: {levels:?}");
}

#[tokio::test]
async fn connection_closed_before_the_answer() {
    let server = TestServer::start().await;
    server.set_fallback(Reply::Close);
    let e = client_for(&server)
        .retry_config(RetryConfig::disabled())
        .build()
        .unwrap()
        .describe_ha_vips()
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Transport(_)), "{e:?}");
    let levels = assert_no_repeats(&e);
    assert!(levels.len() >= 2, "{levels:?}");
}

#[tokio::test]
async fn service_html_and_timeout_errors() {
    let server = TestServer::start().await;
    server.push(error_reply(400, "SignatureDoesNotMatch"));
    server.push(Reply::Raw(
        502,
        "text/html",
        b"<html>bad gateway</html>".to_vec(),
    ));
    server.push(Reply::Delay(
        Duration::from_secs(5),
        Box::new(describe_reply("InUse", &[])),
    ));
    let client = client_for(&server)
        .retry_config(RetryConfig::disabled())
        .read_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    for _ in 0..3 {
        let e = client.describe_ha_vips().send().await.unwrap_err();
        assert_no_repeats(&e);
    }
}

#[tokio::test]
async fn waiter_errors_keep_the_poll_error_as_source_only() {
    // A permanent poll error: WaiterOperationFailed over a service error.
    let server = TestServer::start().await;
    server.push(error_reply(400, "SignatureDoesNotMatch"));
    let client = client_for(&server)
        .clock(ManualClock::new())
        .build()
        .unwrap();
    let e = client
        .wait_until_in_use("havip-1", "i-1")
        .wait()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::WaiterOperationFailed(_)), "{e:?}");
    let levels = assert_no_repeats(&e);
    assert_eq!(levels.len(), 2, "{levels:?}");
    assert!(levels[1].contains("SignatureDoesNotMatch"), "{levels:?}");

    // Throttled until the deadline: WaiterTimedOut with the last poll error as its source.
    let server = TestServer::start().await;
    server.set_fallback(error_reply(400, "Throttling.User"));
    let client = client_for(&server)
        .clock(ManualClock::new())
        .build()
        .unwrap();
    let e = client
        .wait_until_in_use("havip-1", "i-1")
        .max_wait(Duration::from_secs(30))
        .wait()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::WaiterTimedOut(_)), "{e:?}");
    let levels = assert_no_repeats(&e);
    assert_eq!(levels.len(), 2, "{levels:?}");
    assert!(levels[1].contains("Throttling.User"), "{levels:?}");
}

#[test]
fn credentials_errors_keep_their_cause_as_source_only() {
    let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "access denied here");
    let e = Error::from(CredentialsError::new("cannot read the token file /x").with_source(io));
    let levels = assert_no_repeats(&e);
    assert_eq!(
        levels,
        [
            "credentials error: cannot read the token file /x",
            "access denied here"
        ]
    );
}
