//! The [`Client`] and its [`ClientBuilder`]: one client per process is enough; clone it freely.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, TokioClock};
use crate::config::{
    endpoint_for_region, host_header, parse_endpoint, DEFAULT_CONNECT_TIMEOUT, DEFAULT_ENDPOINT,
    DEFAULT_READ_TIMEOUT,
};
use crate::credentials::{Credentials, ProvideCredentials};
use crate::ensure::{EnsureAssociated, EnsureHaVip, EnsureUnassociated};
use crate::model::HaVip;
use crate::operation::associate_ha_vip::AssociateHaVipFluentBuilder;
use crate::operation::create_ha_vip::CreateHaVipFluentBuilder;
use crate::operation::delete_ha_vips::DeleteHaVipsFluentBuilder;
use crate::operation::describe_ha_vips::DescribeHaVipsFluentBuilder;
use crate::operation::modify_ha_vip_attribute::ModifyHaVipAttributeFluentBuilder;
use crate::operation::unassociate_ha_vip::UnassociateHaVipFluentBuilder;
use crate::retry::RetryConfig;
use crate::signer::SignatureVersion;
use crate::transport::{BoxFuture, Settings, Transport};
use crate::waiter::{
    WaitUntilAvailable, WaitUntilDeleted, WaitUntilInUse, WaitUntilUnassociated, WaiterSchedule,
};
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
/// println!("{} is {}", ready.ha_vip().ha_vip_id, ready.ha_vip().status);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    transport: Transport,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.transport.settings();
        let mut d = f.debug_struct("Client");
        d.field("endpoint", &c.endpoint.as_str());
        if let Some(credentials) = &c.credentials {
            d.field("credentials", credentials);
        }
        d.field("signature_version", &c.signature_version)
            .field("retry", &c.retry)
            .field("attempt_timeout", &c.attempt_timeout)
            .field("operation_timeout", &c.operation_timeout)
            .finish_non_exhaustive()
    }
}

/// Building a client, and its settings.
impl Client {
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
    /// [default chain](crate::credentials::DefaultCredentialsChain).
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

    /// The transport every operation of this client sends through.
    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The endpoint requests go to.
    pub fn endpoint(&self) -> &str {
        self.transport.settings().endpoint.as_str()
    }

    /// The signature scheme in use.
    pub fn signature_version(&self) -> SignatureVersion {
        self.transport.settings().signature_version
    }

    /// The client-wide retry policy.
    pub fn retry_config(&self) -> RetryConfig {
        self.transport.settings().retry
    }

    /// The client-wide waiter schedule, used by every waiter and ensure call that does not set
    /// its own.
    pub fn waiter_schedule(&self) -> WaiterSchedule {
        self.transport.settings().waiter_schedule
    }
}

/// # Operations
///
/// One method per HAVIP operation, each returning a fluent builder: set the parameters, then
/// `send().await`. Every builder checks its input before sending (an [`Error::InvalidInput`]
/// names the parameter) and takes per-call overrides of the retry policy and operation timeout.
/// See [`crate::operation`].
impl Client {
    /// Creates one or more HAVIPs in a vSwitch (`CreateHaVip`). To find one by name or create
    /// it, safely from several replicas, see [`ensure_ha_vip`](Self::ensure_ha_vip).
    pub fn create_ha_vip(&self) -> CreateHaVipFluentBuilder {
        CreateHaVipFluentBuilder::new(self.transport.clone())
    }

    /// Lists HAVIPs (`DescribeHaVips`).
    pub fn describe_ha_vips(&self) -> DescribeHaVipsFluentBuilder {
        DescribeHaVipsFluentBuilder::new(self.transport.clone())
    }

    /// The HAVIP with this id, or `None` when it does not exist ("not found" is an answer, not
    /// an error). One DescribeHaVips call, with the client's retry policy.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad id (nothing sent); any other [`Error`] the service or
    /// the network produces.
    pub async fn get_ha_vip(&self, ha_vip_id: impl AsRef<str>) -> Result<Option<HaVip>, Error> {
        self.get_ha_vip_boxed(ha_vip_id.as_ref().to_owned()).await
    }

    /// [`get_ha_vip`](Self::get_ha_vip)'s work, compiled once here (see `transport::BoxFuture`).
    #[inline(never)]
    fn get_ha_vip_boxed(&self, id: String) -> BoxFuture<'_, Result<Option<HaVip>, Error>> {
        Box::pin(self.get_ha_vip_work(id))
    }

    async fn get_ha_vip_work(&self, id: String) -> Result<Option<HaVip>, Error> {
        let id = id.as_str();
        crate::operation::check_id("HaVipId", id)?;
        match self.describe_ha_vips().ha_vip_id(id).send().await {
            Ok(page) => Ok(page.into_ha_vips().into_iter().find(|h| h.ha_vip_id == id)),
            Err(e) if e.code() == Some(&crate::ErrorCode::HaVipNotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Associates an HAVIP with an ENS instance or ENI (`AssociateHaVip`).
    pub fn associate_ha_vip(&self) -> AssociateHaVipFluentBuilder {
        AssociateHaVipFluentBuilder::new(self.transport.clone())
    }

    /// Removes an association between an HAVIP and an instance (`UnassociateHaVip`).
    pub fn unassociate_ha_vip(&self) -> UnassociateHaVipFluentBuilder {
        UnassociateHaVipFluentBuilder::new(self.transport.clone())
    }

    /// Renames an HAVIP (`ModifyHaVipAttribute`).
    pub fn modify_ha_vip_attribute(&self) -> ModifyHaVipAttributeFluentBuilder {
        ModifyHaVipAttributeFluentBuilder::new(self.transport.clone())
    }

    /// Deletes HAVIPs (`DeleteHaVips`).
    pub fn delete_ha_vips(&self) -> DeleteHaVipsFluentBuilder {
        DeleteHaVipsFluentBuilder::new(self.transport.clone())
    }
}

/// # Waiters
///
/// CreateHaVip, AssociateHaVip, UnassociateHaVip and DeleteHaVips only start their change; a
/// waiter polls DescribeHaVips until it is done, on the client's
/// [`waiter_schedule`](ClientBuilder::waiter_schedule) unless it sets its own. What a missing
/// or `Deleting` HAVIP means for each is in [`crate::waiter`].
impl Client {
    /// Waits until every HAVIP in `ha_vip_ids` is created (out of `Creating`), e.g. the ids
    /// [`CreateHaVipOutput::ha_vip_ids`](crate::operation::create_ha_vip::CreateHaVipOutput::ha_vip_ids)
    /// returned.
    pub fn wait_until_available<'a, I, S>(&self, ha_vip_ids: I) -> WaitUntilAvailable<'a>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        WaitUntilAvailable::new(
            self.transport.clone(),
            ha_vip_ids.into_iter().map(Into::into).collect(),
        )
    }

    /// Waits until `instance_id` is really associated with `ha_vip_id`: the HAVIP is `InUse`
    /// **and** the instance is listed with status `InUse` (see [`crate::waiter`]).
    pub fn wait_until_in_use<'a>(
        &self,
        ha_vip_id: impl Into<String>,
        instance_id: impl Into<String>,
    ) -> WaitUntilInUse<'a> {
        WaitUntilInUse::new(self.transport.clone(), ha_vip_id.into(), instance_id.into())
    }

    /// Waits until `instance_id` is no longer associated with `ha_vip_id` (an HAVIP that is gone
    /// or being deleted counts).
    pub fn wait_until_unassociated<'a>(
        &self,
        ha_vip_id: impl Into<String>,
        instance_id: impl Into<String>,
    ) -> WaitUntilUnassociated<'a> {
        WaitUntilUnassociated::new(self.transport.clone(), ha_vip_id.into(), instance_id.into())
    }

    /// Waits until DescribeHaVips lists none of `ha_vip_ids`.
    pub fn wait_until_deleted<'a, I, S>(&self, ha_vip_ids: I) -> WaitUntilDeleted<'a>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        WaitUntilDeleted::new(
            self.transport.clone(),
            ha_vip_ids.into_iter().map(Into::into).collect(),
        )
    }
}

/// # Ensure
///
/// Calls a controller can run again and again, from several replicas at once: each reads,
/// writes only if needed, and waits (see [`crate::ensure`]).
impl Client {
    /// Finds the HAVIP named `name` in a vSwitch, or creates it, and waits until it is
    /// available; replicas racing to create it converge on one (see
    /// [`crate::ensure#find-or-create-ensure_ha_vip`]).
    ///
    /// ```no_run
    /// # async fn run(client: alibabacloud_ens::Client) -> Result<(), alibabacloud_ens::Error> {
    /// let vip = client
    ///     .ensure_ha_vip()
    ///     .name("keepalived-vip")
    ///     .vswitch_id("vsw-5p1a****")
    ///     .ip_address("10.0.0.5")
    ///     .send()
    ///     .await?;
    /// client.ensure_associated(&vip.ha_vip().ha_vip_id, "i-primary****").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn ensure_ha_vip(&self) -> EnsureHaVip {
        EnsureHaVip::new(self.transport.clone())
    }

    /// Makes sure `instance_id` is associated with `ha_vip_id` and the association is in use:
    /// reads, writes only if needed, waits. Safe to run again and again, and from several
    /// controllers at once (see [`crate::ensure`]).
    pub fn ensure_associated<'a>(
        &self,
        ha_vip_id: impl Into<String>,
        instance_id: impl Into<String>,
    ) -> EnsureAssociated<'a> {
        EnsureAssociated::new(self.transport.clone(), ha_vip_id.into(), instance_id.into())
    }

    /// Makes sure `instance_id` is not associated with `ha_vip_id`; an HAVIP that is gone or
    /// being deleted is success (see [`crate::ensure`]).
    pub fn ensure_unassociated<'a>(
        &self,
        ha_vip_id: impl Into<String>,
        instance_id: impl Into<String>,
    ) -> EnsureUnassociated<'a> {
        EnsureUnassociated::new(self.transport.clone(), ha_vip_id.into(), instance_id.into())
    }

    /// Checks, reading only, whether AssociateHaVip should accept `instance_id` for
    /// `ha_vip_id`: the instance's status (`Running` or `Stopped` are allowed), whether it is in
    /// the HAVIP's vSwitch, and its primary ENI (see [`crate::preflight`]). One DescribeHaVips,
    /// one DescribeInstances and, when the instance exists, one DescribeNetworkInterfaces
    /// (`Type=Primary`), with the client's retry policy.
    ///
    /// ```no_run
    /// # async fn run(client: alibabacloud_ens::Client) -> Result<(), alibabacloud_ens::Error> {
    /// let check = client.preflight_association("havip-5p14t****", "i-50c4****").await?;
    /// if let Err(why) = check.can_associate() {
    ///     eprintln!("{why}"); // e.g. "i-50c4**** is Starting; AssociateHaVip wants it Running or Stopped"
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad id (nothing sent); any error of the three reads (an
    /// HAVIP or instance that does not exist is a verdict, not an error).
    #[cfg(all(feature = "instance", feature = "eni"))]
    #[cfg_attr(docsrs, doc(cfg(all(feature = "instance", feature = "eni"))))]
    pub async fn preflight_association(
        &self,
        ha_vip_id: impl AsRef<str>,
        instance_id: impl AsRef<str>,
    ) -> Result<crate::preflight::AssociationPreflight, Error> {
        crate::preflight::run(
            self,
            ha_vip_id.as_ref().to_owned(),
            instance_id.as_ref().to_owned(),
        )
        .await
    }

    /// Makes sure the EIP `allocation_id` is bound to `ha_vip_id` (its public IP): reads the EIP
    /// (DescribeEnsEipAddresses) and the HAVIP, binds it only if needed (AssociateEnsEipAddress
    /// with `InstanceType=HaVip`), then waits until the EIP is `InUse` on the HAVIP **and**
    /// listed in the HAVIP's `AssociatedEipAddresses`. Safe to run again and again, and from
    /// several replicas at once (see [`crate::ensure#a-public-ip-on-the-havip-ensure_eip_associated`]).
    ///
    /// ```no_run
    /// # async fn run(client: alibabacloud_ens::Client) -> Result<(), alibabacloud_ens::Error> {
    /// let out = client.ensure_eip_associated("eip-5p1a****", "havip-5p14t****").send().await?;
    /// println!("{:?}: {:?}", out.ensured(), out.eip().and_then(|e| e.ip_address.as_deref()));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad id or delay setting (nothing sent);
    /// [`Error::Conflict`] when the EIP is bound (or being bound) to another resource: it is
    /// never moved; a permanent refusal of the write (e.g. the EIP and the HAVIP in different
    /// ENS regions, `IncorrectInstanceRegion`) at once; [`Error::WaiterFailureState`] at once
    /// when the HAVIP or the EIP does not exist or the HAVIP is being deleted;
    /// [`Error::WaiterTimedOut`] when the deadline passes; a read's error that retrying does
    /// not cure.
    #[cfg(feature = "eip")]
    #[cfg_attr(docsrs, doc(cfg(feature = "eip")))]
    pub fn ensure_eip_associated<'a>(
        &self,
        allocation_id: impl Into<String>,
        ha_vip_id: impl Into<String>,
    ) -> crate::ensure::EnsureEipAssociated<'a> {
        crate::ensure::EnsureEipAssociated::new(
            self.transport.clone(),
            allocation_id.into(),
            ha_vip_id.into(),
        )
    }

    /// Makes sure the EIP `allocation_id` is not bound to `ha_vip_id`: unbinds it
    /// (UnAssociateEnsEipAddress) only if it is bound there, then waits until it is unbound and
    /// gone from the HAVIP's `AssociatedEipAddresses`. An EIP bound to something else is left
    /// alone (the goal holds); an HAVIP or EIP that is gone is success
    /// ([`Ensured::HaVipGone`](crate::ensure::Ensured::HaVipGone),
    /// [`Ensured::EipGone`](crate::ensure::Ensured::EipGone)). Unbind the EIP before the
    /// HAVIP's members and before deleting the HAVIP (see [`crate::ensure`]).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad id or delay setting (nothing sent); a permanent refusal
    /// of the write at once; [`Error::WaiterTimedOut`] when the deadline passes; a read's error
    /// that retrying does not cure.
    #[cfg(feature = "eip")]
    #[cfg_attr(docsrs, doc(cfg(feature = "eip")))]
    pub fn ensure_eip_unassociated<'a>(
        &self,
        allocation_id: impl Into<String>,
        ha_vip_id: impl Into<String>,
    ) -> crate::ensure::EnsureEipUnassociated<'a> {
        crate::ensure::EnsureEipUnassociated::new(
            self.transport.clone(),
            allocation_id.into(),
            ha_vip_id.into(),
        )
    }
}

/// Builds a [`Client`].
///
/// ```
/// use alibabacloud_ens::{Client, Credentials, SignatureVersion};
/// use std::time::Duration;
///
/// let client = Client::builder()
///     .credentials(Credentials::new("LTAI5tExample", "secret"))
///     .region("ap-southeast-1")
///     .signature_version(SignatureVersion::V3)
///     .connect_timeout(Duration::from_secs(3))
///     .user_agent_suffix("failover-controller/2.1")
///     .build()?;
/// assert_eq!(client.endpoint(), "https://ens.ap-southeast-1.aliyuncs.com/");
/// # Ok::<(), alibabacloud_ens::Error>(())
/// ```
#[must_use]
pub struct ClientBuilder {
    credentials: Option<Arc<dyn ProvideCredentials>>,
    endpoint: Option<String>,
    region: Option<String>,
    signature_version: SignatureVersion,
    connect_timeout: Duration,
    read_timeout: Duration,
    attempt_timeout: Option<Duration>,
    operation_timeout: Option<Duration>,
    user_agent_suffix: Option<String>,
    retry: RetryConfig,
    clock: Arc<dyn Clock>,
    waiter_schedule: WaiterSchedule,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("credentials", &self.credentials)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("signature_version", &self.signature_version)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("operation_timeout", &self.operation_timeout)
            .field("user_agent_suffix", &self.user_agent_suffix)
            .field("retry", &self.retry)
            .field("waiter_schedule", &self.waiter_schedule)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            credentials: None,
            endpoint: None,
            region: None,
            signature_version: SignatureVersion::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            attempt_timeout: None,
            operation_timeout: None,
            user_agent_suffix: None,
            retry: RetryConfig::standard(),
            clock: Arc::new(TokioClock),
            waiter_schedule: WaiterSchedule::default(),
        }
    }
}

impl ClientBuilder {
    /// A builder with the defaults: endpoint [`DEFAULT_ENDPOINT`], signature V1, connect timeout
    /// 5 s, read timeout 10 s, standard retries, no credentials.
    pub fn new() -> Self {
        Self::default()
    }

    /// Signs with these credentials.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(Arc::new(credentials));
        self
    }

    /// Asks `provider` for credentials before every attempt (for credentials that refresh).
    pub fn credentials_provider(mut self, provider: impl ProvideCredentials + 'static) -> Self {
        self.credentials = Some(Arc::new(provider));
        self
    }

    /// Sends requests to `endpoint`, e.g. `https://ens.aliyuncs.com` or `http://127.0.0.1:8080`.
    /// An explicit endpoint wins over [`region`](Self::region).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Chooses the endpoint from a region id (see [`endpoint_for_region`]).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Chooses the signature scheme (default [`SignatureVersion::V1`]).
    pub fn signature_version(mut self, version: SignatureVersion) -> Self {
        self.signature_version = version;
        self
    }

    /// Limits the time to establish a connection (default 5 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Limits the wait for the whole answer of one attempt, counted from its start (default
    /// 10 s). The answers of this API are small, so this is Alibaba's read timeout in practice;
    /// one timer per attempt enforces it (with [`attempt_timeout`](Self::attempt_timeout),
    /// whichever is shorter).
    pub fn read_timeout(mut self, d: Duration) -> Self {
        self.read_timeout = d;
        self
    }

    /// Limits each attempt, connecting included, to the end of the answer (default: none
    /// beyond the connect and read timeouts).
    pub fn attempt_timeout(mut self, d: Duration) -> Self {
        self.attempt_timeout = Some(d);
        self
    }

    /// Limits each operation, all its attempts and backoff included (default: none).
    pub fn operation_timeout(mut self, d: Duration) -> Self {
        self.operation_timeout = Some(d);
        self
    }

    /// Appends `suffix` to the `User-Agent` header (e.g. your service's name and version).
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent_suffix = Some(suffix.into());
        self
    }

    /// Sets the retry policy (default [`RetryConfig::standard`]).
    pub fn retry_config(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the client-wide waiter schedule: the deadline and poll delays of every waiter, every
    /// `send_and_wait` and every ensure call that does not set its own (default
    /// [`WaiterSchedule::default`]: 5 minutes, about one poll a second, then backing off). Tests
    /// against the emulator poll faster:
    ///
    /// ```
    /// use std::time::Duration;
    /// use alibabacloud_ens::{Client, Credentials};
    /// use alibabacloud_ens::waiter::WaiterSchedule;
    ///
    /// let client = Client::builder()
    ///     .credentials(Credentials::new("id", "secret"))
    ///     .endpoint("http://127.0.0.1:8080")
    ///     .waiter_schedule(WaiterSchedule::polling_every(Duration::from_millis(20)))
    ///     .build()?;
    /// assert_eq!(client.waiter_schedule().max_delay(), Duration::from_millis(20));
    /// # Ok::<(), alibabacloud_ens::Error>(())
    /// ```
    pub fn waiter_schedule(mut self, schedule: WaiterSchedule) -> Self {
        self.waiter_schedule = schedule;
        self
    }

    /// Replaces the clock used for timestamps, retry backoff and waiters (tests use
    /// [`ManualClock`](crate::clock::ManualClock)).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Credentials`] when no credentials were given; [`Error::InvalidInput`] for a bad
    /// endpoint, region, user agent suffix, time limit or waiter schedule; [`Error::Transport`]
    /// if the HTTP client cannot be created.
    pub fn build(self) -> Result<Client, Error> {
        let credentials = self.credentials.ok_or_else(|| {
            Error::Credentials(crate::error::CredentialsError::new(
                "no credentials: pass them to ClientBuilder::credentials or \
                 credentials_provider, or use Client::from_env",
            ))
        })?;
        let endpoint = match (&self.endpoint, &self.region) {
            (Some(e), _) => parse_endpoint(e)?,
            (None, Some(r)) => parse_endpoint(&endpoint_for_region(r)?)?,
            (None, None) => parse_endpoint(DEFAULT_ENDPOINT)?,
        };
        let mut user_agent = format!(
            "alibabacloud-ens-rust/{} ({})",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS
        );
        if let Some(s) = &self.user_agent_suffix {
            if s.chars().any(|c| c.is_control()) {
                return Err(Error::invalid_input(
                    "user_agent_suffix",
                    "must not contain control characters",
                ));
            }
            if !s.trim().is_empty() {
                user_agent.push(' ');
                user_agent.push_str(s.trim());
            }
        }
        self.waiter_schedule.check().map_err(|e| match e {
            Error::InvalidInput(i) => {
                Error::invalid_input(format!("waiter_schedule.{}", i.parameter), i.reason)
            }
            other => other,
        })?;
        for (name, d) in [
            ("connect_timeout", Some(self.connect_timeout)),
            ("read_timeout", Some(self.read_timeout)),
            ("attempt_timeout", self.attempt_timeout),
            ("operation_timeout", self.operation_timeout),
        ] {
            if d == Some(Duration::ZERO) {
                return Err(Error::invalid_input(name, "must be greater than zero"));
            }
        }
        let http = crate::transport::http_client(self.connect_timeout, &user_agent, true).map_err(
            |e| {
                Error::Transport(crate::error::TransportError {
                    action: "build client".into(),
                    kind: crate::error::TransportErrorKind::Other,
                    attempts: 0,
                    probes: 0,
                    source: Some(Box::new(e)),
                })
            },
        )?;
        Ok(Client {
            transport: Transport::new(Settings {
                http,
                host: host_header(&endpoint),
                endpoint,
                credentials: Some(credentials),
                signature_version: self.signature_version,
                connect_timeout: self.connect_timeout,
                read_timeout: self.read_timeout,
                attempt_timeout: self.attempt_timeout,
                operation_timeout: self.operation_timeout,
                retry: self.retry,
                clock: self.clock,
                max_answer_bytes: crate::config::MAX_ANSWER_BYTES,
                secret_answers: false,
                waiter_schedule: self.waiter_schedule,
            }),
        })
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

    #[test]
    fn build_without_credentials_is_an_error() {
        let e = ClientBuilder::new().build().unwrap_err();
        assert!(matches!(e, Error::Credentials(_)));
        assert!(e.to_string().contains("no credentials"));
    }

    #[test]
    fn explicit_endpoint_wins_over_region() {
        let c = ClientBuilder::new()
            .credentials(Credentials::new("id", "secret"))
            .region("ap-southeast-1")
            .endpoint("http://127.0.0.1:1")
            .build()
            .unwrap();
        assert_eq!(c.endpoint(), "http://127.0.0.1:1/");
    }

    #[test]
    fn builder_debug_has_no_secret() {
        let b = ClientBuilder::new()
            .credentials(Credentials::with_security_token("id", "SEKRIT", "TOKN"));
        let d = format!("{b:?}");
        assert!(!d.contains("SEKRIT") && !d.contains("TOKN"), "{d}");
    }
}
