//! The same alert in the schemas SIEMs take: ECS (an Elastic Security alert)
//! and OCSF (a Detection Finding). Pure functions from [`crate::Alert`] to a
//! JSON value; the sink writes them.
//!
//! Both schemas read an explicit `null` as a value (ECS forbids them, OCSF's
//! validator rejects an object that is present but has none of its required
//! attributes), so every rendering goes through [`prune`]: what seldom does
//! not know is left out, never written as null or as an empty object.

use serde_json::Value;

pub mod ecs;
pub mod ocsf;

/// `T1127.001` → (`T1127`, Some(`T1127.001`)); names split on `": "` the way
/// ATT&CK writes sub-technique titles ("Technique: Sub-technique").
pub(crate) fn split_technique<'a>(
    id: &'a str,
    name: &'a str,
) -> ((&'a str, &'a str), Option<(&'a str, &'a str)>) {
    match id.split_once('.') {
        Some((parent, _)) => {
            let (parent_name, sub_name) = name.split_once(": ").unwrap_or((name, name));
            ((parent, parent_name), Some((id, sub_name)))
        }
        None => ((id, name), None),
    }
}

/// Removes `null`s and the objects that become empty without them, at any depth.
pub(crate) fn prune(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, prune(v)))
                .filter(|(_, v)| !is_nothing(v))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(prune)
                .filter(|v| !is_nothing(v))
                .collect(),
        ),
        other => other,
    }
}

fn is_nothing(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn prune_drops_nulls_and_the_objects_they_empty() {
        let pruned = super::prune(json!({
            "user": { "name": null },
            "process": { "pid": null, "file": { "path": null } },
            "kept": { "a": 1, "b": null },
            "list": [null, {}, 2],
            "empty_list": [],
        }));
        assert_eq!(
            pruned,
            json!({ "kept": { "a": 1 }, "list": [2], "empty_list": [] })
        );
    }
}
