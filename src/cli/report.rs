//! What a command prints on stdout: with `--json` one JSON document whose
//! field names are stable (README "Command line"), for scripts; else the
//! same fields as text for people: an object as `field  value` lines, a
//! list as a table. A note (a secret shown once) goes to stderr, so that
//! stdout holds the result alone.

use serde_json::Value;

pub struct Report {
    value: Value,
    note: Option<&'static str>,
}

impl Report {
    pub fn new(value: Value) -> Report {
        Report { value, note: None }
    }

    pub fn note(mut self, note: &'static str) -> Report {
        self.note = Some(note);
        self
    }

    pub fn print(&self, json: bool) {
        if json {
            println!(
                "{}",
                serde_json::to_string_pretty(&self.value).expect("JSON values serialize")
            );
        } else {
            print!("{}", human(&self.value));
        }
        if let Some(note) = self.note {
            eprintln!("{note}");
        }
    }
}

/// The text form of a result.
pub fn human(value: &Value) -> String {
    match value {
        Value::Array(items) => table(items),
        Value::Object(_) => {
            let mut rows = Vec::new();
            flatten("", value, &mut rows);
            let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
            rows.iter()
                .map(|(k, v)| format!("{k:width$}  {v}\n"))
                .collect()
        }
        other => format!("{}\n", scalar(other)),
    }
}

/// The fields of an object, nested ones as `owner.email`.
fn flatten(prefix: &str, value: &Value, rows: &mut Vec<(String, String)>) {
    let Value::Object(map) = value else {
        rows.push((prefix.to_string(), scalar(value)));
        return;
    };
    for (key, v) in map {
        let key = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match v {
            Value::Object(_) => flatten(&key, v, rows),
            _ => rows.push((key, scalar(v))),
        }
    }
}

/// One value as a cell: strings bare, lists comma-separated, nothing as `-`.
fn scalar(value: &Value) -> String {
    match value {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "-".into(),
        Value::Array(items) => items.iter().map(scalar).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// Objects as rows under a header of the first one's fields.
fn table(items: &[Value]) -> String {
    let rows: Vec<Vec<(String, String)>> = items
        .iter()
        .map(|item| {
            let mut row = Vec::new();
            flatten("", item, &mut row);
            row
        })
        .collect();
    let Some(first) = rows.first() else {
        return "(none)\n".into();
    };
    let header: Vec<String> = first.iter().map(|(k, _)| k.clone()).collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|(_, v)| v.clone()).collect())
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            cells
                .iter()
                .map(|row| row.get(i).map_or(0, String::len))
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |values: &[String]| {
        let padded: Vec<String> = values
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:w$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    std::iter::once(line(&header))
        .chain(cells.iter().map(|row| line(row)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_print_as_aligned_fields() {
        let text = human(&json!({
            "id": "t1",
            "name": "Acme",
            "owner": { "email": "o@acme.example", "password": null },
            "roles": ["owner", "admin"],
            "grants": [],
        }));
        assert_eq!(
            text,
            "id              t1\n\
             name            Acme\n\
             owner.email     o@acme.example\n\
             owner.password  -\n\
             roles           owner, admin\n\
             grants          -\n"
        );
    }

    #[test]
    fn lists_print_as_tables() {
        let text = human(&json!([
            { "slug": "acme", "status": "active" },
            { "slug": "globex-corp", "status": "suspended" },
        ]));
        assert_eq!(
            text,
            "slug         status\n\
             acme         active\n\
             globex-corp  suspended\n"
        );
        assert_eq!(human(&json!([])), "(none)\n");
    }
}
