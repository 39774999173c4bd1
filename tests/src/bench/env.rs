//! The environment every measured command sees: the lab's variables and a private HOME, nothing
//! from the developer (no ~/.aws, no ~/.ssh, no agent), as the CLI tests do.

use std::path::{Path, PathBuf};

use keyless_lab::Lab;
use tempfile::TempDir;

pub struct BenchHome {
    dir: TempDir,
}

impl BenchHome {
    pub fn new() -> std::io::Result<BenchHome> {
        let dir = tempfile::Builder::new()
            .prefix("keyless-bench-")
            .tempdir()?;
        std::fs::create_dir_all(dir.path().join("tmp"))?;
        Ok(BenchHome { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Scratch space for the bench's own files (helper reports, the floor key).
    pub fn scratch(&self) -> PathBuf {
        self.dir.path().join("tmp")
    }

    pub fn vars(&self, lab: &Lab) -> Vec<(String, String)> {
        let mut vars = lab.env();
        let home = self.path().display().to_string();
        vars.extend([
            ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
            ("HOME".into(), home.clone()),
            ("XDG_DATA_HOME".into(), format!("{home}/.local/share")),
            ("XDG_CONFIG_HOME".into(), format!("{home}/.config")),
            ("XDG_CACHE_HOME".into(), format!("{home}/.cache")),
            ("TMPDIR".into(), self.scratch().display().to_string()),
            ("NO_COLOR".into(), "1".into()),
            ("LANG".into(), "C.UTF-8".into()),
        ]);
        vars
    }
}

/// Looks `name` up in `value` of a `(key, value)` list.
pub fn var<'a>(vars: &'a [(String, String)], name: &str) -> Option<&'a str> {
    vars.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `prog` as an absolute path: as given if it has a slash, else the first match on PATH.
pub fn which(prog: &str) -> Option<PathBuf> {
    if prog.contains('/') {
        let p = PathBuf::from(prog);
        return p.is_file().then_some(p);
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join(prog))
            .find(|p| p.is_file())
    })
}
