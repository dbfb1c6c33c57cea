//! DescribeHaVips: list HAVIPs, with filters and pagination.

use std::fmt;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::{check_id, check_text, CallOverrides};
use crate::lenient::{Count, Listed, Text};
use crate::model::{HaVip, HaVipStatus};
use crate::transport::{BoxFuture, Outcome, Request, Transport};
use crate::wire::HasRequestId;
use crate::Error;

/// The largest `PageSize` the service accepts.
pub const MAX_PAGE_SIZE: u32 = 100;
/// The most `EnsRegionIds` one request may carry.
pub const MAX_ENS_REGION_IDS: usize = 100;

/// Builder for DescribeHaVips; see
/// [`Client::describe_ha_vips`](crate::Client::describe_ha_vips). Every filter is optional.
///
/// ```no_run
/// # async fn run(client: alibabacloud_ens::Client) -> Result<(), alibabacloud_ens::Error> {
/// use alibabacloud_ens::HaVipStatus;
/// // One page:
/// let page = client.describe_ha_vips().status(HaVipStatus::InUse).page_size(50).send().await?;
/// println!("{} of {}", page.ha_vips().len(), page.total_count());
/// // Every page, one at a time:
/// let mut pages = client.describe_ha_vips().vswitch_id("vsw-1").into_paginator();
/// while let Some(page) = pages.next_page().await {
///     for h in page?.ha_vips() { println!("{} {}", h.ha_vip_id, h.status); }
/// }
/// // Or all at once:
/// let all = client.describe_ha_vips().send_all().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until `send` is awaited"]
pub struct DescribeHaVipsFluentBuilder {
    transport: Transport,
    filters: Filters,
    overrides: CallOverrides,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Filters {
    ha_vip_id: Option<String>,
    ha_vip_address: Option<String>,
    name: Option<String>,
    network_id: Option<String>,
    vswitch_id: Option<String>,
    ens_region_id: Option<String>,
    ens_region_ids: Vec<String>,
    status: Option<HaVipStatus>,
    page_number: Option<u32>,
    page_size: Option<u32>,
}

impl fmt::Debug for DescribeHaVipsFluentBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DescribeHaVipsFluentBuilder")
            .field("filters", &self.filters)
            .field("overrides", &self.overrides)
            .finish_non_exhaustive()
    }
}

impl DescribeHaVipsFluentBuilder {
    pub(crate) fn new(transport: Transport) -> Self {
        DescribeHaVipsFluentBuilder {
            transport,
            filters: Filters::default(),
            overrides: CallOverrides::default(),
        }
    }

    /// `HaVipId`: only this HAVIP.
    pub fn ha_vip_id(mut self, id: impl Into<String>) -> Self {
        self.filters.ha_vip_id = Some(id.into());
        self
    }

    /// `HaVipAddress`: only the HAVIP with this IP address.
    pub fn ha_vip_address(mut self, ip: impl Into<String>) -> Self {
        self.filters.ha_vip_address = Some(ip.into());
        self
    }

    /// `Name`: only HAVIPs with this name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.filters.name = Some(name.into());
        self
    }

    /// `NetworkId`: only HAVIPs in this network.
    pub fn network_id(mut self, id: impl Into<String>) -> Self {
        self.filters.network_id = Some(id.into());
        self
    }

    /// `VSwitchId`: only HAVIPs in this vSwitch.
    pub fn vswitch_id(mut self, id: impl Into<String>) -> Self {
        self.filters.vswitch_id = Some(id.into());
        self
    }

    /// `EnsRegionId`: only HAVIPs in this ENS node.
    pub fn ens_region_id(mut self, id: impl Into<String>) -> Self {
        self.filters.ens_region_id = Some(id.into());
        self
    }

    /// `EnsRegionIds.N`: adds one ENS node to the set searched (1 to 100 in all).
    pub fn ens_region_ids_item(mut self, id: impl Into<String>) -> Self {
        self.filters.ens_region_ids.push(id.into());
        self
    }

    /// `EnsRegionIds.1..N`: replaces the set of ENS nodes searched (1 to 100).
    pub fn ens_region_ids<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.filters.ens_region_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// `Status`: only HAVIPs in this status.
    pub fn status(mut self, status: HaVipStatus) -> Self {
        self.filters.status = Some(status);
        self
    }

    /// `PageNumber`: the page, from 1 (the service's default is 1).
    pub fn page_number(mut self, n: u32) -> Self {
        self.filters.page_number = Some(n);
        self
    }

    /// `PageSize`: entries per page, 1 to [`MAX_PAGE_SIZE`] (the service's default is 10).
    pub fn page_size(mut self, n: u32) -> Self {
        self.filters.page_size = Some(n);
        self
    }

    call_override_setters!();

    fn request(&self) -> Result<Request<'static>, Error> {
        let f = &self.filters;
        let mut req = self.transport.request(
            "DescribeHaVips",
            crate::config::ENS_API_VERSION,
            Method::GET,
        );
        for (key, value) in [
            ("HaVipId", &f.ha_vip_id),
            ("NetworkId", &f.network_id),
            ("VSwitchId", &f.vswitch_id),
            ("EnsRegionId", &f.ens_region_id),
        ] {
            if let Some(v) = value {
                req.param(key, check_id(key, v)?);
            }
        }
        if let Some(ip) = &f.ha_vip_address {
            req.param("HaVipAddress", check_id("HaVipAddress", ip)?);
        }
        if let Some(name) = &f.name {
            req.param("Name", check_text("Name", name, 128)?);
        }
        if f.ens_region_ids.len() > MAX_ENS_REGION_IDS {
            return Err(Error::invalid_input(
                "EnsRegionIds",
                format!(
                    "holds {} ids; at most {MAX_ENS_REGION_IDS} are allowed",
                    f.ens_region_ids.len()
                ),
            ));
        }
        for (i, id) in f.ens_region_ids.iter().enumerate() {
            let key = format!("EnsRegionIds.{}", i + 1);
            check_id(&key, id)?;
            req.param(key, id.as_str());
        }
        if let Some(s) = &f.status {
            if s.as_str().trim().is_empty() {
                return Err(Error::invalid_input("Status", "must not be blank"));
            }
            req.param("Status", s.as_str());
        }
        if let Some(n) = f.page_number {
            if n == 0 {
                return Err(Error::invalid_input("PageNumber", "starts at 1"));
            }
            req.param("PageNumber", n.to_string());
        }
        if let Some(n) = f.page_size {
            if n == 0 || n > MAX_PAGE_SIZE {
                return Err(Error::invalid_input(
                    "PageSize",
                    format!("is {n}; it must be between 1 and {MAX_PAGE_SIZE}"),
                ));
            }
            req.param("PageSize", n.to_string());
        }
        self.overrides.apply(&mut req);
        Ok(req)
    }

    /// Sends the request for one page.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (nothing sent) for a bad filter or page setting; otherwise any
    /// [`Error`] the service or the network produces.
    pub async fn send(self) -> Result<DescribeHaVipsOutput, Error> {
        self.send_boxed().await
    }

    /// [`send`](Self::send)'s work, compiled once here (see `transport::BoxFuture`).
    #[inline(never)]
    fn send_boxed(self) -> BoxFuture<'static, Result<DescribeHaVipsOutput, Error>> {
        Box::pin(self.send_work())
    }

    async fn send_work(self) -> Result<DescribeHaVipsOutput, Error> {
        let req = self.request()?;
        let settled = self.transport.invoke(&req).await?;
        let Outcome::Answered(raw) = settled.outcome else {
            return Err(Error::invalid_input(
                "DescribeHaVips",
                "a read has no safe-write check",
            ));
        };
        let (body, request_id) = raw
            .decode::<Body>(&req.action)
            .map_err(|e| e.with_counts(settled.attempts, settled.probes))?;
        let page_size = body
            .page_size
            .0
            .unwrap_or(self.filters.page_size.unwrap_or(10) as u64);
        Ok(DescribeHaVipsOutput {
            request_id,
            total_count: body.total_count.0.unwrap_or(body.ha_vips.0.len() as u64),
            page_number: body
                .page_number
                .0
                .unwrap_or(self.filters.page_number.unwrap_or(1) as u64),
            page_size,
            ha_vips: body.ha_vips.0,
        })
    }

    /// Pages through every result, starting at the page set (or 1).
    pub fn into_paginator(self) -> HaVipPaginator {
        HaVipPaginator {
            next: Some(self),
            seen: 0,
        }
    }

    /// Fetches every page and returns all HAVIPs.
    ///
    /// # Errors
    /// The first error any page returns.
    pub async fn send_all(self) -> Result<Vec<HaVip>, Error> {
        self.send_all_boxed().await
    }

    #[inline(never)]
    fn send_all_boxed(self) -> BoxFuture<'static, Result<Vec<HaVip>, Error>> {
        Box::pin(self.send_all_work())
    }

    async fn send_all_work(self) -> Result<Vec<HaVip>, Error> {
        let mut pages = self.into_paginator();
        let mut all = Vec::new();
        while let Some(page) = pages.next_page().await {
            all.extend(page?.ha_vips);
        }
        Ok(all)
    }
}

/// Pages through DescribeHaVips; see [`DescribeHaVipsFluentBuilder::into_paginator`].
#[derive(Debug)]
pub struct HaVipPaginator {
    next: Option<DescribeHaVipsFluentBuilder>,
    seen: u64,
}

impl HaVipPaginator {
    /// The next page, or `None` after the last one (or after an error).
    pub async fn next_page(&mut self) -> Option<Result<DescribeHaVipsOutput, Error>> {
        self.next_page_boxed().await
    }

    #[inline(never)]
    fn next_page_boxed(&mut self) -> BoxFuture<'_, Option<Result<DescribeHaVipsOutput, Error>>> {
        Box::pin(self.next_page_work())
    }

    async fn next_page_work(&mut self) -> Option<Result<DescribeHaVipsOutput, Error>> {
        let builder = self.next.take()?;
        let page_number = builder.filters.page_number.unwrap_or(1);
        let following = builder.clone();
        match builder.send().await {
            Err(e) => Some(Err(e)),
            Ok(page) => {
                self.seen += page.ha_vips.len() as u64;
                let more = !page.ha_vips.is_empty() && self.seen < page.total_count;
                if more {
                    if let Some(n) = page_number.checked_add(1) {
                        self.next = Some(following.page_number(n));
                    }
                }
                Some(Ok(page))
            }
        }
    }
}

/// One page of DescribeHaVips.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct DescribeHaVipsOutput {
    request_id: String,
    total_count: u64,
    page_number: u64,
    page_size: u64,
    #[serde(rename = "HaVips")]
    ha_vips: Vec<HaVip>,
}

output_builder!(DescribeHaVipsOutput => DescribeHaVipsOutputBuilder {
    request_id: String,
    total_count: u64,
    page_number: u64,
    page_size: u64,
    ha_vips: Vec<HaVip>,
});

impl DescribeHaVipsOutput {
    /// The request id.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// How many HAVIPs match, over all pages.
    pub fn total_count(&self) -> u64 {
        self.total_count
    }

    /// This page's number.
    pub fn page_number(&self) -> u64 {
        self.page_number
    }

    /// The page size used.
    pub fn page_size(&self) -> u64 {
        self.page_size
    }

    /// The HAVIPs on this page.
    pub fn ha_vips(&self) -> &[HaVip] {
        &self.ha_vips
    }

    /// The HAVIPs on this page, by value.
    pub fn into_ha_vips(self) -> Vec<HaVip> {
        self.ha_vips
    }
}

/// The answer's body. Counts come as strings or numbers; `HaVips` may be wrapped or `null`.
#[derive(Debug, Default, Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase", default)]
pub(crate) struct Body {
    #[serde(alias = "requestId")]
    request_id: Text,
    total_count: Count,
    page_number: Count,
    page_size: Count,
    #[serde(rename = "HaVips")]
    pub(crate) ha_vips: Listed<HaVip>,
}

object_only!(@de Body, "a DescribeHaVips answer");

impl HasRequestId for Body {
    fn body_request_id(&self) -> Option<&str> {
        self.request_id.0.as_deref()
    }
}
