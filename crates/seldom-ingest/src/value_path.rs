//! Reading a JSON document by dotted path, whether the writer nested the
//! objects (`{"process": {"pid": 1}}`) or flattened the keys
//! (`{"process.pid": 1}`), or mixed both, as ECS and OCSF writers do.

use std::str::FromStr;

use serde_json::Value;

use crate::stats::{Malformed, SkipReason};

/// The value at `path`, trying every split of the path into nested keys and
/// dotted keys.
pub fn at<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    let object = value.as_object()?;
    if let Some(found) = object.get(path) {
        return Some(found);
    }
    let mut split = path.len();
    while let Some(dot) = path[..split].rfind('.') {
        if let Some(inner) = object.get(&path[..dot]) {
            if let Some(found) = at(inner, &path[dot + 1..]) {
                return Some(found);
            }
        }
        split = dot;
    }
    None
}

/// A scalar at `path` as text (strings as they are, numbers printed); a list
/// gives its first scalar.
pub fn text(value: &Value, path: &str) -> Option<String> {
    scalar_text(at(value, path)?)
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() && s != "-" => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) => items.iter().find_map(scalar_text),
        _ => None,
    }
}

/// Every scalar at `path` (a list, or one value).
pub fn texts(value: &Value, path: &str) -> Vec<String> {
    match at(value, path) {
        Some(Value::Array(items)) => items.iter().filter_map(scalar_text).collect(),
        Some(other) => scalar_text(other).into_iter().collect(),
        None => Vec::new(),
    }
}

/// A number at `path` (a pid, a port), absent when the path is; a value that
/// does not parse is malformed, named by its path.
pub fn number<T: FromStr>(value: &Value, path: &str) -> Result<Option<T>, Malformed> {
    text(value, path)
        .map(|t| {
            t.parse()
                .map_err(|_| Malformed::new(SkipReason::BadField, format!("{path} {t:?}")))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_flat_and_mixed_paths() {
        let v = json!({"process": {"parent.pid": 4, "pid": 7}, "event.category": ["network"], "host": {"os": {"type": "linux"}}});
        assert_eq!(text(&v, "process.pid").as_deref(), Some("7"));
        assert_eq!(text(&v, "process.parent.pid").as_deref(), Some("4"));
        assert_eq!(texts(&v, "event.category"), vec!["network"]);
        assert_eq!(text(&v, "host.os.type").as_deref(), Some("linux"));
        assert_eq!(text(&v, "host.os.name"), None);
    }
}
