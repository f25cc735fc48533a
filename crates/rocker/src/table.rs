//! Column-aligned tables like the docker CLI's tabwriter output.
//!
//! Docker formats tables with `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`: every column but
//! the last is padded to its widest cell plus 3 spaces, and to at least 10 characters; the
//! last column is printed as is. Widths count characters (so `…` is one).

/// Renders rows (the first is the header) into lines ending in `\n`.
pub fn render(rows: &[Vec<String>]) -> String {
    let ncols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; ncols];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                let col = (widths[i] + 3).max(10);
                let pad = col - cell.chars().count();
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Docker's `Ellipsis`: cut to `max` characters, the last one replaced by `…`.
pub fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// Go's `strconv.Quote` for the characters a command line contains.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Short (12 hex digits) form of an id, without a `sha256:` prefix.
pub fn short_id(id: &str) -> String {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    id.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn aligned_like_tabwriter() {
        let out = render(&[
            row(&["CONTAINER ID", "IMAGE", "NAMES"]),
            row(&["0123456789ab", "busybox:latest", "web"]),
        ]);
        assert_eq!(
            out,
            "CONTAINER ID   IMAGE            NAMES\n0123456789ab   busybox:latest   web\n"
        );
        // Short columns still take 10 characters.
        assert_eq!(render(&[row(&["A", "B"])]), "A         B\n");
    }

    #[test]
    fn ellipsis_and_quote() {
        assert_eq!(
            ellipsis("sh -c 'sleep 1000; echo'", 20),
            "sh -c 'sleep 1000; …"
        );
        assert_eq!(ellipsis("true", 20), "true");
        assert_eq!(go_quote("echo \"hi\""), "\"echo \\\"hi\\\"\"");
        assert_eq!(short_id("sha256:0123456789abcdef"), "0123456789ab");
    }
}
