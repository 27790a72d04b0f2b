//! The `table` rendering of alerts for people at a terminal.
//!
//! Command lines, host and domain names are attacker-controlled: every control
//! character (a newline, an ANSI escape that would repaint the terminal) and
//! every invisible formatting character (a bidirectional override such as
//! U+202E, which shows `exe.txt` for `txt.exe`; a zero-width space) is shown
//! escaped, never interpreted.

use std::fmt::Write;

use seldom_detect::Alert;

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
    let _ = writeln!(
        out,
        "  next      {}",
        printable(&alert.investigative_actions)
    );
    out
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
