//! Typed, async Rust SDK for the HAVIPs of Alibaba Cloud Edge Node Service (ENS).
#![deny(missing_docs)]

pub mod credentials;
/// An embedded, stateful ENS endpoint for the HAVIP operations, for tests and demos.
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod error;
pub mod model;
pub mod signer;
pub mod waiter;

pub use credentials::{Credentials, ProvideCredentials, ProvideCredentialsFuture};
pub use error::{Error, ErrorCode, ServiceError};
pub use model::{
    AssociatedEipAddress, AssociatedInstance, AssociationStatus, HaVip, HaVipStatus, InstanceType,
};
pub use signer::SignatureVersion;
