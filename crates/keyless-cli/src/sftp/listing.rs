//! `ls` and `lls` output: one name per line, or `-l`'s mode, size, time and name. Remote names
//! are the server's text, so they are escaped before they reach the terminal.

use keyless_core::files::{EntryKind, RemoteEntry};
use keyless_core::terminal_text::escape;
use std::path::Path;

pub fn print_remote<'a>(entries: impl Iterator<Item = &'a RemoteEntry>, long: bool) {
    for e in entries {
        if long {
            println!(
                "{} {:>12} {} {}",
                mode_text(e.kind, e.mode),
                e.size,
                e.modified.map_or_else(|| "-".repeat(16), time_text),
                escape(&e.name)
            );
        } else {
            let slash = if e.is_dir() { "/" } else { "" };
            println!("{}{slash}", escape(&e.name));
        }
    }
}

pub fn print_local(dir: &Path) -> keyless_core::Result<()> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok())
        .map(|entry| {
            let slash = if entry.file_type().is_ok_and(|t| t.is_dir()) {
                "/"
            } else {
                ""
            };
            format!("{}{slash}", entry.file_name().to_string_lossy())
        })
        .collect();
    names.sort();
    for name in names {
        println!("{}", escape(&name));
    }
    Ok(())
}

/// `drwxr-xr-x` from the kind and the permission bits.
fn mode_text(kind: EntryKind, mode: u32) -> String {
    let kind = match kind {
        EntryKind::Dir => 'd',
        EntryKind::Symlink => 'l',
        EntryKind::File => '-',
        EntryKind::Other => '?',
    };
    let bits = (0..9).rev().map(|i| {
        if mode & (1 << i) == 0 {
            '-'
        } else {
            ['x', 'w', 'r'][i % 3]
        }
    });
    std::iter::once(kind).chain(bits).collect()
}

/// `2026-12-01 15:04` in UTC, from Unix seconds.
fn time_text(secs: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    let stamp = keyless_core::profiles::format_rfc3339(t); // 2026-12-01T15:04:00Z
    let part = |r: std::ops::Range<usize>| stamp.get(r).unwrap_or_default().to_owned();
    format!("{} {}", part(0..10), part(11..16))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_times_read_like_ls() {
        assert_eq!(mode_text(EntryKind::Dir, 0o40755), "drwxr-xr-x");
        assert_eq!(mode_text(EntryKind::File, 0o100640), "-rw-r-----");
        assert_eq!(time_text(0), "1970-01-01 00:00");
        assert_eq!(time_text(1_796_137_440), "2026-12-01 15:04");
    }
}
