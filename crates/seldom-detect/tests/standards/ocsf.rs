//! OCSF 1.1.0 from its schema files, resolved the way ocsf-server resolves
//! them: a class's attributes are its parents' (`extends`), its includes'
//! (`$include` of `includes/` and `profiles/` files) and its own, each merged
//! over the dictionary's definition of the attribute (type, `is_array`,
//! enum). Attributes that come from a profile are allowed, and required, only
//! when the event names that profile in `metadata.profiles`. Objects resolve
//! the same way, with their `constraints` (`at_least_one`, `just_one`).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// One attribute as an event or object sees it.
#[derive(Debug, Clone, Default)]
struct Attribute {
    ty: String,
    is_array: bool,
    requirement: String,
    /// Enum value (as text) → caption.
    enumeration: BTreeMap<String, String>,
    /// The `*_id` attribute's caption sibling (`type_id` → `type`).
    sibling: Option<String>,
    /// The profile that brings the attribute, if any.
    profile: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct Shape {
    attributes: BTreeMap<String, Attribute>,
    at_least_one: Vec<String>,
    just_one: Vec<String>,
}

pub struct Ocsf {
    root: PathBuf,
    dictionary: Map<String, Value>,
    types: Map<String, Value>,
    /// Object name → its file's JSON.
    objects: BTreeMap<String, Value>,
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A JSON object's field as an object (empty when missing).
fn object<'a>(value: &'a Value, key: &str) -> &'a Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    value
        .get(key)
        .and_then(Value::as_object)
        .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

impl Ocsf {
    pub fn load(standards: &Path) -> Ocsf {
        let root = standards.join("ocsf-1.1.0");
        let dict = read_json(&root.join("dictionary.json"));
        let mut objects = BTreeMap::new();
        for entry in std::fs::read_dir(root.join("objects")).expect("objects/") {
            let path = entry.expect("objects/ entry").path();
            let value = read_json(&path);
            let name = value["name"].as_str().expect("object name").to_owned();
            objects.insert(name, value);
        }
        Ocsf {
            dictionary: object(&dict, "attributes").clone(),
            types: dict["types"]["attributes"]
                .as_object()
                .cloned()
                .unwrap_or_default(),
            objects,
            root,
        }
    }

    /// Every violation of `event` against the class in `class_file`
    /// (relative to the schema root, e.g. `events/findings/detection_finding.json`).
    pub fn validate(&self, class_file: &str, event: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        super::nulls(event, "", &mut errors);
        let class = read_json(&self.root.join(class_file));
        let shape = self.class_shape(&class);
        let profiles: BTreeSet<String> = strings(event.pointer("/metadata/profiles"))
            .into_iter()
            .collect();
        self.check_ids(&class, event, &mut errors);
        self.check(&shape, event, "", &profiles, &mut errors);
        errors
    }

    /// class_uid = category_uid × 1000 + the class's uid; type_uid = class_uid × 100 + activity_id.
    fn check_ids(&self, class: &Value, event: &Value, errors: &mut Vec<String>) {
        let categories = read_json(&self.root.join("categories.json"));
        let category = class["category"].as_str().unwrap_or_default();
        let category_uid = categories["attributes"][category]["uid"]
            .as_u64()
            .unwrap_or(0);
        let class_uid = category_uid * 1000 + class["uid"].as_u64().unwrap_or(0);
        if event["category_uid"].as_u64() != Some(category_uid) {
            errors.push(format!("category_uid: expected {category_uid}"));
        }
        if event["class_uid"].as_u64() != Some(class_uid) {
            errors.push(format!("class_uid: expected {class_uid}"));
        }
        let activity = event["activity_id"].as_u64().unwrap_or(0);
        if event["type_uid"].as_u64() != Some(class_uid * 100 + activity) {
            errors.push(format!("type_uid: expected {}", class_uid * 100 + activity));
        }
        if event["class_name"].as_str() != class["caption"].as_str() {
            errors.push(format!("class_name: expected {}", class["caption"]));
        }
    }

    /// A class's attributes, parents first, each file's includes under its own.
    fn class_shape(&self, class: &Value) -> Shape {
        let mut shape = match class["extends"].as_str() {
            Some(parent) => self.class_shape(&read_json(&self.class_path(parent))),
            None => Shape::default(),
        };
        self.merge_file(&mut shape, class);
        shape
    }

    fn class_path(&self, name: &str) -> PathBuf {
        let base = self.root.join("events").join(format!("{name}.json"));
        if base.is_file() {
            return base;
        }
        for entry in std::fs::read_dir(self.root.join("events")).expect("events/") {
            let path = entry
                .expect("events/ entry")
                .path()
                .join(format!("{name}.json"));
            if path.is_file() {
                return path;
            }
        }
        panic!("no class file for {name}");
    }

    fn object_shape(&self, name: &str) -> Shape {
        let Some(file) = self.objects.get(name) else {
            panic!("no object {name}");
        };
        let mut shape = match file["extends"].as_str() {
            Some(parent) => self.object_shape(parent),
            None => Shape::default(),
        };
        self.merge_file(&mut shape, file);
        let constraints = &file["constraints"];
        if constraints.is_object() {
            shape.at_least_one = strings(constraints.get("at_least_one"));
            shape.just_one = strings(constraints.get("just_one"));
        }
        shape
    }

    /// A class, object or include file's attributes over `shape`.
    fn merge_file(&self, shape: &mut Shape, file: &Value) {
        let attributes = object(file, "attributes");
        for include in strings(attributes.get("$include")) {
            let included = read_json(&self.root.join(&include));
            let profile = include
                .starts_with("profiles/")
                .then(|| included["name"].as_str().unwrap_or_default().to_owned());
            for (name, def) in object(&included, "attributes") {
                self.merge_attribute(shape, name, def, profile.clone());
            }
        }
        for (name, def) in attributes {
            if name != "$include" {
                self.merge_attribute(shape, name, def, None);
            }
        }
    }

    fn merge_attribute(&self, shape: &mut Shape, name: &str, def: &Value, profile: Option<String>) {
        let attribute = shape.attributes.entry(name.to_owned()).or_insert_with(|| {
            let dict = self.dictionary.get(name).cloned().unwrap_or(Value::Null);
            let mut a = Attribute {
                ty: dict["type"].as_str().unwrap_or_default().to_owned(),
                is_array: dict["is_array"].as_bool().unwrap_or(false),
                sibling: dict["sibling"].as_str().map(str::to_owned),
                ..Attribute::default()
            };
            add_enum(&mut a, &dict);
            a
        });
        if profile.is_some() {
            // Once a profile brings an attribute it stays the profile's,
            // even where the class restates it (finding's `device`).
            attribute.profile = profile;
        }
        if let Some(requirement) = def["requirement"].as_str() {
            attribute.requirement = requirement.to_owned();
        }
        if let Some(ty) = def["type"].as_str() {
            attribute.ty = ty.to_owned();
        }
        add_enum(attribute, def);
        if matches!(name, "category_uid" | "class_uid" | "type_uid") {
            // Their enums are filled in from the categories and classes by
            // the server; `check_ids` checks them that way.
            attribute.enumeration.clear();
        }
    }

    fn check(
        &self,
        shape: &Shape,
        value: &Value,
        path: &str,
        profiles: &BTreeSet<String>,
        errors: &mut Vec<String>,
    ) {
        let Some(map) = value.as_object() else {
            errors.push(format!("{path}: expected an object"));
            return;
        };
        for (name, attribute) in &shape.attributes {
            let declared = attribute
                .profile
                .as_ref()
                .is_none_or(|p| profiles.contains(p));
            if attribute.requirement == "required" && declared && !map.contains_key(name) {
                errors.push(format!("{}: required, missing", super::join(path, name)));
            }
        }
        for group in [&shape.at_least_one, &shape.just_one] {
            let present = group.iter().filter(|a| map.contains_key(*a)).count();
            if !group.is_empty() && present == 0 {
                errors.push(format!("{path}: needs at least one of {group:?}"));
            }
        }
        if !shape.just_one.is_empty()
            && shape
                .just_one
                .iter()
                .filter(|a| map.contains_key(*a))
                .count()
                > 1
        {
            errors.push(format!("{path}: just one of {:?}", shape.just_one));
        }
        for (name, item) in map {
            let here = super::join(path, name);
            let Some(attribute) = shape.attributes.get(name) else {
                errors.push(format!("{here}: not an attribute here"));
                continue;
            };
            if let Some(profile) = &attribute.profile
                && !profiles.contains(profile)
            {
                errors.push(format!(
                    "{here}: belongs to profile `{profile}`, not declared in metadata.profiles"
                ));
            }
            match (attribute.is_array, item) {
                (true, Value::Array(items)) => {
                    for (i, element) in items.iter().enumerate() {
                        self.check_value(
                            attribute,
                            element,
                            &format!("{here}[{i}]"),
                            profiles,
                            errors,
                        );
                    }
                }
                (true, _) => errors.push(format!("{here}: expected an array")),
                (false, Value::Array(_)) if attribute.ty != "json_t" => {
                    errors.push(format!("{here}: not an array attribute"));
                }
                (false, _) => self.check_value(attribute, item, &here, profiles, errors),
            }
            if let (Some(sibling), false) = (&attribute.sibling, attribute.enumeration.is_empty()) {
                let key = item.to_string();
                let caption = attribute.enumeration.get(&key);
                if let (Some(caption), Some(given)) =
                    (caption, map.get(sibling).and_then(Value::as_str))
                    && key != "99"
                    && caption != given
                {
                    errors.push(format!(
                        "{}: `{given}` is not the caption of {name} {key} (`{caption}`)",
                        super::join(path, sibling)
                    ));
                }
            }
        }
    }

    fn check_value(
        &self,
        attribute: &Attribute,
        value: &Value,
        path: &str,
        profiles: &BTreeSet<String>,
        errors: &mut Vec<String>,
    ) {
        if !attribute.enumeration.is_empty() {
            let key = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if !attribute.enumeration.contains_key(&key) {
                errors.push(format!("{path}: {key} is not in the enum"));
            }
        }
        let ty = attribute.ty.as_str();
        if ty.ends_with("_t") {
            if let Some(problem) = self.scalar_problem(ty, value) {
                errors.push(format!("{path}: {problem}"));
            }
        } else if ty == "object" {
            // OCSF's open object (`unmapped`): anything goes.
            if !value.is_object() {
                errors.push(format!("{path}: expected an object"));
            }
        } else {
            self.check(&self.object_shape(ty), value, path, profiles, errors);
        }
    }

    fn scalar_problem(&self, ty: &str, value: &Value) -> Option<String> {
        let def = self.types.get(ty).cloned().unwrap_or(Value::Null);
        let base = def["type"].as_str().unwrap_or(ty);
        let ok = match base {
            "integer_t" | "long_t" | "timestamp_t" => value.is_i64() || value.is_u64(),
            "float_t" => value.is_number(),
            "boolean_t" => value.is_boolean(),
            "json_t" => true,
            _ => value.is_string(),
        };
        if !ok {
            return Some(format!("{value} is not a {ty}"));
        }
        if ty == "ip_t" && value.as_str().is_some_and(|s| s.parse::<IpAddr>().is_err()) {
            return Some(format!("{value} is not an IP address"));
        }
        if let (Some(range), Some(n)) = (def["range"].as_array(), value.as_i64())
            && let (Some(lo), Some(hi)) = (
                range.first().and_then(Value::as_i64),
                range.get(1).and_then(Value::as_i64),
            )
            && !(lo..=hi).contains(&n)
        {
            return Some(format!("{n} is outside {lo}..={hi}"));
        }
        None
    }
}

fn add_enum(attribute: &mut Attribute, def: &Value) {
    for (key, item) in object(def, "enum") {
        let caption = item["caption"].as_str().unwrap_or_default().to_owned();
        attribute.enumeration.insert(key.clone(), caption);
    }
}
