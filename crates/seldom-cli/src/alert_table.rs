//! The `table` rendering of alerts for people at a terminal, grouped by
//! incident.
//!
//! Command lines, host and domain names are attacker-controlled: every control
//! character (a newline, an ANSI escape that would repaint the terminal) and
//! every invisible formatting character (a bidirectional override such as
//! U+202E, which shows `exe.txt` for `txt.exe`; a zero-width space) is shown
//! escaped, never interpreted.

use std::fmt::Write;

use seldom_detect::{Alert, IncidentRef};

/// Escapes control and invisible formatting characters so a string shows as
/// itself, in its own order, on one line.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else if is_invisible_format(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// Unicode format characters (category Cf) that reorder or hide text: the
/// bidirectional marks, embeddings, overrides and isolates, zero-width
/// characters, invisible operators, the byte order mark, interlinear
/// annotation and tag characters.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

pub fn render(alert: &Alert) -> String {
    let mut out = String::new();
    let severity = format!("{:?}", alert.severity).to_uppercase();
    let _ = writeln!(
        out,
        "[{severity}] {} ({})",
        printable(&alert.name),
        alert.variation
    );
    let _ = writeln!(out, "  {}", printable(&alert.explanation));
    let _ = writeln!(out, "  time      {} (id {})", alert.first_seen, alert.id);
    let _ = writeln!(
        out,
        "  host      {}  user {}",
        printable(&alert.host),
        printable(alert.user.as_deref().unwrap_or("-"))
    );
    let _ = writeln!(
        out,
        "  process   {} (pid {})",
        printable(alert.process.image.as_deref().unwrap_or("-")),
        alert.process.pid.map_or("-".to_owned(), |p| p.to_string())
    );
    if let Some(cmd) = &alert.process.command_line {
        let _ = writeln!(out, "  command   {}", printable(cmd));
    }
    for (depth, ancestor) in alert.chain.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {}└ {}  {}",
            "  ".repeat(depth),
            printable(ancestor.image.as_deref().unwrap_or("?")),
            printable(ancestor.command_line.as_deref().unwrap_or(""))
        );
    }
    let d = &alert.destination;
    let _ = writeln!(
        out,
        "  dest      {}:{} {} key {}{}{}",
        d.ip,
        d.port.map_or("-".to_owned(), |p| p.to_string()),
        d.protocol.as_deref().unwrap_or(""),
        printable(&d.key.to_string()),
        d.forward_name
            .as_deref()
            .map(|n| format!(" asked as {}", printable(n)))
            .unwrap_or_default(),
        d.hostname
            .as_deref()
            .map(|n| format!(" logged as {}", printable(n)))
            .unwrap_or_default(),
    );
    if !alert.also_matched.is_empty() {
        let _ = writeln!(out, "  also      {}", alert.also_matched.join(", "));
    }
    if let Some(beacon) = &alert.beacon {
        let _ = writeln!(
            out,
            "  beacon    {} contacts, median interval {:.0} s, dispersion {:.2}, {} to {}",
            beacon.contacts,
            beacon.median_interval_seconds,
            beacon.dispersion,
            beacon.first,
            beacon.last
        );
    }
    let _ = writeln!(
        out,
        "  next      {}",
        printable(&alert.investigative_actions)
    );
    out
}

/// Alerts grouped by incident, incidents in the order of their first alert:
/// a header per incident of more than one host or alert that names its
/// destination and every host (alerted or spread), then its alerts.
pub fn render_by_incident(alerts: &[Alert]) -> String {
    let mut groups: Vec<(Option<&IncidentRef>, Vec<&Alert>)> = Vec::new();
    let mut by_id: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for alert in alerts {
        let incident = alert.incident.as_ref();
        match incident.and_then(|i| by_id.get(i.id.as_str())) {
            Some(&at) => groups[at].1.push(alert),
            None => {
                if let Some(i) = incident {
                    by_id.insert(i.id.as_str(), groups.len());
                }
                groups.push((incident, vec![alert]));
            }
        }
    }
    let mut out = String::new();
    for (incident, members) in groups {
        // An incident of one host and one alert is that alert: no header.
        if let Some(incident) = incident.filter(|i| i.hosts.len() > 1 || members.len() > 1) {
            out.push_str(&incident_header(incident, &members));
        }
        for alert in members {
            out.push_str(&render(alert));
        }
        out.push('\n');
    }
    out
}

fn incident_header(incident: &IncidentRef, members: &[&Alert]) -> String {
    let alerted: Vec<&str> = members.iter().map(|a| a.host.as_str()).collect();
    let spread: Vec<String> = incident
        .hosts
        .iter()
        .filter(|h| !alerted.contains(&h.as_str()))
        .map(|h| printable(h))
        .collect();
    let severity = members.iter().map(|a| a.severity).max();
    let first = members.iter().map(|a| a.first_seen).min();
    let last = members.iter().map(|a| a.last_seen).max();
    let mut hosts: Vec<String> = incident.hosts.iter().map(|h| printable(h)).collect();
    hosts.dedup();
    format!(
        "=== incident {} [{}] {}: {} host{} ({} alerted{}), {} alert{}, {} to {}\n    hosts {}\n",
        incident.id,
        severity.map_or("-".to_owned(), |s| format!("{s:?}").to_uppercase()),
        printable(&members[0].destination.key.to_string()),
        incident.hosts.len(),
        if incident.hosts.len() == 1 { "" } else { "s" },
        incident.hosts.len().saturating_sub(spread.len()),
        if spread.is_empty() {
            String::new()
        } else {
            format!(", spread to {}", spread.join(", "))
        },
        members.len(),
        if members.len() == 1 { "" } else { "s" },
        first.map_or("-".to_owned(), |t| t.to_string()),
        last.map_or("-".to_owned(), |t| t.to_string()),
        hosts.join(", "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("a\nb\u{1b}[31mc"), "a\\nb\\u{1b}[31mc");
        assert_eq!(
            printable("<script>alert(1)</script>"),
            "<script>alert(1)</script>"
        );
    }

    #[test]
    fn bidirectional_overrides_and_invisible_characters_are_escaped() {
        assert_eq!(
            printable("invoice\u{202E}fdp.exe"),
            "invoice\\u{202e}fdp.exe"
        );
        assert_eq!(
            printable("a\u{200B}b\u{2066}c\u{FEFF}"),
            "a\\u{200b}b\\u{2066}c\\u{feff}"
        );
        assert_eq!(printable("Zürich 東京"), "Zürich 東京");
    }
}
