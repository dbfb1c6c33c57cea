//! The [`Client`]: one per process is enough; clone it freely.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

use crate::clock::Clock;
use crate::config::ClientBuilder;
use crate::credentials::{Credentials, ProvideCredentials};
use crate::operation::associate_ha_vip::AssociateHaVipFluentBuilder;
use crate::operation::describe_ha_vips::DescribeHaVipsFluentBuilder;
use crate::operation::unassociate_ha_vip::UnassociateHaVipFluentBuilder;
use crate::retry::RetryConfig;
use crate::signer::SignatureVersion;
use crate::waiter::{WaitUntilInUse, WaitUntilUnassociated};
use crate::Error;

/// A client for the ENS HAVIP API.
///
/// Cheap to clone (an `Arc`; clones share one connection pool), `Send + Sync`. Each operation
/// is a method returning a fluent builder; `send().await` runs it.
///
/// ```no_run
/// use alibabacloud_ens::{Client, InstanceType};
///
/// # async fn run() -> Result<(), alibabacloud_ens::Error> {
/// let client = Client::from_env()?;
/// let out = client
///     .associate_ha_vip()
///     .ha_vip_id("havip-5p14t****")
///     .instance_id("eni-50c4****")
///     .instance_type(InstanceType::NetworkInterface)
///     .send()
///     .await?;
/// println!("request id {}", out.request_id());
/// let ready = client.wait_until_in_use("havip-5p14t****", "eni-50c4****").wait().await?;
/// println!("{} is {}", ready.ha_vip.ha_vip_id, ready.ha_vip.status);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientConfig>,
}

pub(crate) struct ClientConfig {
    pub(crate) http: reqwest::Client,
    pub(crate) endpoint: Url,
    pub(crate) host: String,
    pub(crate) credentials: Arc<dyn ProvideCredentials>,
    pub(crate) signature_version: SignatureVersion,
    pub(crate) connect_timeout: Duration,
    pub(crate) read_timeout: Duration,
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) operation_timeout: Option<Duration>,
    pub(crate) retry: RetryConfig,
    pub(crate) clock: Arc<dyn Clock>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.inner;
        f.debug_struct("Client")
            .field("endpoint", &c.endpoint.as_str())
            .field("credentials", &c.credentials)
            .field("signature_version", &c.signature_version)
            .field("retry", &c.retry)
            .field("attempt_timeout", &c.attempt_timeout)
            .field("operation_timeout", &c.operation_timeout)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub(crate) fn from_parts(config: ClientConfig) -> Self {
        Client {
            inner: Arc::new(config),
        }
    }

    /// A builder for a client with custom settings.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client with default settings and credentials from the environment variables
    /// `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET` and, if set,
    /// `ALIBABA_CLOUD_SECURITY_TOKEN`.
    ///
    /// # Errors
    /// [`Error::Credentials`] naming the missing variable.
    pub fn from_env() -> Result<Self, Error> {
        ClientBuilder::new()
            .credentials(Credentials::from_env()?)
            .build()
    }

    /// A client with default settings and credentials from the
    /// [default chain](crate::credentials::DefaultCredentialsChain): the environment variables,
    /// then `~/.alibabacloud/credentials`, then `~/.aliyun/config.json`.
    ///
    /// The chain is resolved here once, so a missing or broken source is reported now.
    ///
    /// # Errors
    /// [`Error::Credentials`] naming every place looked at, or the file and line or key at fault.
    pub async fn from_default_chain() -> Result<Self, Error> {
        let chain = crate::credentials::DefaultCredentialsChain::new();
        chain.provide_credentials().await?;
        ClientBuilder::new().credentials_provider(chain).build()
    }

    /// The endpoint requests go to.
    pub fn endpoint(&self) -> &str {
        self.inner.endpoint.as_str()
    }

    /// The signature scheme in use.
    pub fn signature_version(&self) -> SignatureVersion {
        self.inner.signature_version
    }

    /// The client-wide retry policy.
    pub fn retry_config(&self) -> RetryConfig {
        self.inner.retry
    }

    /// Associates an HAVIP with an ENS instance or ENI (`AssociateHaVip`).
    pub fn associate_ha_vip(&self) -> AssociateHaVipFluentBuilder {
        AssociateHaVipFluentBuilder::new(self.clone())
    }

    /// Removes an association between an HAVIP and an instance (`UnassociateHaVip`).
    pub fn unassociate_ha_vip(&self) -> UnassociateHaVipFluentBuilder {
        UnassociateHaVipFluentBuilder::new(self.clone())
    }

    /// Lists HAVIPs (`DescribeHaVips`).
    pub fn describe_ha_vips(&self) -> DescribeHaVipsFluentBuilder {
        DescribeHaVipsFluentBuilder::new(self.clone())
    }

    /// Waits until `instance_id` is really associated with `ha_vip_id`: the HAVIP is `InUse`
    /// **and** the instance is listed with status `InUse` (see [`crate::waiter`]).
    pub fn wait_until_in_use(
        &self,
        ha_vip_id: impl Into<String>,
        instance_id: impl Into<String>,
    ) -> WaitUntilInUse {
        WaitUntilInUse::new(self.clone(), ha_vip_id.into(), instance_id.into())
    }

    /// Waits until `instance_id` is no longer associated with `ha_vip_id`.
    pub fn wait_until_unassociated(
        &self,
        ha_vip_id: impl Into<String>,
        instance_id: impl Into<String>,
    ) -> WaitUntilUnassociated {
        WaitUntilUnassociated::new(self.clone(), ha_vip_id.into(), instance_id.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}

    #[test]
    fn client_is_send_sync_clone() {
        assert_send_sync_clone::<Client>();
    }

    #[test]
    fn debug_has_no_secret() {
        let c = Client::builder()
            .credentials(Credentials::with_security_token(
                "AKID",
                "THE-SECRET",
                "THE-TOKEN",
            ))
            .build()
            .unwrap();
        let d = format!("{c:?}");
        assert!(d.contains("AKID"));
        assert!(!d.contains("THE-SECRET") && !d.contains("THE-TOKEN"), "{d}");
    }
}
