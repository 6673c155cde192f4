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
        println!("{}", out.human());
    }
    Ok(())
}

/// Print an error: on stderr always, and as JSON on stdout with `--json`.
pub fn print_error(e: &CliError, json: bool) {
    eprintln!("error: {}", e.message);
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
    fn outline_leaves_out_nulls_and_indents() {
        let s = Sample { name: "x", gone: None, items: vec![1] };
        assert_eq!(s.human(), "items:\n  -\n    1\nname: x");
    }
}
