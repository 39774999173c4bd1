//! A plain text table aligned by display width, so names like "café-α" or CJK line up. Every
//! cell is escaped for the terminal here, once, before its width is measured: cells hold Name
//! tags and other text that anyone with `ec2:CreateTags` writes.

use keyless_core::terminal_text;
use unicode_width::UnicodeWidthStr;

pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<Cell>>,
}

/// A cell's text (escaped) plus optional ANSI colour that does not count towards the width.
pub struct Cell {
    text: String,
    color: Option<&'static str>,
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell::colored(text, None)
    }
}

impl Cell {
    pub fn colored(text: String, color: Option<&'static str>) -> Self {
        let text = match terminal_text::escape(&text) {
            std::borrow::Cow::Borrowed(_) => text,
            std::borrow::Cow::Owned(escaped) => escaped,
        };
        Cell { text, color }
    }
}

impl Table {
    pub fn new(headers: Vec<&'static str>) -> Self {
        Table {
            headers,
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }

    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.width()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.text.width());
            }
        }
        let mut out = String::new();
        let header: Vec<Cell> = self
            .headers
            .iter()
            .map(|h| Cell::from(h.to_string()))
            .collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
                let pad = w - cell.text.width();
                match cell.color {
                    Some(c) => line.push_str(&format!("\x1b[{c}m{}\x1b[0m", cell.text)),
                    None => line.push_str(&cell.text),
                }
                if i + 1 < row.len() {
                    line.push_str(&" ".repeat(pad + 2));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_by_display_width_and_ignores_colour_codes() {
        let mut t = Table::new(vec!["NAME", "STATE"]);
        t.push(vec![
            "café-α".to_string().into(),
            Cell::colored("running".into(), Some("32")),
        ]);
        t.push(vec!["db".to_string().into(), "stopped".to_string().into()]);
        let out = t.render();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "NAME    STATE");
        assert_eq!(lines[1], "café-α  \x1b[32mrunning\x1b[0m");
        assert_eq!(lines[2], "db      stopped");
    }

    #[test]
    fn control_and_bidi_characters_are_escaped_and_columns_measured_after() {
        let mut t = Table::new(vec!["NAME", "STATE"]);
        t.push(vec![
            "web\x1b]0;x\x07\u{202e}".to_string().into(),
            "running".to_string().into(),
        ]);
        t.push(vec!["db".to_string().into(), "stopped".to_string().into()]);
        let out = t.render();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "NAME                   STATE");
        assert_eq!(lines[1], "web\\x1b]0;x\\x07\\u202e  running");
        assert_eq!(lines[2], "db                     stopped");
        assert!(!out.contains('\x1b') && !out.contains('\u{202e}'));
    }
}
