//! `--set path.to.key=value` overrides on a parsed config, before it is typed.

use thiserror::Error;

/// Why an override could not be applied.
#[derive(Debug, Error, PartialEq)]
#[error("--set {assignment}: {reason}")]
pub struct SetError {
    /// The assignment as given.
    pub assignment: String,
    /// What went wrong.
    pub reason: String,
}

/// Applies one `KEY=VALUE` assignment. KEY is a dotted path whose numeric parts index arrays
/// (`inputs.0.correlation`); VALUE is any TOML value, or a bare string.
pub fn apply_set(root: &mut toml::Table, assignment: &str) -> Result<(), SetError> {
    let fail = |reason: String| SetError {
        assignment: assignment.to_string(),
        reason,
    };
    let (key, raw) = assignment
        .split_once('=')
        .ok_or_else(|| fail("expected KEY=VALUE".into()))?;
    let (key, raw) = (key.trim(), raw.trim());
    if key.is_empty() {
        return Err(fail("empty key".into()));
    }
    let value = parse_value(raw);
    let parts: Vec<&str> = key.split('.').collect();
    let (last, walk) = parts.split_last().expect("split yields at least one part");

    let mut node = Node::Table(root);
    for (depth, part) in walk.iter().enumerate() {
        let here = parts[..=depth].join(".");
        node = match node {
            Node::Table(t) => {
                let entry = t
                    .entry(part.to_string())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                Node::from_value(entry).ok_or_else(|| fail(format!("`{here}` is not a table")))?
            }
            Node::Array(a) => {
                let len = a.len();
                let index = parse_index(part)
                    .filter(|i| *i < len)
                    .ok_or_else(|| fail(format!("`{here}`: index must be below {len}")))?;
                Node::from_value(&mut a[index]).ok_or_else(|| fail(format!("`{here}` is not a table")))?
            }
        };
    }
    match node {
        Node::Table(t) => {
            t.insert(last.to_string(), value);
        }
        Node::Array(a) => {
            let len = a.len();
            let index = parse_index(last)
                .filter(|i| *i < len)
                .ok_or_else(|| fail(format!("`{key}`: index must be below {len}")))?;
            a[index] = value;
        }
    }
    Ok(())
}

enum Node<'a> {
    Table(&'a mut toml::Table),
    Array(&'a mut Vec<toml::Value>),
}

impl<'a> Node<'a> {
    fn from_value(v: &'a mut toml::Value) -> Option<Self> {
        match v {
            toml::Value::Table(t) => Some(Node::Table(t)),
            toml::Value::Array(a) => Some(Node::Array(a)),
            _ => None,
        }
    }
}

fn parse_index(s: &str) -> Option<usize> {
    s.parse().ok()
}

/// A TOML value if `raw` is one (`1e-3`, `true`, `"E"`, `[1, 2]`), else the raw text as a string.
fn parse_value(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(s: &str) -> toml::Table {
        s.parse().unwrap()
    }

    #[test]
    fn sets_nested_array_and_scalar_keys() {
        let mut t = table("n = 5\n[[inputs]]\ncorrelation = 0.0\n[record]\nspikes = true\n");
        apply_set(&mut t, "n=2000").unwrap();
        apply_set(&mut t, "inputs.0.correlation=0.1").unwrap();
        apply_set(&mut t, "record.spikes=false").unwrap();
        apply_set(&mut t, "guard.max_rate_hz = 50").unwrap();
        assert_eq!(t["n"].as_integer(), Some(2000));
        assert_eq!(t["inputs"][0]["correlation"].as_float(), Some(0.1));
        assert_eq!(t["record"]["spikes"].as_bool(), Some(false));
        assert_eq!(t["guard"]["max_rate_hz"].as_integer(), Some(50));
    }

    #[test]
    fn bare_words_become_strings() {
        let mut t = table("[[projections]]\nfrom = \"E\"\n");
        apply_set(&mut t, "projections.0.from=I").unwrap();
        assert_eq!(t["projections"][0]["from"].as_str(), Some("I"));
    }

    #[test]
    fn refuses_bad_paths() {
        let mut t = table("n = 5\n[[inputs]]\nrate_hz = 1.0\n");
        assert!(apply_set(&mut t, "inputs.3.rate_hz=2").is_err());
        assert!(apply_set(&mut t, "n.x=2").is_err());
        assert!(apply_set(&mut t, "novalue").is_err());
    }
}
