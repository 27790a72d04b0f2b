//! The variation catalog: data that says which alert a rare connection raises.
//!
//! `catalog.toml` (compiled in, replaceable) holds named process lists, each
//! with its source, and the variations with their analyst text and matchers.
//! [`CatalogFile`] is the serde schema (unknown fields rejected); [`Catalog`] is
//! the checked runtime form built from it. Code matches, data describes.
//!
//! A list names its members three ways: plain `names` (hand-kept lists such as
//! `office`), `entries` that each carry their provenance (the LOLBIN lists,
//! written by `scripts/update-catalog-lists` from LOLBAS and GTFOBins between
//! the `BEGIN GENERATED` / `END GENERATED` marks of `catalog.toml`, merged with
//! the reviewed `catalog-curation.toml`), and `hosted` members: a host program
//! that counts only when its command line runs the tool (`dotnet msbuild`), so
//! that the host itself (dotnet) never joins the list.

use std::collections::{BTreeMap, HashSet};

use seldom_model::Platform;
use serde::{Deserialize, Serialize};

use crate::image::image_name;
use crate::process_table::Ancestor;

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
    /// Members without a provenance of their own (the list's `source` covers them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    /// Members with their own provenance: the source, commit and function, or
    /// the curator's reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<ListEntry>,
    /// Host programs that are members only while running one of the tools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosted: Vec<HostedEntry>,
}

impl ProcessList {
    /// Every plain member name, `names` then `entries`, as written.
    pub fn member_names(&self) -> impl Iterator<Item = &str> {
        self.names
            .iter()
            .map(String::as_str)
            .chain(self.entries.iter().map(|e| e.name.as_str()))
    }
}

/// One list member and why it is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListEntry {
    pub name: String,
    /// `LOLBAS 3403b338 OSBinaries/Certreq.yml: Download, Upload`, or
    /// `curated: <reason>`.
    pub from: String,
}

/// A program that is a member only when one of its arguments is the tool:
/// `dotnet msbuild x.csproj`, `dotnet exec ...\MSBuild.dll`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostedEntry {
    /// The host program's image name (folded like any image name).
    pub host: String,
    /// Tool names; an argument matches when its base name, lower case, less
    /// `.exe` or `.dll`, is one of them.
    pub runs: Vec<String>,
    pub from: String,
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

impl<'a> MatchSubject<'a> {
    /// A connection's process on `platform`, with its causality chain.
    pub fn new(platform: Platform, process: ProcessView<'a>, chain: &'a [Ancestor]) -> Self {
        MatchSubject {
            platform,
            process,
            ancestors: chain
                .iter()
                .map(|a| ProcessView {
                    image: a.image.as_deref(),
                    original_file_name: a.original_file_name.as_deref(),
                    command_line: a.command_line.as_deref(),
                })
                .collect(),
        }
    }
}

/// A list as matching uses it: folded names, and hosts with their tools.
#[derive(Debug, Clone, Default)]
struct CompiledList {
    names: HashSet<String>,
    hosted: Vec<(String, Vec<String>)>,
}

/// The PE OriginalFileName folded like an image name; .NET (Core) programs
/// carry their assembly's name there (`pwsh.dll` for PowerShell 7), so a
/// `.dll` is folded too.
fn original_file_name(name: &str) -> Option<String> {
    let folded = image_name(name)?;
    Some(match folded.strip_suffix(".dll") {
        Some(stem) => image_name(stem)?,
        None => folded,
    })
}

/// Whether an argument after the program is one of `tools` (base name, lower
/// case, less `.exe` / `.dll`). Double quotes group words, as Windows does.
fn runs_tool(command_line: &str, tools: &[String]) -> bool {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in command_line.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => args.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    args.push(current);
    args.iter()
        .filter(|a| !a.is_empty())
        .skip(1)
        .filter_map(|a| original_file_name(a))
        .any(|name| tools.contains(&name))
}

/// The checked catalog.
#[derive(Debug, Clone)]
pub struct Catalog {
    file: CatalogFile,
    lists: BTreeMap<String, CompiledList>,
}

/// One row checked against a connection's process (`seldom explain`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowCheck {
    pub variation: String,
    pub severity: Severity,
    pub matched: bool,
    /// Why it matched, or the first condition that failed.
    pub because: String,
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
        let lists: BTreeMap<String, CompiledList> = file
            .lists
            .iter()
            .map(|(name, list)| {
                let compiled = CompiledList {
                    names: list.member_names().filter_map(image_name).collect(),
                    hosted: list
                        .hosted
                        .iter()
                        .filter_map(|h| {
                            let tools = h.runs.iter().filter_map(|t| image_name(t)).collect();
                            Some((image_name(&h.host)?, tools))
                        })
                        .collect(),
                };
                (name.clone(), compiled)
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
        let Some(compiled) = self.lists.get(list) else {
            return false;
        };
        let mut names = view
            .image
            .and_then(image_name)
            .into_iter()
            .chain(view.original_file_name.and_then(original_file_name));
        names.any(|name| {
            compiled.names.contains(&name)
                || compiled.hosted.iter().any(|(host, tools)| {
                    *host == name && view.command_line.is_some_and(|c| runs_tool(c, tools))
                })
        })
    }

    /// Every row against `subject`: whether it matched and why, or the
    /// first of its conditions that failed (what `seldom explain` shows).
    pub fn evaluate(&self, subject: &MatchSubject<'_>) -> Vec<RowCheck> {
        self.file
            .variations
            .iter()
            .map(|v| match self.why_not(&v.matcher, subject) {
                None => RowCheck {
                    variation: v.id.clone(),
                    severity: v.severity,
                    matched: true,
                    because: self.explain(v, subject),
                },
                Some(failed) => RowCheck {
                    variation: v.id.clone(),
                    severity: v.severity,
                    matched: false,
                    because: failed,
                },
            })
            .collect()
    }

    fn matches(&self, m: &MatchSpec, s: &MatchSubject<'_>) -> bool {
        self.why_not(m, s).is_none()
    }

    /// The first condition of `m` that `s` fails, in words; `None` when all hold.
    fn why_not(&self, m: &MatchSpec, s: &MatchSubject<'_>) -> Option<String> {
        let name = s
            .process
            .image
            .and_then(image_name)
            .unwrap_or_else(|| "unknown".to_owned());
        if !m.platforms.is_empty() && !m.platforms.contains(&s.platform) {
            return Some(format!(
                "only on {:?}; this is {:?}",
                m.platforms, s.platform
            ));
        }
        if let Some(list) = &m.process_in
            && !self.in_list(list, &s.process)
        {
            return Some(format!("the process ({name}) is not in `{list}`"));
        }
        if let Some(list) = &m.self_or_ancestor_in
            && !(self.in_list(list, &s.process)
                || s.ancestors.iter().any(|a| self.in_list(list, a)))
        {
            return Some(format!(
                "neither the process ({name}) nor any of its {} known ancestors is in `{list}`",
                s.ancestors.len()
            ));
        }
        if let Some(list) = &m.ancestor_in
            && !s.ancestors.iter().any(|a| self.in_list(list, a))
        {
            return Some(format!(
                "none of its {} known ancestors is in `{list}`",
                s.ancestors.len()
            ));
        }
        if let Some(list) = &m.no_ancestor_in
            && let Some(a) = s.ancestors.iter().find(|a| self.in_list(list, a))
        {
            let ancestor = a.image.and_then(image_name).unwrap_or_default();
            return Some(format!("its ancestor {ancestor} is in `{list}`"));
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
                return Some(format!(
                    "neither the process nor an ancestor mentions {:?}",
                    m.self_or_ancestor_mentions
                ));
            }
        }
        None
    }
}
