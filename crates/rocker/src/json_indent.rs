//! Re-indents a JSON document without reordering it, for `inspect` output.
//!
//! Docker prints inspect results with Go's `json.MarshalIndent(v, "", "    ")`. Parsing into
//! `serde_json::Value` would sort the keys, so the daemon's bytes are re-indented as they
//! are, with the same layout rules (empty `{}`/`[]` stay on one line, `": "` after keys).

/// Appends `json` re-indented at `depth` levels of 4 spaces to `out`.
pub fn indent_into(out: &mut String, json: &str, depth: usize) {
    let mut level = depth;
    let mut in_string = false;
    let mut escaped = false;
    let chars: Vec<char> = json.chars().collect();
    let mut i = 0;
    let newline = |out: &mut String, level: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', level * 4));
    };
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                // Empty container: keep on one line.
                let mut j = i;
                while j < chars.len() && chars[j].is_ascii_whitespace() {
                    j += 1;
                }
                let close = if c == '{' { '}' } else { ']' };
                if j < chars.len() && chars[j] == close {
                    out.push(c);
                    out.push(close);
                    i = j + 1;
                } else {
                    out.push(c);
                    level += 1;
                    newline(out, level);
                }
            }
            '}' | ']' => {
                level = level.saturating_sub(1);
                newline(out, level);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(out, level);
            }
            ':' => out.push_str(": "),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
}

/// `[doc1, doc2, ...]` laid out like `docker inspect`.
pub fn indent_array(docs: &[String]) -> String {
    if docs.is_empty() {
        return "[]".to_string();
    }
    let mut out = String::from("[");
    for (n, d) in docs.iter().enumerate() {
        out.push_str(if n == 0 { "\n    " } else { ",\n    " });
        indent_into(&mut out, d.trim(), 1);
    }
    out.push_str("\n]");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_go() {
        let doc = r#"{"Id":"a","Args":[],"Env":["A=1","B=\"{x,y}\""],"Labels":{},"N":null,"State":{"Pid":1}}"#;
        let out = indent_array(&[doc.to_string()]);
        let want = "[\n    {\n        \"Id\": \"a\",\n        \"Args\": [],\n        \"Env\": [\n            \"A=1\",\n            \"B=\\\"{x,y}\\\"\"\n        ],\n        \"Labels\": {},\n        \"N\": null,\n        \"State\": {\n            \"Pid\": 1\n        }\n    }\n]";
        assert_eq!(out, want);
        assert_eq!(indent_array(&[]), "[]");
    }
}
