//! A plain text table aligned by display width, so names like "café-α" or CJK line up.

use unicode_width::UnicodeWidthStr;

pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<Cell>>,
}

/// A cell's text plus optional ANSI colour that does not count towards the width.
pub struct Cell {
    text: String,
    color: Option<&'static str>,
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell { text, color: None }
    }
}

impl Cell {
    pub fn colored(text: String, color: Option<&'static str>) -> Self {
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
}
