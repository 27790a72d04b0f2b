//! ECS 8.11 from `ecs_flat.yml`: one entry per field with its type,
//! `normalize` (`array`: the field holds an array) and its allowed or
//! expected values. A document is flattened to dotted paths (nested objects
//! and dotted keys alike, arrays of objects flattening onto their field) and
//! each leaf checked against its field. Namespaces outside ECS must be named
//! by the caller (`kibana.alert`, Elastic Security's alert schema; `seldom`,
//! seldom's own custom fields).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
pub struct Field {
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default)]
    pub normalize: Vec<String>,
    #[serde(default)]
    pub allowed_values: Vec<AllowedValue>,
    #[serde(default)]
    pub expected_values: Vec<String>,
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Deserialize)]
pub struct AllowedValue {
    pub name: String,
    #[serde(default)]
    pub expected_event_types: Vec<String>,
}

pub struct Ecs {
    pub fields: BTreeMap<String, Field>,
}

/// One leaf of a document: its values and whether it came through an array.
struct Leaf<'a> {
    values: Vec<&'a Value>,
    in_array: bool,
}

impl Ecs {
    pub fn load(standards: &Path) -> Ecs {
        let path = standards.join("ecs-8.11/ecs_flat.yml");
        let text = std::fs::read_to_string(&path).expect("ecs_flat.yml");
        let fields = serde_yaml_ng::from_str(&text).expect("ecs_flat.yml parses");
        Ecs { fields }
    }

    /// Every violation, as `path: problem`; `custom` lists the namespaces
    /// outside ECS the document may use.
    pub fn validate(&self, doc: &Value, custom: &[&str]) -> Vec<String> {
        let mut errors = Vec::new();
        super::nulls(doc, "", &mut errors);
        let mut leaves: BTreeMap<String, Leaf<'_>> = BTreeMap::new();
        self.flatten("", doc, false, custom, &mut leaves, &mut errors);
        for (path, leaf) in &leaves {
            let Some(field) = self.fields.get(path) else {
                errors.push(format!("{path}: not an ECS field"));
                continue;
            };
            let is_array = field.normalize.iter().any(|n| n == "array");
            if leaf.in_array && !is_array && leaf.values.len() > 1 {
                errors.push(format!("{path}: several values, but ECS holds one"));
            }
            if is_array && !leaf.in_array {
                errors.push(format!("{path}: ECS normalizes it to an array"));
            }
            for value in &leaf.values {
                if let Some(problem) = type_problem(&field.ty, value) {
                    errors.push(format!("{path}: {problem} (ECS type {})", field.ty));
                }
                let text = value.as_str().unwrap_or_default();
                if !field.allowed_values.is_empty()
                    && !field.allowed_values.iter().any(|a| a.name == text)
                {
                    errors.push(format!("{path}: `{text}` is not an allowed value"));
                }
                if !field.expected_values.is_empty()
                    && !field.expected_values.iter().any(|e| e == text)
                {
                    errors.push(format!("{path}: `{text}` is not an expected value"));
                }
            }
        }
        for (name, field) in &self.fields {
            if field.required && !leaves.contains_key(name) {
                errors.push(format!("{name}: required by ECS, missing"));
            }
        }
        self.check_event_types(&leaves, &mut errors);
        errors
    }

    /// `event.type` values must be expected for one of the `event.category` values.
    fn check_event_types(&self, leaves: &BTreeMap<String, Leaf<'_>>, errors: &mut Vec<String>) {
        let (Some(categories), Some(types)) =
            (leaves.get("event.category"), leaves.get("event.type"))
        else {
            return;
        };
        let Some(category_field) = self.fields.get("event.category") else {
            return;
        };
        let expected: BTreeSet<&str> = categories
            .values
            .iter()
            .filter_map(|c| c.as_str())
            .flat_map(|c| {
                category_field
                    .allowed_values
                    .iter()
                    .filter(move |a| a.name == c)
                    .flat_map(|a| a.expected_event_types.iter().map(String::as_str))
            })
            .collect();
        for t in types.values.iter().filter_map(|t| t.as_str()) {
            if !expected.contains(t) {
                errors.push(format!(
                    "event.type: `{t}` is not expected for the event.category given"
                ));
            }
        }
    }

    fn flatten<'a>(
        &self,
        path: &str,
        value: &'a Value,
        in_array: bool,
        custom: &[&str],
        leaves: &mut BTreeMap<String, Leaf<'a>>,
        errors: &mut Vec<String>,
    ) {
        if custom
            .iter()
            .any(|ns| path == *ns || path.starts_with(&format!("{ns}.")))
        {
            return;
        }
        match value {
            Value::Null => {}
            Value::Object(map) => {
                let opaque = self.fields.get(path).is_some_and(|f| {
                    matches!(
                        f.ty.as_str(),
                        "object" | "flattened" | "nested" | "geo_point"
                    )
                });
                if opaque {
                    push(leaves, path, value, in_array);
                    return;
                }
                for (k, v) in map {
                    self.flatten(&super::join(path, k), v, in_array, custom, leaves, errors);
                }
            }
            Value::Array(items) => {
                for item in items {
                    if item.is_array() {
                        errors.push(format!("{path}: array of arrays"));
                        continue;
                    }
                    self.flatten(path, item, true, custom, leaves, errors);
                }
                if items.is_empty() {
                    leaves.entry(path.to_owned()).or_insert(Leaf {
                        values: Vec::new(),
                        in_array: true,
                    });
                }
            }
            _ => push(leaves, path, value, in_array),
        }
    }
}

fn push<'a>(leaves: &mut BTreeMap<String, Leaf<'a>>, path: &str, value: &'a Value, in_array: bool) {
    let leaf = leaves.entry(path.to_owned()).or_insert(Leaf {
        values: Vec::new(),
        in_array,
    });
    leaf.in_array |= in_array;
    leaf.values.push(value);
}

/// Whether a JSON value fits an ECS (Elasticsearch) field type.
fn type_problem(ty: &str, value: &Value) -> Option<String> {
    let ok = match ty {
        "keyword" | "constant_keyword" | "wildcard" | "match_only_text" | "text" => {
            value.is_string()
        }
        "long" | "integer" | "short" | "byte" | "unsigned_long" => value.is_i64() || value.is_u64(),
        "float" | "scaled_float" | "half_float" | "double" => value.is_number(),
        "boolean" => value.is_boolean(),
        "date" => match value {
            Value::String(s) => is_iso8601(s),
            Value::Number(n) => n.is_i64() || n.is_u64(),
            _ => false,
        },
        "ip" => value.as_str().is_some_and(|s| s.parse::<IpAddr>().is_ok()),
        "object" | "flattened" | "nested" => value.is_object(),
        "geo_point" => value.is_object() || value.is_string(),
        other => return Some(format!("unknown ECS type {other}")),
    };
    (!ok).then(|| format!("{value} does not fit"))
}

/// `2024-01-01T00:00:03Z`, with optional fraction and offset.
fn is_iso8601(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && (s.ends_with('Z') || s[19..].contains(['+', '-']))
}
