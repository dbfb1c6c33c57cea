//! Typed, async Rust SDK for the HAVIPs of Alibaba Cloud Edge Node Service (ENS).
#![deny(missing_docs)]

pub mod client;
pub mod clock;
pub mod config;
pub mod credentials;
pub mod error;
pub mod model;
pub mod operation;
pub mod retry;
pub mod signer;
pub mod transport;
pub mod waiter;

pub use client::Client;
pub use config::ClientBuilder;
pub use credentials::{Credentials, ProvideCredentials, ProvideCredentialsFuture};
pub use error::{Error, ErrorCode, ServiceError};
pub use model::{
    AssociatedEipAddress, AssociatedInstance, AssociationStatus, HaVip, HaVipStatus, InstanceType,
};
pub use retry::RetryConfig;
pub use signer::SignatureVersion;
