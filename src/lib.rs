//! Typed, async Rust SDK for Alibaba Cloud Edge Node Service (ENS): a hand-made layer for the
//! high-availability virtual IPs (HAVIPs) — associations that are known to be in use, waiters,
//! calls a controller can run again and again — and every other ENS operation, generated from
//! Alibaba's own metadata (one cargo feature per family, see [`generated`]).
//!
//! # From install to a confirmed association
//!
//! Add the crate and tokio:
//!
//! ```toml
//! [dependencies]
//! alibabacloud-ens = "0.1"
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! ```
//!
//! Build a [`Client`] (credentials from the environment here; see [`credentials`] for the
//! chain and [`ClientBuilder`] for every setting), associate, and wait:
//!
//! ```no_run
//! use alibabacloud_ens::{Client, InstanceType};
//!
//! # async fn run() -> Result<(), alibabacloud_ens::Error> {
//! let client = Client::from_env()?;
//! client
//!     .associate_ha_vip()
//!     .ha_vip_id("havip-5p14t****")
//!     .instance_id("i-50c4****")
//!     .instance_type(InstanceType::EnsInstance)
//!     .send()
//!     .await?;
//! let done = client.wait_until_in_use("havip-5p14t****", "i-50c4****").wait().await?;
//! assert!(done.ha_vip().is_in_use_by("i-50c4****"));
//! # Ok(()) }
//! ```
//!
//! AssociateHaVip only starts the association; [`Client::wait_until_in_use`] polls
//! DescribeHaVips until the HAVIP is `InUse` **and** the instance's own association is `InUse`
//! (the [status trap](waiter)).
//!
//! # Handling errors
//!
//! Every call returns [`Error`]. Service errors carry an [`ErrorCode`] (one variant per
//! documented code, unknown codes kept), the HTTP status, the request id and the server's
//! advice:
//!
//! ```no_run
//! # async fn run(client: alibabacloud_ens::Client) {
//! use alibabacloud_ens::ErrorCode;
//! if let Err(e) = client.associate_ha_vip().ha_vip_id("havip-1").instance_id("i-1").send().await {
//!     match e.code() {
//!         Some(ErrorCode::IncorrectInstanceStatus) => eprintln!("start the instance first"),
//!         _ if e.is_retryable() => eprintln!("transient: {e}"),
//!         _ => eprintln!("{e}"),
//!     }
//! }
//! # }
//! ```
//!
//! # Every other operation
//!
//! With the family's cargo feature (`instance` here, or `full`), each operation is a method on
//! [`Client`]; anything else goes through [`Client::call`]:
//!
//! ```no_run
//! # async fn run(client: alibabacloud_ens::Client) -> Result<(), alibabacloud_ens::Error> {
//! let page = client.describe_instances().page_size(50).send().await?;
//! for i in &page.instances {
//!     println!("{:?} {:?}", i.instance_id, i.status);
//! }
//! let raw = client.call("DescribeEnsRegions").send_json().await?;
//! # let _ = raw; Ok(()) }
//! ```
//!
//! # Where things are
//!
//! | module | what |
//! |---|---|
//! | [`client`] | the client and its builder; [`config`]: endpoints and defaults |
//! | [`operation`] | the hand-made HAVIP operations, one module each: builder, output, `send()`, its safe-write check |
//! | [`generated`] | every other operation, one module each, by family (cargo features); generated from `codegen/` |
//! | [`CallBuilder`] | [`Client::call`]: any action by name |
//! | [`waiter`] | `wait_until_in_use`, `wait_until_unassociated`, `wait_until_available`, `wait_until_deleted`; the [`waiter::WaiterSchedule`] |
//! | [`ensure`] | `ensure_ha_vip`, `ensure_associated`, `ensure_unassociated`, and (feature `eip`) `ensure_eip_associated`, `ensure_eip_unassociated`: calls a controller can run again and again |
//! | `preflight` | (features `instance`, `eni`) `preflight_association`: may this instance be associated with this HAVIP? |
//! | [`signer`] | V1 and V3 signatures, pure functions |
//! | [`retry`] | the retry policy and the safe-write rule |
//! | [`error`] | [`Error`], [`ErrorCode`] and what they carry |
//! | [`model`] | HAVIPs, associations, statuses (serde types; [`model::strict`] for configs) |
//! | [`credentials`] | credentials, providers, the default chain |
//! | [`clock`] | injectable time ([`clock::ManualClock`] for tests) |
//! | `emulator` | (feature `emulator`) the embedded ENS endpoint, for tests and demos |
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// `lenient` first, on its own: its macros serve the modules declared after it.
#[macro_use]
mod lenient;

pub mod clock;
pub mod credentials;
pub mod error;
pub mod model;
pub mod retry;
pub mod signer;
mod transport;
mod wire;
#[macro_use]
pub mod operation;
mod call;
mod runtime;
pub use call::CallBuilder;
pub mod client;
pub mod config;
#[cfg(feature = "emulator")]
#[cfg_attr(docsrs, doc(cfg(feature = "emulator")))]
pub mod emulator;
pub mod ensure;
pub mod generated;
#[cfg(all(feature = "instance", feature = "eni"))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "instance", feature = "eni"))))]
pub mod preflight;
pub mod waiter;

#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;

/// The integration tests' independent reference signers, for the unit tests of the wire.
#[cfg(test)]
#[path = "../tests/common/reference.rs"]
mod reference_signer;

pub use client::{Client, ClientBuilder};
pub use credentials::{
    Credentials, DefaultCredentialsChain, ProvideCredentials, ProvideCredentialsFuture,
};
pub use error::{Error, ErrorCode, ServiceError};
pub use model::{
    AssociatedEipAddress, AssociatedInstance, AssociationStatus, HaVip, HaVipStatus, InstanceType,
    ParseEnumError,
};
pub use retry::RetryConfig;
pub use signer::SignatureVersion;

/// The README's code blocks, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
