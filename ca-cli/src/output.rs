//! The one renderer: every command returns a typed [`Output`], printed as one JSON
//! document on stdout with `--json`, else as text for people. Errors likewise: a
//! message on stderr, and with `--json` also `{"error": {"code", "message"}}` on
//! stdout.

use crate::error::CliError;
use ca_core::api::ErrorBody;
use serde::Serialize;
use serde_json::Value;

/// What a command prints.
pub trait Output: Serialize {
    /// The text for people; by default the JSON laid out as an indented outline.
    fn human(&self) -> String {
        serde_json::to_value(self).map(|v| outline(&v, 0)).unwrap_or_default()
    }
}

/// Print `out` as JSON or text.
pub fn print<T: Output>(out: &T, json: bool) -> Result<(), CliError> {
    if json {
        let text = serde_json::to_string(out).map_err(|e| CliError::internal("output", e.to_string()))?;
        println!("{text}");
    } else {
        println!("{}", for_terminal(&out.human()));
    }
    Ok(())
}

/// Text as a terminal may show it: control characters other than line ends and
/// tabs (an ANSI escape sequence), bidirectional overrides and other format
/// characters are written as `\u{…}`, so that nothing read from a certificate, a
/// file or the database can recolour the terminal, move its cursor or make a name
/// read backwards. JSON output is left as it is (its escaping is the reader's).
pub fn for_terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\n' | '\t') || !ca_core::profile::is_forbidden_in_name(c) {
            out.push(c);
        } else {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        }
    }
    out
}

/// Print an error: on stderr always, and as JSON on stdout with `--json`.
pub fn print_error(e: &CliError, json: bool) {
    eprintln!("error: {}", for_terminal(&e.message));
    if json && !e.printed {
        if let Ok(text) = serde_json::to_string(&ErrorBody::new(e.code, &e.message)) {
            println!("{text}");
        }
    }
}

/// A JSON value as an indented outline, nulls left out.
fn outline(v: &Value, indent: usize) -> String {
    let pad = "  ".repeat(indent);
    match v {
        Value::Object(m) => m
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| match v {
                Value::Object(_) | Value::Array(_) => format!("{pad}{k}:\n{}", outline(v, indent + 1)),
                _ => format!("{pad}{k}: {}", outline(v, 0)),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Array(a) if a.is_empty() => format!("{pad}(none)"),
        Value::Array(a) => a.iter().map(|x| format!("{pad}-\n{}", outline(x, indent + 1))).collect::<Vec<_>>().join("\n"),
        Value::String(s) => format!("{pad}{s}"),
        other => format!("{pad}{other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Sample {
        name: &'static str,
        gone: Option<u8>,
        items: Vec<u8>,
    }
    impl Output for Sample {}

    #[test]
    fn escapes_bidi_and_terminal_controls_but_keeps_lines() {
        let shown = for_terminal("ЦОН \u{202e}анатсА\n\u{1b}[31mred\tok\u{7}");
        assert_eq!(shown, "ЦОН \\u{202e}анатсА\n\\u{1b}[31mred\tok\\u{7}");
        assert!(!shown.chars().any(|c| c == '\u{1b}' || c == '\u{202e}'));
    }

    #[test]
    fn outline_leaves_out_nulls_and_indents() {
        let s = Sample { name: "x", gone: None, items: vec![1] };
        assert_eq!(s.human(), "items:\n  -\n    1\nname: x");
    }
}
