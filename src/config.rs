//! Endpoint resolution and the client's defaults. The builder that uses them is
//! [`ClientBuilder`](crate::ClientBuilder).

/// The API version of ENS.
pub(crate) const ENS_API_VERSION: &str = "2017-11-10";

use std::time::Duration;

use reqwest::Url;

use crate::Error;

/// The default endpoint, serving every mainland China region.
pub const DEFAULT_ENDPOINT: &str = "https://ens.aliyuncs.com";

/// Region ids that Alibaba's own client maps to [`DEFAULT_ENDPOINT`].
pub const MAINLAND_REGIONS: &[&str] = &[
    "cn-beijing",
    "cn-chengdu",
    "cn-hangzhou",
    "cn-heyuan",
    "cn-shanghai",
    "cn-wulanchabu",
    "cn-zhangjiakou",
];

/// The default connect timeout (as Alibaba's SDKs): 5 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The default read timeout (as Alibaba's SDKs): 10 s.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The endpoint for a region id: `https://ens.aliyuncs.com` for the mainland regions in
/// [`MAINLAND_REGIONS`], otherwise `https://ens.<region>.aliyuncs.com`.
///
/// ```
/// use alibabacloud_ens::config::endpoint_for_region;
/// assert_eq!(endpoint_for_region("cn-hangzhou").unwrap(), "https://ens.aliyuncs.com");
/// assert_eq!(endpoint_for_region("ap-southeast-1").unwrap(), "https://ens.ap-southeast-1.aliyuncs.com");
/// assert!(endpoint_for_region("bad region").is_err());
/// ```
///
/// # Errors
/// When `region` is blank or holds characters other than lower-case letters, digits and `-`.
pub fn endpoint_for_region(region: &str) -> Result<String, Error> {
    let r = region.trim();
    if r.is_empty() {
        return Err(Error::invalid_input("region", "must not be blank"));
    }
    if r.len() > 64
        || !r
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        || r.starts_with('-')
        || r.ends_with('-')
    {
        return Err(Error::invalid_input(
            "region",
            format!("`{region}` is not a region id (expected something like `cn-hangzhou`)"),
        ));
    }
    if MAINLAND_REGIONS.contains(&r) {
        Ok(DEFAULT_ENDPOINT.to_owned())
    } else {
        Ok(format!("https://ens.{r}.aliyuncs.com"))
    }
}

/// Parses and checks an endpoint URL. A bare host (`ens.aliyuncs.com`) means HTTPS.
pub(crate) fn parse_endpoint(endpoint: &str) -> Result<Url, Error> {
    let e = endpoint.trim();
    if e.is_empty() {
        return Err(Error::invalid_input("endpoint", "must not be blank"));
    }
    let with_scheme = if e.contains("://") {
        e.to_owned()
    } else {
        format!("https://{e}")
    };
    let url = Url::parse(&with_scheme).map_err(|err| {
        Error::invalid_input("endpoint", format!("`{endpoint}` is not a URL: {err}"))
    })?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(Error::invalid_input(
            "endpoint",
            format!("`{endpoint}` must use http or https"),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid_input(
            "endpoint",
            format!("`{endpoint}` has no host"),
        ));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid_input(
            "endpoint",
            format!("`{endpoint}` must have no path, query or fragment"),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid_input(
            "endpoint",
            "must not hold a user name or password",
        ));
    }
    Ok(url)
}

/// The `host` header value for `url`: host, plus `:port` when the port is not the default.
pub(crate) fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_rule() {
        for r in MAINLAND_REGIONS {
            assert_eq!(endpoint_for_region(r).unwrap(), DEFAULT_ENDPOINT);
        }
        assert_eq!(
            endpoint_for_region("cn-guangzhou").unwrap(),
            "https://ens.cn-guangzhou.aliyuncs.com"
        );
        for bad in [
            "",
            " ",
            "CN-HANGZHOU",
            "cn hangzhou",
            "cn-hangzhou/x",
            "-cn",
            "é",
        ] {
            let e = endpoint_for_region(bad).unwrap_err().to_string();
            assert!(e.contains("region"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn endpoints_parse_and_keep_ports() {
        let u = parse_endpoint("http://127.0.0.1:8080").unwrap();
        assert_eq!(host_header(&u), "127.0.0.1:8080");
        let u = parse_endpoint("ens.aliyuncs.com").unwrap();
        assert_eq!(u.as_str(), "https://ens.aliyuncs.com/");
        assert_eq!(host_header(&u), "ens.aliyuncs.com");
        let u = parse_endpoint("https://ens.aliyuncs.com:443/").unwrap();
        assert_eq!(host_header(&u), "ens.aliyuncs.com");
        let u = parse_endpoint("http://[::1]:9000").unwrap();
        assert_eq!(host_header(&u), "[::1]:9000");
        for bad in [
            "",
            "ftp://x",
            "http://",
            "http://h/path",
            "http://h/?a=b",
            "http://u:p@h",
            "::",
        ] {
            let e = parse_endpoint(bad).unwrap_err().to_string();
            assert!(e.contains("endpoint"), "{bad:?}: {e}");
        }
    }
}
