//! The variation catalog: data that says which alert a rare connection raises.
//!
//! `catalog.toml` (compiled in, replaceable) holds named process lists, each
//! with its source, and the variations with their analyst text and matchers.
//! [`CatalogFile`] is the serde schema (unknown fields rejected); [`Catalog`] is
//! the checked runtime form built from it. Code matches, data describes.

use std::collections::{BTreeMap, HashSet};

use seldom_model::Platform;
use serde::{Deserialize, Serialize};

use crate::image::image_name;

/// The catalog compiled into the binary.
pub const BUILTIN_CATALOG: &str = include_str!("../catalog.toml");

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("catalog is not valid TOML for the schema: {0}")]
    Parse(#[from] toml::de::Error),
    #[error(
        "variation `{variation}`: field `match.{field}` names list `{list}`, which is not defined under [lists]"
    )]
    UnknownList {
        variation: String,
        field: &'static str,
        list: String,
    },
    #[error("variation id `{0}` appears twice")]
    DuplicateId(String),
    #[error(
        "variation `{0}`: `match` has no condition (set `any_process = true` to match every process)"
    )]
    EmptyMatch(String),
    #[error("the catalog has no variation")]
    Empty,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    pub lists: BTreeMap<String, ProcessList>,
    #[serde(rename = "variation")]
    pub variations: Vec<Variation>,
}

/// A named list of process names, with where it comes from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessList {
    pub source: String,
    pub names: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attack {
    pub tactic: String,
    pub tactic_name: String,
    pub technique: String,
    pub technique_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variation {
    pub id: String,
    pub name: String,
    pub severity: Severity,
    /// Among matching rows, the highest wins; the others are listed as also matched.
    pub specificity: u32,
    pub attack: Vec<Attack>,
    pub description: String,
    pub attacker_goals: String,
    pub investigative_actions: String,
    #[serde(rename = "match")]
    pub matcher: MatchSpec,
}

/// Conditions on the process and its causality chain; all given ones must hold.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchSpec {
    /// Matches every process (the base row).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub any_process: bool,
    /// The process itself is in this list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_in: Option<String>,
    /// The process or one of its ancestors is in this list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_or_ancestor_in: Option<String>,
    /// An ancestor (not the process) is in this list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ancestor_in: Option<String>,
    /// No ancestor is in this list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_ancestor_in: Option<String>,
    /// The image or command line of the process or an ancestor contains one of
    /// these (case-insensitive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub self_or_ancestor_mentions: Vec<String>,
    /// Only on these platforms (all when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<Platform>,
}

/// One process as the catalog sees it.
#[derive(Debug, Clone, Default)]
pub struct ProcessView<'a> {
    pub image: Option<&'a str>,
    pub original_file_name: Option<&'a str>,
    pub command_line: Option<&'a str>,
}

/// A connection's process and its ancestors (nearest first).
#[derive(Debug, Clone)]
pub struct MatchSubject<'a> {
    pub platform: Platform,
    pub process: ProcessView<'a>,
    pub ancestors: Vec<ProcessView<'a>>,
}

/// The checked catalog.
#[derive(Debug, Clone)]
pub struct Catalog {
    file: CatalogFile,
    lists: BTreeMap<String, HashSet<String>>,
}

/// The outcome of matching: the winning row and the others that matched.
#[derive(Debug, Clone)]
pub struct CatalogMatch<'c> {
    pub variation: &'c Variation,
    pub also_matched: Vec<&'c Variation>,
}

impl Catalog {
    pub fn builtin() -> Result<Catalog, CatalogError> {
        Catalog::from_toml(BUILTIN_CATALOG)
    }

    /// The text of the built-in catalog (what `seldom catalog` prints).
    pub fn builtin_text() -> &'static str {
        BUILTIN_CATALOG
    }

    pub fn from_toml(text: &str) -> Result<Catalog, CatalogError> {
        let file: CatalogFile = toml::from_str(text)?;
        Catalog::build(file)
    }

    pub fn build(file: CatalogFile) -> Result<Catalog, CatalogError> {
        if file.variations.is_empty() {
            return Err(CatalogError::Empty);
        }
        let lists: BTreeMap<String, HashSet<String>> = file
            .lists
            .iter()
            .map(|(name, list)| {
                (
                    name.clone(),
                    list.names.iter().filter_map(|n| image_name(n)).collect(),
                )
            })
            .collect();
        let mut ids = HashSet::new();
        for v in &file.variations {
            if !ids.insert(v.id.as_str()) {
                return Err(CatalogError::DuplicateId(v.id.clone()));
            }
            let m = &v.matcher;
            for (field, list) in [
                ("process_in", &m.process_in),
                ("self_or_ancestor_in", &m.self_or_ancestor_in),
                ("ancestor_in", &m.ancestor_in),
                ("no_ancestor_in", &m.no_ancestor_in),
            ] {
                if let Some(list) = list
                    && !lists.contains_key(list)
                {
                    return Err(CatalogError::UnknownList {
                        variation: v.id.clone(),
                        field,
                        list: list.clone(),
                    });
                }
            }
            let has_condition = m.any_process
                || m.process_in.is_some()
                || m.self_or_ancestor_in.is_some()
                || m.ancestor_in.is_some()
                || !m.self_or_ancestor_mentions.is_empty();
            if !has_condition {
                return Err(CatalogError::EmptyMatch(v.id.clone()));
            }
        }
        Ok(Catalog { file, lists })
    }

    pub fn file(&self) -> &CatalogFile {
        &self.file
    }

    pub fn variations(&self) -> &[Variation] {
        &self.file.variations
    }

    /// The most specific matching row and the others that matched; `None` when
    /// no row matches (a catalog without a base row).
    pub fn classify(&self, subject: &MatchSubject<'_>) -> Option<CatalogMatch<'_>> {
        let mut matched: Vec<&Variation> = self
            .file
            .variations
            .iter()
            .filter(|v| self.matches(&v.matcher, subject))
            .collect();
        matched.sort_by(|a, b| {
            b.specificity
                .cmp(&a.specificity)
                .then_with(|| b.severity.cmp(&a.severity))
        });
        let (first, rest) = matched.split_first()?;
        Some(CatalogMatch {
            variation: first,
            also_matched: rest.to_vec(),
        })
    }

    /// Why `variation` matched `subject`, in words, naming the process and list.
    pub fn explain(&self, variation: &Variation, subject: &MatchSubject<'_>) -> String {
        let m = &variation.matcher;
        let name_of = |v: &ProcessView<'_>| {
            v.image
                .and_then(image_name)
                .unwrap_or_else(|| "unknown".to_owned())
        };
        let source = |list: &str| {
            self.file
                .lists
                .get(list)
                .map_or("", |l| l.source.as_str())
                .to_owned()
        };
        let mut reasons = Vec::new();
        if let Some(list) = &m.process_in {
            reasons.push(format!(
                "the process ({}) is in the list `{list}` ({})",
                name_of(&subject.process),
                source(list)
            ));
        }
        if let Some(list) = &m.self_or_ancestor_in {
            if self.in_list(list, &subject.process) {
                reasons.push(format!(
                    "the process ({}) is in `{list}`",
                    name_of(&subject.process)
                ));
            } else if let Some(a) = subject.ancestors.iter().find(|a| self.in_list(list, a)) {
                reasons.push(format!("its ancestor {} is in `{list}`", name_of(a)));
            }
        }
        if let Some(list) = &m.ancestor_in
            && let Some(a) = subject.ancestors.iter().find(|a| self.in_list(list, a))
        {
            reasons.push(format!("its ancestor {} is in `{list}`", name_of(a)));
        }
        if let Some(list) = &m.no_ancestor_in {
            reasons.push(format!("no ancestor is in `{list}`"));
        }
        if !m.self_or_ancestor_mentions.is_empty() {
            reasons.push(
                "the process or an ancestor runs from, or names, a VS Code extension host"
                    .to_owned(),
            );
        }
        if reasons.is_empty() {
            reasons.push("any process connecting to a rare external destination".to_owned());
        }
        if m.platforms.contains(&Platform::Network) {
            reasons.push("seen by a network sensor, which attributes no process".to_owned());
        }
        reasons.join("; ")
    }

    fn in_list(&self, list: &str, view: &ProcessView<'_>) -> bool {
        let Some(names) = self.lists.get(list) else {
            return false;
        };
        [view.image, view.original_file_name]
            .into_iter()
            .flatten()
            .filter_map(image_name)
            .any(|name| names.contains(&name))
    }

    fn matches(&self, m: &MatchSpec, s: &MatchSubject<'_>) -> bool {
        if !m.platforms.is_empty() && !m.platforms.contains(&s.platform) {
            return false;
        }
        if let Some(list) = &m.process_in
            && !self.in_list(list, &s.process)
        {
            return false;
        }
        if let Some(list) = &m.self_or_ancestor_in
            && !(self.in_list(list, &s.process)
                || s.ancestors.iter().any(|a| self.in_list(list, a)))
        {
            return false;
        }
        if let Some(list) = &m.ancestor_in
            && !s.ancestors.iter().any(|a| self.in_list(list, a))
        {
            return false;
        }
        if let Some(list) = &m.no_ancestor_in
            && s.ancestors.iter().any(|a| self.in_list(list, a))
        {
            return false;
        }
        if !m.self_or_ancestor_mentions.is_empty() {
            let needles: Vec<String> = m
                .self_or_ancestor_mentions
                .iter()
                .map(|n| n.to_lowercase())
                .collect();
            let mentions = |v: &ProcessView<'_>| {
                [v.image, v.command_line].into_iter().flatten().any(|text| {
                    let text = text.to_lowercase();
                    needles.iter().any(|n| text.contains(n.as_str()))
                })
            };
            if !(mentions(&s.process) || s.ancestors.iter().any(mentions)) {
                return false;
            }
        }
        true
    }
}
