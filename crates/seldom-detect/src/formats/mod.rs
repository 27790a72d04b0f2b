//! The same alert in the schemas SIEMs take: ECS (an Elastic Security alert)
//! and OCSF (a Detection Finding). Pure functions from [`crate::Alert`] to a
//! JSON value; the sink writes them.

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
