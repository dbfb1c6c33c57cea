//! The generator's input: the metadata extracted from Alibaba's Python SDK
//! (`ens-2017-11-10.json`), the hand-written overrides (`overrides.json`) and the golden file
//! (`golden.json`). See `codegen/README.md` for their schemas.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Metadata {
    pub version: String,
    pub source: Source,
    pub operations: Vec<Operation>,
    pub shapes: BTreeMap<String, Shape>,
}

#[derive(Debug, Deserialize)]
pub struct Source {
    pub package: String,
    pub version: String,
    pub wheel_sha256: String,
}

#[derive(Debug, Deserialize)]
pub struct Operation {
    pub name: String,
    pub method: String,
    pub params: Vec<Param>,
    pub response: String,
}

#[derive(Debug, Deserialize)]
pub struct Param {
    pub name: String,
    #[serde(rename = "in")]
    pub place: String,
    pub style: String,
    #[serde(rename = "type")]
    pub ty: Type,
    pub required: bool,
    #[serde(default)]
    pub doc: String,
}

#[derive(Debug, Deserialize)]
pub struct Shape {
    pub fields: Vec<Field>,
}

#[derive(Debug, Deserialize)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: Type,
    #[serde(default)]
    pub doc: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Type {
    String,
    Integer,
    Float,
    Boolean,
    Any,
    List { items: Box<Type> },
    Map { values: Box<Type> },
    Ref { shape: String },
}

#[derive(Debug, Deserialize)]
pub struct Overrides {
    pub families: BTreeMap<String, Family>,
    pub hand_made: Vec<String>,
    /// Word spellings fixed before names are made (`VSwitch` → `Vswitch`, so `vswitch_id`
    /// as the hand-made HAVIP layer spells it).
    #[serde(default)]
    pub words: BTreeMap<String, String>,
    /// Writes that cannot apply twice when sent again (besides those with a `ClientToken`
    /// and the patterns in `idempotent_suffixes`).
    #[serde(default)]
    pub idempotent_writes: Vec<String>,
    /// Writes ending with one of these are idempotent (they set absolute values).
    #[serde(default)]
    pub idempotent_suffixes: Vec<String>,
    /// Writes that look idempotent by the rules above but are not (e.g. they place an order).
    #[serde(default)]
    pub not_idempotent: Vec<String>,
    /// Verbs (action prefixes) of reads.
    #[serde(default)]
    pub read_verbs: Vec<String>,
    /// Parameter or field types the metadata gets wrong: `"Action.Param"` or
    /// `"Shape.Field"` → type.
    #[serde(default)]
    pub types: BTreeMap<String, Type>,
    /// Request parameters declared `string` whose values are of another type, by wire name
    /// (`PageSize` is a string in some operations, an integer in others).
    #[serde(default)]
    pub param_types: BTreeMap<String, Type>,
    /// Answer fields declared `string` whose values are of another type, by wire name.
    #[serde(default)]
    pub field_types: BTreeMap<String, Type>,
    /// Rust names for wire names the rules would get wrong or make clash: `"Action.Param"` or
    /// `"Shape.Field"` → snake-case name.
    #[serde(default)]
    pub rust_names: BTreeMap<String, String>,
    /// Parameter and field names whose values are secrets (redacted in `Debug`).
    #[serde(default)]
    pub sensitive: Vec<String>,
    /// Operations whose answer's top-level `Code` is not a status (never read as a failure).
    #[serde(default)]
    pub code_is_not_status: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct Family {
    pub doc: String,
    pub operations: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct Golden {
    pub operations: BTreeMap<String, GoldenOp>,
}

#[derive(Debug, Deserialize)]
pub struct GoldenOp {
    pub input: serde_json::Map<String, serde_json::Value>,
}
