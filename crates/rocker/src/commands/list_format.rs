//! `--format` of the list verbs (`ps`, `images`, `system df`): Docker's Go-template subset
//! over one row of string fields — `{{.Field}}`, `{{json .}}`, `{{json .Field}}`,
//! `{{.Label "key"}}` — with the `table` prefix (a header row, columns aligned like
//! docker's tabwriter) and the `json` shorthand (`{{json .}}`).

use std::collections::BTreeMap;

use crate::table::render;

/// One row: its fields (strings, in docker's JSON) and its labels (for `.Label "k"`).
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub fields: BTreeMap<&'static str, String>,
    pub labels: BTreeMap<String, String>,
}

/// A parsed `--format`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// The verb's default table.
    Default,
    /// `table <template>`: header row plus aligned columns.
    Table(String),
    /// One rendered template per row.
    Raw(String),
}

impl Format {
    pub fn parse(spec: Option<&str>) -> Format {
        let Some(spec) = spec.filter(|s| !s.is_empty()) else {
            return Format::Default;
        };
        let spec = unescape(spec);
        if spec == "table" {
            return Format::Default;
        }
        if spec == "json" {
            return Format::Raw("{{json .}}".into());
        }
        match spec.strip_prefix("table ") {
            Some(t) => Format::Table(t.to_string()),
            None => Format::Raw(spec),
        }
    }

    /// Whether a template uses `field` (or every field, through `{{json .}}`).
    pub fn uses(&self, field: &str) -> bool {
        match self {
            Format::Default => false,
            Format::Table(t) | Format::Raw(t) => {
                t.contains(&format!(".{field}")) || t.replace(' ', "").contains("json.}}")
            }
        }
    }
}

/// Docker lets `\t` and `\n` be typed literally in a format.
fn unescape(s: &str) -> String {
    s.replace("\\t", "\t").replace("\\n", "\n")
}

/// Renders `rows` through a `Table` or `Raw` format; `headers` maps field names to the
/// column titles of the table's header.
pub fn render_rows(
    format: &Format,
    rows: &[Row],
    headers: &[(&str, &str)],
) -> Result<String, String> {
    match format {
        Format::Default => Ok(String::new()),
        Format::Raw(t) => {
            let mut out = String::new();
            for r in rows {
                out.push_str(&render_one(t, r, None)?);
                out.push('\n');
            }
            Ok(out)
        }
        Format::Table(t) => {
            let mut lines = vec![render_one(t, &Row::default(), Some(headers))?];
            for r in rows {
                lines.push(render_one(t, r, None)?);
            }
            let table: Vec<Vec<String>> = lines
                .iter()
                .map(|l| l.split('\t').map(str::to_string).collect())
                .collect();
            Ok(render(&table))
        }
    }
}

/// One row through the template; with `headers`, the header line instead.
fn render_one(t: &str, row: &Row, headers: Option<&[(&str, &str)]>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = t;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .ok_or_else(|| format!("template: unclosed action in {t:?}"))?;
        let action = rest[start + 2..start + end].trim();
        out.push_str(&action_value(action, row, headers)?);
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn action_value(
    action: &str,
    row: &Row,
    headers: Option<&[(&str, &str)]>,
) -> Result<String, String> {
    let unsupported = || format!("template: unsupported action {{{{{action}}}}}");
    if let Some(arg) = action.strip_prefix(".Label ") {
        let key = arg.trim().trim_matches('"');
        return Ok(match headers {
            Some(_) => "LABEL".to_string(),
            None => row.labels.get(key).cloned().unwrap_or_default(),
        });
    }
    let (json, path) = match action.strip_prefix("json ") {
        Some(p) => (true, p.trim()),
        None => (false, action),
    };
    let field = path.strip_prefix('.').ok_or_else(unsupported)?;
    if let Some(h) = headers {
        if field.is_empty() {
            return Ok(String::new());
        }
        return Ok(h
            .iter()
            .find(|(f, _)| *f == field)
            .map_or_else(|| field.to_ascii_uppercase(), |(_, t)| t.to_string()));
    }
    if field.is_empty() {
        if json {
            return serde_json::to_string(&row.fields).map_err(|e| e.to_string());
        }
        return Ok(format!(
            "{{{}}}",
            row.fields.values().cloned().collect::<Vec<_>>().join(" ")
        ));
    }
    let value = row
        .fields
        .get(field)
        .ok_or_else(|| format!("template: can't evaluate field {field}"))?;
    if json {
        serde_json::to_string(value).map_err(|e| e.to_string())
    } else {
        Ok(value.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Row {
        let mut r = Row::default();
        r.fields.insert("ID", "abc".into());
        r.fields.insert("Names", "web".into());
        r.labels.insert("k".into(), "v".into());
        r
    }

    #[test]
    fn formats() {
        let heads = [("ID", "CONTAINER ID"), ("Names", "NAMES")];
        let f = Format::parse(Some("table {{.ID}}\\t{{.Names}}"));
        assert_eq!(
            render_rows(&f, &[row()], &heads).unwrap(),
            "CONTAINER ID   NAMES\nabc            web\n"
        );
        let f = Format::parse(Some("{{.Names}}:{{.Label \"k\"}}"));
        assert_eq!(render_rows(&f, &[row()], &heads).unwrap(), "web:v\n");
        let f = Format::parse(Some("json"));
        assert_eq!(
            render_rows(&f, &[row()], &heads).unwrap(),
            "{\"ID\":\"abc\",\"Names\":\"web\"}\n"
        );
        assert!(f.uses("Size"));
        assert!(render_rows(&Format::parse(Some("{{.Nope}}")), &[row()], &heads).is_err());
        assert_eq!(Format::parse(Some("table")), Format::Default);
    }
}
