//! Writing the generated operations' parameters, and sending them (see [`super`]).

use std::borrow::Cow;
use std::collections::BTreeMap;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::operation::CallOverrides;
use crate::transport::{Request, Resend, Transport};
use crate::Error;

/// What an operation is: its action, HTTP method and retry rule.
pub(crate) struct Spec {
    pub(crate) action: &'static str,
    pub(crate) get: bool,
    pub(crate) resend: Resend,
    /// The answer's top-level `Code` is a status (a failure code there is an error).
    pub(crate) code_is_status: bool,
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum In {
    Query,
    Body,
}

/// Parameters as written on the wire.
pub(crate) type Pairs = Vec<(Cow<'static, str>, String)>;

/// A value written as one parameter's text.
pub(crate) trait Scalar {
    fn text(&self) -> String;
}

impl Scalar for String {
    fn text(&self) -> String {
        self.clone()
    }
}

impl Scalar for i64 {
    fn text(&self) -> String {
        self.to_string()
    }
}

impl Scalar for f64 {
    fn text(&self) -> String {
        self.to_string()
    }
}

impl Scalar for bool {
    fn text(&self) -> String {
        self.to_string()
    }
}

/// A value written as parameters `key`, `key.1`, `key.1.Name`, … (the SDK's flattening).
pub(crate) trait Flatten {
    /// Writes the value under `key` (restored on return).
    fn flatten(&self, key: &mut String, out: &mut Pairs);
}

macro_rules! flatten_scalar {
    ($($t:ty),*) => {$(
        impl Flatten for $t {
            fn flatten(&self, key: &mut String, out: &mut Pairs) {
                out.push((Cow::Owned(key.clone()), self.text()));
            }
        }
    )*};
}

flatten_scalar!(String, i64, f64, bool);

impl<T: Flatten> Flatten for Vec<T> {
    fn flatten(&self, key: &mut String, out: &mut Pairs) {
        for (i, v) in self.iter().enumerate() {
            let len = key.len();
            key.push('.');
            key.push_str(&(i + 1).to_string());
            v.flatten(key, out);
            key.truncate(len);
        }
    }
}

impl<T: Flatten> Flatten for BTreeMap<String, T> {
    fn flatten(&self, key: &mut String, out: &mut Pairs) {
        for (k, v) in self {
            let len = key.len();
            key.push('.');
            key.push_str(k);
            v.flatten(key, out);
            key.truncate(len);
        }
    }
}

impl Flatten for serde_json::Value {
    fn flatten(&self, key: &mut String, out: &mut Pairs) {
        use serde_json::Value;
        let mut nested = |k: &str, v: &Value, out: &mut Pairs| {
            let len = key.len();
            key.push('.');
            key.push_str(k);
            v.flatten(key, out);
            key.truncate(len);
        };
        match self {
            Value::Null => {}
            Value::String(s) => out.push((Cow::Owned(key.clone()), s.clone())),
            Value::Bool(b) => out.push((Cow::Owned(key.clone()), b.to_string())),
            Value::Number(n) => out.push((Cow::Owned(key.clone()), n.to_string())),
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    nested(&(i + 1).to_string(), v, out);
                }
            }
            Value::Object(m) => {
                for (k, v) in m {
                    nested(k, v, out);
                }
            }
        }
    }
}

/// Writes field `name` of a flattened object, if set.
pub(crate) fn flatten_field<T: Flatten>(
    key: &mut String,
    name: &str,
    value: &Option<T>,
    out: &mut Pairs,
) {
    if let Some(v) = value {
        let len = key.len();
        key.push('.');
        key.push_str(name);
        v.flatten(key, out);
        key.truncate(len);
    }
}

/// Writes an operation's parameters into its request.
pub(crate) struct Encoder {
    request: Request<'static>,
}

impl Encoder {
    /// A request for `spec`, with the client's settings and the call's overrides.
    pub(crate) fn new(transport: &Transport, spec: &Spec, overrides: &CallOverrides) -> Self {
        let method = if spec.get { Method::GET } else { Method::POST };
        let mut request = transport.request(spec.action, crate::config::ENS_API_VERSION, method);
        request.resend = spec.resend;
        request.code_is_status = spec.code_is_status;
        overrides.apply(&mut request);
        Encoder { request }
    }

    fn push(&mut self, place: In, key: Cow<'static, str>, value: String) {
        match place {
            In::Query => self.request.param(key, value),
            In::Body => self.request.body_param(key, value),
        }
    }

    pub(crate) fn plain<V: Scalar>(&mut self, place: In, name: &'static str, value: &Option<V>) {
        if let Some(v) = value {
            self.push(place, Cow::Borrowed(name), v.text());
        }
    }

    pub(crate) fn flat<V: Flatten>(&mut self, place: In, name: &'static str, value: &Option<V>) {
        if let Some(v) = value {
            let mut pairs = Pairs::new();
            v.flatten(&mut name.to_owned(), &mut pairs);
            for (k, v) in pairs {
                self.push(place, k, v);
            }
        }
    }

    pub(crate) fn json<V: Serialize>(&mut self, place: In, name: &'static str, value: &Option<V>) {
        if let Some(v) = value {
            // The generated types hold strings, numbers, booleans, lists and string-keyed maps:
            // their JSON cannot fail.
            let text = serde_json::to_string(v).unwrap_or_default();
            self.push(place, Cow::Borrowed(name), text);
        }
    }

    pub(crate) fn simple<V: Scalar>(
        &mut self,
        place: In,
        name: &'static str,
        value: &Option<Vec<V>>,
    ) {
        if let Some(v) = value {
            let text = v.iter().map(Scalar::text).collect::<Vec<_>>().join(",");
            self.push(place, Cow::Borrowed(name), text);
        }
    }

    pub(crate) fn finish(self) -> Request<'static> {
        self.request
    }
}

/// A value that a required parameter may hold: present, and not blank or empty.
pub(crate) trait Present {
    fn missing(&self) -> Option<&'static str>;
}

impl Present for String {
    fn missing(&self) -> Option<&'static str> {
        self.trim().is_empty().then_some("must not be blank")
    }
}

impl<T> Present for Vec<T> {
    fn missing(&self) -> Option<&'static str> {
        self.is_empty().then_some("must not be empty")
    }
}

impl<T> Present for BTreeMap<String, T> {
    fn missing(&self) -> Option<&'static str> {
        self.is_empty().then_some("must not be empty")
    }
}

macro_rules! always_present {
    ($($t:ty),*) => {$(
        impl Present for $t {
            fn missing(&self) -> Option<&'static str> {
                None
            }
        }
    )*};
}

always_present!(i64, f64, bool, serde_json::Value);

/// Checks a required parameter: set, and not blank or empty.
pub(crate) fn required<T: Present>(name: &'static str, value: &Option<T>) -> Result<(), Error> {
    match value {
        None => Err(Error::invalid_input(name, "is required")),
        Some(v) => match v.missing() {
            Some(why) => Err(Error::invalid_input(name, why)),
            None => Ok(()),
        },
    }
}

/// Checks a required parameter holding an object: set.
pub(crate) fn required_set(name: &'static str, set: bool) -> Result<(), Error> {
    if set {
        Ok(())
    } else {
        Err(Error::invalid_input(name, "is required"))
    }
}

/// The `ClientToken` of a call: the caller's, or a fresh random one (the same for every
/// attempt of the call, since the request is built once).
pub(crate) fn client_token(given: &Option<String>) -> Result<String, Error> {
    match given {
        Some(t) => Ok(t.clone()),
        None => crate::signer::new_nonce(),
    }
}

/// `Debug` of a secret: whether it is set, never its value.
pub(crate) struct Redacted<'a, T>(pub(crate) &'a Option<T>);

impl<T> std::fmt::Debug for Redacted<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(_) => f.write_str("Some(** redacted **)"),
            None => f.write_str("None"),
        }
    }
}

/// Sends `request` and decodes its answer as `T`.
pub(crate) async fn send<T: DeserializeOwned>(
    transport: &Transport,
    request: Request<'static>,
) -> Result<T, Error> {
    let raw = super::invoke(transport, &request).await?;
    raw.decode_value(&request.action)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An object with a nested list and a map, as generated input types flatten.
    #[derive(Default, Serialize)]
    struct Disk {
        #[serde(rename = "Size", skip_serializing_if = "Option::is_none")]
        size: Option<i64>,
        #[serde(rename = "Tags", skip_serializing_if = "Option::is_none")]
        tags: Option<Vec<String>>,
        #[serde(rename = "Labels", skip_serializing_if = "Option::is_none")]
        labels: Option<BTreeMap<String, bool>>,
    }

    impl Flatten for Disk {
        fn flatten(&self, key: &mut String, out: &mut Pairs) {
            flatten_field(key, "Size", &self.size, out);
            flatten_field(key, "Tags", &self.tags, out);
            flatten_field(key, "Labels", &self.labels, out);
        }
    }

    fn disks() -> Vec<Disk> {
        vec![
            Disk {
                size: Some(20),
                tags: Some(vec!["a b".into(), "é".into()]),
                labels: Some(BTreeMap::from([("x".to_owned(), true)])),
            },
            Disk::default(),
            Disk {
                size: Some(-1),
                ..Disk::default()
            },
        ]
    }

    fn flat<V: Flatten>(name: &str, v: &V) -> Vec<(String, String)> {
        let mut out = Pairs::new();
        v.flatten(&mut name.to_owned(), &mut out);
        out.into_iter().map(|(k, v)| (k.into_owned(), v)).collect()
    }

    #[test]
    fn flattening_numbers_lists_from_one_and_names_objects_fields() {
        let pairs = flat("DataDisk", &disks());
        let want: Vec<(String, String)> = [
            ("DataDisk.1.Size", "20"),
            ("DataDisk.1.Tags.1", "a b"),
            ("DataDisk.1.Tags.2", "é"),
            ("DataDisk.1.Labels.x", "true"),
            ("DataDisk.3.Size", "-1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(pairs, want);
        let any: serde_json::Value =
            serde_json::json!({"a": [1, {"b": null, "c": 2.5}], "d": false});
        assert_eq!(
            flat("X", &any),
            [("X.a.1", "1"), ("X.a.2.c", "2.5"), ("X.d", "false")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn each_style_goes_where_the_metadata_says() {
        let client = crate::Client::builder()
            .credentials(crate::Credentials::new("id", "secret"))
            .endpoint("http://127.0.0.1:1")
            .build()
            .unwrap();
        let spec = Spec {
            action: "CreateThing",
            get: false,
            resend: Resend::OnlyIfNotApplied,
            code_is_status: true,
        };
        let mut w = Encoder::new(client.transport(), &spec, &CallOverrides::default());
        w.plain(In::Query, "Name", &Some("a b".to_owned()));
        w.plain::<i64>(In::Query, "Unset", &None);
        w.plain(In::Body, "Password", &Some("p&=".to_owned()));
        w.plain(In::Query, "Flag", &Some(false));
        w.json(In::Query, "DataDisk", &Some(disks()));
        w.simple(In::Query, "Ids", &Some(vec![1i64, 2]));
        w.flat(In::Body, "Tag", &Some(vec!["x".to_owned()]));
        let req = w.finish();
        assert_eq!(req.action, "CreateThing");
        assert_eq!(req.version, crate::config::ENS_API_VERSION);
        assert_eq!(req.method, Method::POST);
        assert_eq!(req.resend, Resend::OnlyIfNotApplied);
        let text = |p: &Pairs| {
            p.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            text(&req.query),
            [
                "Name=a b",
                "Flag=false",
                r#"DataDisk=[{"Size":20,"Tags":["a b","é"],"Labels":{"x":true}},{},{"Size":-1}]"#,
                "Ids=1,2",
            ]
        );
        assert_eq!(text(&req.body), ["Password=p&=", "Tag.1=x"]);
        assert_eq!(2.5f64.text(), "2.5");
    }

    #[test]
    fn required_parameters_name_themselves() {
        let e = required::<String>("InstanceId", &None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("InstanceId") && e.contains("is required"), "{e}");
        let e = required("InstanceId", &Some("  ".to_owned()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("must not be blank"), "{e}");
        let e = required::<Vec<String>>("InstanceIds", &Some(vec![]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("InstanceIds") && e.contains("must not be empty"),
            "{e}"
        );
        assert!(required("PageSize", &Some(0i64)).is_ok());
        assert!(required_set("SystemDisk", false).is_err());
    }

    #[test]
    fn secrets_are_redacted_and_tokens_fresh() {
        assert_eq!(
            format!("{:?}", Redacted(&Some("hunter2"))),
            "Some(** redacted **)"
        );
        assert_eq!(format!("{:?}", Redacted::<String>(&None)), "None");
        let a = client_token(&None).unwrap();
        let b = client_token(&None).unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert_eq!(client_token(&Some("mine".into())).unwrap(), "mine");
    }
}
