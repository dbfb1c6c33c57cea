//! The metadata resolved into what the emitter writes: families, Rust names, Rust types, the
//! retry class of each operation, deduplicated outputs.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Metadata, Overrides, Type};
use crate::names;

#[derive(Debug, Clone, PartialEq)]
pub enum RTy {
    Str,
    Int,
    Float,
    Bool,
    Any,
    List(Box<RTy>),
    Map(Box<RTy>),
    Struct(String),
}

impl RTy {
    /// The Rust type of a value (no `Option`).
    pub fn rust(&self) -> String {
        match self {
            RTy::Str => "String".into(),
            RTy::Int => "i64".into(),
            RTy::Float => "f64".into(),
            RTy::Bool => "bool".into(),
            RTy::Any => "serde_json::Value".into(),
            RTy::List(t) => format!("Vec<{}>", t.rust()),
            RTy::Map(t) => format!("std::collections::BTreeMap<String, {}>", t.rust()),
            RTy::Struct(n) => n.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Query,
    Body,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Flat,
    Json,
    Simple,
}

#[derive(Debug, Clone)]
pub struct RField {
    pub wire: String,
    pub ident: String,
    pub ty: RTy,
    pub doc: Vec<String>,
    pub required: bool,
    pub sensitive: bool,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub f: RField,
    pub place: Place,
    pub style: Style,
}

/// A nested request type.
#[derive(Debug, Clone)]
pub struct InStruct {
    pub name: String,
    pub wire: String,
    pub fields: Vec<RField>,
    /// Used inside a JSON-style parameter (needs `Serialize`).
    pub json: bool,
    /// Used inside a flattened parameter (needs `Flatten`).
    pub flat: bool,
}

/// An answer type (the output or one nested in it).
#[derive(Debug, Clone, PartialEq)]
pub struct OutStruct {
    pub name: String,
    pub wire: String,
    pub fields: Vec<OutField>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutField {
    pub wire: String,
    pub ident: String,
    pub ty: RTy,
    pub doc: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryClass {
    Read,
    ClientToken,
    Idempotent,
    Unsafe,
}

#[derive(Debug, Clone)]
pub enum Output {
    /// The name of a shared output type (in `generated::shared`).
    Shared(String),
    Own(OutStruct),
}

#[derive(Debug, Clone)]
pub struct Op {
    pub action: String,
    pub snake: String,
    pub family: String,
    pub get: bool,
    pub class: RetryClass,
    pub params: Vec<Param>,
    pub inputs: Vec<InStruct>,
    pub output: Output,
    pub outs: Vec<OutStruct>,
    pub code_is_status: bool,
}

impl Op {
    pub fn builder(&self) -> String {
        format!("{}FluentBuilder", self.action)
    }
    pub fn output_name(&self) -> String {
        format!("{}Output", self.action)
    }
}

#[derive(Debug)]
pub struct FamilyIr {
    pub name: String,
    pub doc: String,
    pub ops: Vec<Op>,
}

#[derive(Debug)]
pub struct SharedOut {
    pub def: OutStruct,
    pub families: BTreeSet<String>,
}

#[derive(Debug)]
pub struct Api {
    pub version: String,
    pub source: String,
    pub families: Vec<FamilyIr>,
    pub shared: Vec<SharedOut>,
    pub hand_made: Vec<String>,
}

type Res<T> = Result<T, String>;

pub fn build(meta: &Metadata, ov: &Overrides) -> Res<Api> {
    let mut family_of: BTreeMap<&str, &str> = BTreeMap::new();
    for (fam, f) in &ov.families {
        for op in &f.operations {
            if let Some(prev) = family_of.insert(op, fam) {
                return Err(format!("{op} is in families {prev} and {fam}"));
            }
        }
    }
    let mut errors = Vec::new();
    let known: BTreeSet<&str> = meta.operations.iter().map(|o| o.name.as_str()).collect();
    for op in family_of.keys().chain(
        ov.hand_made
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .iter(),
    ) {
        if !known.contains(op) {
            errors.push(format!(
                "overrides name {op}, which the metadata does not have"
            ));
        }
    }
    let mut ops = Vec::new();
    for o in &meta.operations {
        if ov.hand_made.contains(&o.name) {
            if family_of.contains_key(o.name.as_str()) {
                errors.push(format!("{} is hand-made and in a family", o.name));
            }
            continue;
        }
        let Some(fam) = family_of.get(o.name.as_str()) else {
            errors.push(format!("{} is in no family", o.name));
            continue;
        };
        match op(meta, ov, o, fam) {
            Ok(x) => ops.push(x),
            Err(e) => errors.push(format!("{}: {e}", o.name)),
        }
    }
    if !errors.is_empty() {
        return Err(errors.join("\n"));
    }
    let shared = dedupe_outputs(&mut ops);
    let mut families: Vec<FamilyIr> = ov
        .families
        .iter()
        .map(|(name, f)| FamilyIr {
            name: name.clone(),
            doc: f.doc.clone(),
            ops: Vec::new(),
        })
        .collect();
    for o in ops {
        if let Some(f) = families.iter_mut().find(|f| f.name == o.family) {
            f.ops.push(o);
        }
    }
    for f in &mut families {
        f.ops.sort_by(|a, b| a.action.cmp(&b.action));
    }
    // Method names on `Client` must not clash with each other or with the hand-made ones.
    let mut seen = BTreeSet::new();
    for name in [
        "builder",
        "from_env",
        "from_default_chain",
        "endpoint",
        "signature_version",
        "retry_config",
        "call",
        "transport",
    ] {
        seen.insert(name.to_owned());
    }
    for h in &ov.hand_made {
        seen.insert(names::snake(h));
    }
    for f in &families {
        for o in &f.ops {
            if !seen.insert(o.snake.clone())
                || o.snake.starts_with("wait_until")
                || o.snake.starts_with("ensure_")
            {
                return Err(format!("Client method {} clashes", o.snake));
            }
        }
    }
    let mut hand_made = ov.hand_made.clone();
    hand_made.sort();
    Ok(Api {
        version: meta.version.clone(),
        source: format!(
            "{} {} (wheel sha256 {})",
            meta.source.package, meta.source.version, meta.source.wheel_sha256
        ),
        families,
        shared,
        hand_made,
    })
}

/// Per-module type names: each Python shape gets one Rust name, unique in its module.
struct Namer {
    by_shape: BTreeMap<String, String>,
    taken: BTreeSet<String>,
}

impl Namer {
    fn new(reserved: &[String]) -> Self {
        let mut taken: BTreeSet<String> = names::RESERVED_TYPES
            .iter()
            .map(|s| s.to_string())
            .collect();
        taken.extend(reserved.iter().cloned());
        Namer {
            by_shape: BTreeMap::new(),
            taken,
        }
    }

    /// The name of `shape`: `want` if free, else `parent` + `want`, else numbered.
    fn name(&mut self, shape: &str, want: &str, parent: &str, suffix: &str) -> (String, bool) {
        if let Some(n) = self.by_shape.get(shape) {
            return (n.clone(), false);
        }
        let mut candidates = vec![format!("{want}{suffix}"), format!("{parent}{want}{suffix}")];
        if names::RESERVED_TYPES.contains(&want) {
            candidates.insert(0, format!("{want}Info{suffix}"));
        }
        let mut pick = None;
        for c in &candidates {
            if !self.taken.contains(c) {
                pick = Some(c.clone());
                break;
            }
        }
        let name = pick.unwrap_or_else(|| {
            let base = &candidates[1];
            (2..)
                .map(|i| format!("{base}{i}"))
                .find(|c| !self.taken.contains(c))
                .unwrap_or_default()
        });
        self.taken.insert(name.clone());
        self.by_shape.insert(shape.to_owned(), name.clone());
        (name, true)
    }
}

fn op(meta: &Metadata, ov: &Overrides, o: &crate::model::Operation, fam: &str) -> Res<Op> {
    let get = match o.method.as_str() {
        "GET" => true,
        "POST" => false,
        m => return Err(format!("method {m}")),
    };
    let builder = format!("{}FluentBuilder", o.name);
    let output = format!("{}Output", o.name);
    let mut namer = Namer::new(&[builder.clone(), output.clone()]);

    // The answer first: its types get the plain names.
    let body = meta
        .shapes
        .get(&o.response)
        .ok_or_else(|| format!("no shape {}", o.response))?;
    let mut outs = Vec::new();
    let mut fields = Vec::new();
    for f in &body.fields {
        let key = format!("{}.{}", o.response, f.name);
        let ty = typed(&ov.types, &ov.field_types, &key, &f.name, &f.ty);
        let rty = out_type(meta, ov, ty, &f.name, &o.name, &mut namer, &mut outs, 0)?;
        fields.push(OutField {
            wire: f.name.clone(),
            ident: rust_ident(ov, &key, &f.name),
            ty: rty,
            doc: names::doc_lines(&f.doc),
        });
    }
    check_unique(
        &fields.iter().map(|f| f.ident.clone()).collect::<Vec<_>>(),
        &o.response,
    )?;
    let out = OutStruct {
        name: output,
        wire: o.response.clone(),
        fields,
    };

    let mut inputs: Vec<InStruct> = Vec::new();
    let mut params = Vec::new();
    for p in &o.params {
        let key = format!("{}.{}", o.name, p.name);
        let ty = typed(&ov.types, &ov.param_types, &key, &p.name, &p.ty);
        let style = match p.style.as_str() {
            "plain" => Style::Plain,
            "flat" => Style::Flat,
            "json" => Style::Json,
            "simple" => Style::Simple,
            s => return Err(format!("{}: style {s}", p.name)),
        };
        let place = match p.place.as_str() {
            "query" => Place::Query,
            "body" => Place::Body,
            s => return Err(format!("{}: place {s}", p.name)),
        };
        let rty = in_type(
            meta,
            ov,
            ty,
            &p.name,
            &o.name,
            &mut namer,
            &mut inputs,
            style,
            0,
        )?;
        match (style, &rty) {
            (Style::Plain, RTy::Str | RTy::Int | RTy::Float | RTy::Bool) => {}
            (Style::Plain, t) => return Err(format!("{}: plain style for {t:?}", p.name)),
            (Style::Simple, RTy::List(t))
                if matches!(**t, RTy::Str | RTy::Int | RTy::Float | RTy::Bool) => {}
            (Style::Simple, t) => return Err(format!("{}: simple style for {t:?}", p.name)),
            _ => {}
        }
        params.push(Param {
            f: RField {
                wire: p.name.clone(),
                ident: rust_ident(ov, &key, &p.name),
                ty: rty,
                doc: names::doc_lines(&p.doc),
                required: p.required,
                sensitive: is_sensitive(ov, &key, &p.name),
            },
            place,
            style,
        });
    }
    let idents: Vec<String> = params.iter().map(|p| p.f.ident.clone()).collect();
    check_unique(&idents, &o.name)?;
    // Setter names: `x` and `set_x` for each parameter, beside the builder's own methods.
    let mut methods: BTreeSet<String> = [
        "send",
        "retry_config",
        "operation_timeout",
        "new",
        "request",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for i in &idents {
        let plain = i.trim_start_matches("r#").to_owned();
        for m in [plain.clone(), format!("set_{plain}")] {
            if !methods.insert(m.clone()) {
                return Err(format!("builder method {m} clashes"));
            }
        }
    }

    let read = get || ov.read_verbs.iter().any(|v| starts_with_word(&o.name, v));
    let class = if read {
        RetryClass::Read
    } else if params.iter().any(|p| p.f.wire == "ClientToken") {
        RetryClass::ClientToken
    } else if !ov.not_idempotent.contains(&o.name)
        && (ov.idempotent_writes.contains(&o.name)
            || ov
                .idempotent_suffixes
                .iter()
                .any(|s| o.name.ends_with(s.as_str())))
    {
        RetryClass::Idempotent
    } else {
        RetryClass::Unsafe
    };
    Ok(Op {
        action: o.name.clone(),
        snake: names::snake(&names::fix_words(&o.name, &ov.words)),
        family: fam.to_owned(),
        get,
        class,
        params,
        inputs,
        output: Output::Own(out),
        outs,
        code_is_status: !ov.code_is_not_status.contains(&o.name),
    })
}

/// The type of a parameter or field: the overrides' for `Owner.Name`, else the overrides' for
/// a string of that wire name, else the metadata's.
fn typed<'a>(
    exact: &'a BTreeMap<String, Type>,
    by_name: &'a BTreeMap<String, Type>,
    key: &str,
    wire: &str,
    declared: &'a Type,
) -> &'a Type {
    if let Some(t) = exact.get(key) {
        return t;
    }
    match (declared, by_name.get(wire)) {
        (Type::String, Some(t)) => t,
        _ => declared,
    }
}

fn starts_with_word(action: &str, verb: &str) -> bool {
    action
        .strip_prefix(verb)
        .is_some_and(|rest| rest.chars().next().is_none_or(|c| c.is_ascii_uppercase()))
}

fn check_unique(idents: &[String], what: &str) -> Res<()> {
    let mut seen = BTreeSet::new();
    for i in idents {
        if !seen.insert(i) {
            return Err(format!(
                "{what}: two fields named {i} (add a rust_names override)"
            ));
        }
    }
    Ok(())
}

fn rust_ident(ov: &Overrides, key: &str, wire: &str) -> String {
    match ov.rust_names.get(key) {
        Some(n) => names::ident(n),
        None => names::ident(&names::snake(&names::fix_words(wire, &ov.words))),
    }
}

fn is_sensitive(ov: &Overrides, key: &str, wire: &str) -> bool {
    ov.sensitive.iter().any(|s| s == key || s == wire)
        || wire.to_ascii_lowercase().contains("password")
}

/// A shape holding only one list: the XML-derived wrapper of a list (`{"Instance": [...]}`).
fn wrapper<'m>(meta: &'m Metadata, shape: &str) -> Option<(&'m str, &'m Type)> {
    let s = meta.shapes.get(shape)?;
    match s.fields.as_slice() {
        [f] => match &f.ty {
            Type::List { items } => Some((&f.name, items)),
            _ => None,
        },
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn out_type(
    meta: &Metadata,
    ov: &Overrides,
    ty: &Type,
    wire: &str,
    parent: &str,
    namer: &mut Namer,
    outs: &mut Vec<OutStruct>,
    depth: usize,
) -> Res<RTy> {
    if depth > 16 {
        return Err(format!("{wire}: types nest too deep"));
    }
    Ok(match ty {
        Type::String => RTy::Str,
        Type::Integer => RTy::Int,
        Type::Float => RTy::Float,
        Type::Boolean => RTy::Bool,
        Type::Any => RTy::Any,
        Type::Map { values } => RTy::Map(Box::new(out_type(
            meta,
            ov,
            values,
            wire,
            parent,
            namer,
            outs,
            depth + 1,
        )?)),
        Type::List { items } => {
            let elem = match &**items {
                Type::Ref { .. } => {
                    names::singular(&names::pascal(&names::fix_words(wire, &ov.words)))
                }
                _ => wire.to_owned(),
            };
            RTy::List(Box::new(out_type(
                meta,
                ov,
                items,
                &elem,
                parent,
                namer,
                outs,
                depth + 1,
            )?))
        }
        Type::Ref { shape } => {
            if let Some((inner, items)) = wrapper(meta, shape) {
                // The wrapper's key names the element (`Instances: {Instance: [...]}`).
                // Some wrappers repeat the plural (`Tags: {Tags: [...]}`): one element is a `Tag`.
                let elem = names::pascal(&names::fix_words(inner, &ov.words));
                let elem = match names::singular(&elem) {
                    s if s.ends_with("Item") => elem,
                    s => s,
                };
                return Ok(RTy::List(Box::new(out_type(
                    meta,
                    ov,
                    items,
                    &elem,
                    parent,
                    namer,
                    outs,
                    depth + 1,
                )?)));
            }
            let want = names::pascal(&names::fix_words(wire, &ov.words));
            let (name, new) = namer.name(shape, &want, parent, "");
            if new {
                let s = meta
                    .shapes
                    .get(shape)
                    .ok_or_else(|| format!("no shape {shape}"))?;
                let mut fields = Vec::new();
                for f in &s.fields {
                    let key = format!("{shape}.{}", f.name);
                    let ty = typed(&ov.types, &ov.field_types, &key, &f.name, &f.ty);
                    fields.push(OutField {
                        wire: f.name.clone(),
                        ident: rust_ident(ov, &key, &f.name),
                        ty: out_type(meta, ov, ty, &f.name, &name, namer, outs, depth + 1)?,
                        doc: names::doc_lines(&f.doc),
                    });
                }
                check_unique(
                    &fields.iter().map(|f| f.ident.clone()).collect::<Vec<_>>(),
                    shape,
                )?;
                outs.push(OutStruct {
                    name: name.clone(),
                    wire: wire.to_owned(),
                    fields,
                });
            }
            RTy::Struct(name)
        }
    })
}

#[allow(clippy::too_many_arguments)]
fn in_type(
    meta: &Metadata,
    ov: &Overrides,
    ty: &Type,
    wire: &str,
    parent: &str,
    namer: &mut Namer,
    inputs: &mut Vec<InStruct>,
    style: Style,
    depth: usize,
) -> Res<RTy> {
    if depth > 16 {
        return Err(format!("{wire}: types nest too deep"));
    }
    Ok(match ty {
        Type::String => RTy::Str,
        Type::Integer => RTy::Int,
        Type::Float => RTy::Float,
        Type::Boolean => RTy::Bool,
        Type::Any => RTy::Any,
        Type::Map { values } => RTy::Map(Box::new(in_type(
            meta,
            ov,
            values,
            wire,
            parent,
            namer,
            inputs,
            style,
            depth + 1,
        )?)),
        Type::List { items } => {
            let elem = match &**items {
                Type::Ref { .. } => {
                    names::singular(&names::pascal(&names::fix_words(wire, &ov.words)))
                }
                _ => wire.to_owned(),
            };
            RTy::List(Box::new(in_type(
                meta,
                ov,
                items,
                &elem,
                parent,
                namer,
                inputs,
                style,
                depth + 1,
            )?))
        }
        Type::Ref { shape } => {
            let want = names::pascal(&names::fix_words(wire, &ov.words));
            let (name, new) = namer.name(shape, &want, parent, "");
            if new {
                let s = meta
                    .shapes
                    .get(shape)
                    .ok_or_else(|| format!("no shape {shape}"))?;
                let mut fields = Vec::new();
                for f in &s.fields {
                    let key = format!("{shape}.{}", f.name);
                    let ty = typed(&ov.types, &ov.param_types, &key, &f.name, &f.ty);
                    fields.push(RField {
                        wire: f.name.clone(),
                        ident: rust_ident(ov, &key, &f.name),
                        ty: in_type(
                            meta,
                            ov,
                            ty,
                            &f.name,
                            &name,
                            namer,
                            inputs,
                            style,
                            depth + 1,
                        )?,
                        doc: names::doc_lines(&f.doc),
                        required: false,
                        sensitive: is_sensitive(ov, &key, &f.name),
                    });
                }
                check_unique(
                    &fields.iter().map(|f| f.ident.clone()).collect::<Vec<_>>(),
                    shape,
                )?;
                inputs.push(InStruct {
                    name: name.clone(),
                    wire: wire.to_owned(),
                    fields,
                    json: false,
                    flat: false,
                });
            }
            // Mark how it is sent (a type may be sent both ways).
            if let Some(s) = inputs.iter_mut().find(|s| s.name == name) {
                match style {
                    Style::Json => s.json = true,
                    Style::Flat => s.flat = true,
                    _ => {}
                }
            }
            RTy::Struct(name)
        }
    })
}

/// Outputs of the same shape (names and types; docs aside) made of scalars only, shared by
/// three operations or more, become one type in `generated::shared` (e.g. the many answers
/// holding only a `RequestId`).
fn dedupe_outputs(ops: &mut [Op]) -> Vec<SharedOut> {
    let sig = |o: &OutStruct| -> Option<String> {
        let mut s = String::new();
        for f in &o.fields {
            match f.ty {
                RTy::Str | RTy::Int | RTy::Float | RTy::Bool => {
                    s.push_str(&format!("{}:{:?};", f.wire, f.ty))
                }
                _ => return None,
            }
        }
        Some(s)
    };
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, o) in ops.iter().enumerate() {
        if let Output::Own(out) = &o.output {
            if let Some(s) = sig(out) {
                groups.entry(s).or_default().push(i);
            }
        }
    }
    let mut shared = Vec::new();
    for (_, members) in groups {
        if members.len() < 3 {
            continue;
        }
        let Output::Own(first) = ops[members[0]].output.clone() else {
            continue;
        };
        let base = format!(
            "{}Output",
            first
                .fields
                .iter()
                .map(|f| names::pascal(&f.wire))
                .collect::<String>()
        );
        // Same names, other types: numbered, in the (sorted) order of their signatures.
        let name = (1..)
            .map(|i| {
                if i == 1 {
                    base.clone()
                } else {
                    format!("{base}{i}")
                }
            })
            .find(|n| shared.iter().all(|s: &SharedOut| &s.def.name != n))
            .unwrap_or(base);
        let def = OutStruct {
            name: name.clone(),
            wire: String::new(),
            fields: first.fields.clone(),
        };
        let mut families = BTreeSet::new();
        for &i in &members {
            families.insert(ops[i].family.clone());
            ops[i].output = Output::Shared(name.clone());
        }
        shared.push(SharedOut { def, families });
    }
    shared.sort_by(|a, b| a.def.name.cmp(&b.def.name));
    shared
}
