//! This machine → the instance: walk the local sources, push each file through a pipeline of
//! writes into its temporary name on the instance, then rename it into place there.

use super::plan::{self, Target};
use super::progress::{FileProgress, Tally};
use super::{is_fatal, part_name, TransferOptions, TransferReport, TransferSink};
use crate::error::{Error, ErrorKind, Result};
use crate::files::errors::{local, remote};
use crate::files::{remote_path, EntryKind, RemoteFs};
use crate::terminal_text::escape;
use futures::stream::{FuturesUnordered, StreamExt};
use russh_sftp::protocol::{FileAttributes, OpenFlags};
use std::fs::Metadata;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use tokio::io::AsyncReadExt;

/// Writes in flight per file: enough to cover a long round trip at full speed.
const WRITES_IN_FLIGHT: usize = 64;

/// Copies the local `sources` to remote `dest` (scp rules, as [`super::download`]).
pub async fn upload(
    fs: &RemoteFs,
    sources: &[PathBuf],
    dest: &str,
    opts: &TransferOptions,
    sink: TransferSink,
) -> Result<TransferReport> {
    let dest = if dest.is_empty() { "." } else { dest };
    let existing = match fs.stat(dest).await {
        Ok(entry) => Some(entry),
        Err(e) if e.kind == ErrorKind::FileNotFound => None,
        Err(e) => return Err(e),
    };
    let dest_is_dir = existing.as_ref().is_some_and(|e| e.is_dir());
    plan::check(sources.len(), dest, dest_is_dir, existing.is_some())?;
    let mut run = Run {
        fs,
        opts,
        tally: Tally::new(sink),
    };
    for source in sources {
        let Some(name) = source_name(source) else {
            let e = Error::invalid(format!(
                "{} has no file name to copy under",
                escape(&source.to_string_lossy())
            ));
            run.fail_early(source, dest, e)?;
            continue;
        };
        let target = match plan::target(dest, dest_is_dir, &name) {
            Target::Inside(name) => remote_path::join(dest, name),
            Target::Itself(dest) => dest,
        };
        // Operands are followed (as scp does); links inside trees never are.
        match std::fs::metadata(source) {
            Ok(meta) => run.one(source, &meta, &target).await?,
            Err(e) => run.fail_early(source, &target, local("read", source, e))?,
        }
    }
    Ok(run.tally.report)
}

/// The last component of a local path, as the text SFTP names are made of.
fn source_name(path: &Path) -> Option<String> {
    match path.file_name() {
        Some(name) => name.to_str().map(str::to_owned),
        // `.` or `dir/..`: the directory's own name.
        None => std::fs::canonicalize(path)
            .ok()?
            .file_name()?
            .to_str()
            .map(str::to_owned),
    }
}

struct Run<'a> {
    fs: &'a RemoteFs,
    opts: &'a TransferOptions,
    tally: Tally,
}

impl Run<'_> {
    async fn one(&mut self, source: &Path, meta: &Metadata, target: &str) -> Result<()> {
        if meta.is_file() {
            self.file(source, meta, target).await
        } else if meta.is_dir() && self.opts.recursive {
            self.tree(source, meta, target).await
        } else if meta.is_dir() {
            let e = Error::invalid(format!(
                "{} is a directory",
                escape(&source.to_string_lossy())
            ))
            .with_hint("Copy directories recursively.");
            self.fail_early(source, target, e)
        } else {
            self.fail_early(source, target, not_regular(source))
        }
    }

    fn fail_early(&mut self, source: &Path, target: &str, e: Error) -> Result<()> {
        let fatal = is_fatal(&e).then(|| e.clone());
        self.tally
            .failed_before_start(&source.to_string_lossy(), target, e);
        fatal.map_or(Ok(()), Err)
    }

    fn finish(&mut self, progress: FileProgress, outcome: Result<()>) -> Result<()> {
        match outcome {
            Ok(()) => {
                self.tally.done(progress);
                Ok(())
            }
            Err(e) => {
                let fatal = is_fatal(&e).then(|| e.clone());
                self.tally.failed(progress, e);
                fatal.map_or(Ok(()), Err)
            }
        }
    }

    async fn file(&mut self, source: &Path, meta: &Metadata, target: &str) -> Result<()> {
        let mut progress = self
            .tally
            .start(&source.to_string_lossy(), target, meta.len());
        let outcome = put(self.fs, source, meta, target, self.opts, &mut progress).await;
        self.finish(progress, outcome)
    }

    /// A directory tree, depth first; links are recreated as links, never followed.
    async fn tree(&mut self, source: &Path, meta: &Metadata, target: &str) -> Result<()> {
        let mut stack = vec![(source.to_path_buf(), target.to_owned(), meta.clone())];
        // Modes and times of directories are set last: writing inside would change their mtime.
        let mut made = Vec::new();
        while let Some((dir, remote_dir, meta)) = stack.pop() {
            if let Err(e) = self.ensure_remote_dir(&remote_dir).await {
                self.fail_early(&dir, &remote_dir, e)?;
                continue;
            }
            let mut children = match read_dir(&dir) {
                Ok(children) => children,
                Err(e) => {
                    self.fail_early(&dir, &remote_dir, e)?;
                    continue;
                }
            };
            made.push((remote_dir.clone(), meta));
            children.sort_by(|a, b| b.0.cmp(&a.0));
            for (path, meta) in children {
                let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                    let e = Error::invalid(format!(
                        "{} is not a UTF-8 name; SFTP names here are text",
                        escape(&path.to_string_lossy())
                    ));
                    self.fail_early(&path, &remote_dir, e)?;
                    continue;
                };
                let to = remote_path::join(&remote_dir, name);
                let kind = meta.file_type();
                if kind.is_dir() {
                    stack.push((path, to, meta));
                } else if kind.is_symlink() {
                    self.link(&path, &to).await?;
                } else if kind.is_file() {
                    self.file(&path, &meta, &to).await?;
                } else {
                    self.fail_early(&path, &to, not_regular(&path))?;
                }
            }
        }
        if self.opts.preserve {
            for (dir, meta) in made.iter().rev() {
                if let Err(e) = set_remote_attrs(self.fs, dir, meta, true).await {
                    let fatal = is_fatal(&e).then(|| e.clone());
                    self.tally.failed_before_start(dir, dir, e);
                    if let Some(e) = fatal {
                        return Err(e);
                    }
                }
            }
        }
        Ok(())
    }

    async fn ensure_remote_dir(&self, dir: &str) -> Result<()> {
        match self.fs.try_lstat(dir).await? {
            Some(entry) if entry.kind == EntryKind::Dir => Ok(()),
            Some(_) => Err(Error::new(
                ErrorKind::Sftp,
                format!(
                    "cannot copy a directory to {}: something else is there",
                    escape(dir)
                ),
            )),
            None => self.fs.mkdir(dir).await,
        }
    }

    async fn link(&mut self, source: &Path, target: &str) -> Result<()> {
        let progress = self.tally.start(&source.to_string_lossy(), target, 0);
        let outcome = async {
            let points_to =
                std::fs::read_link(source).map_err(|e| local("read the link", source, e))?;
            let points_to = points_to.to_str().ok_or_else(|| {
                Error::invalid(format!(
                    "the link {} points to a name that is not UTF-8",
                    escape(&source.to_string_lossy())
                ))
            })?;
            if self.fs.try_lstat(target).await?.is_some() {
                self.fs.remove(target).await?;
            }
            self.fs.symlink(target, points_to).await
        }
        .await;
        self.finish(progress, outcome)
    }
}

fn not_regular(path: &Path) -> Error {
    Error::invalid(format!(
        "{} is not a regular file (a device, FIFO or socket); skipped",
        escape(&path.to_string_lossy())
    ))
}

/// A directory's entries with their own (not followed) metadata.
fn read_dir(dir: &Path) -> Result<Vec<(PathBuf, Metadata)>> {
    let entries = std::fs::read_dir(dir).map_err(|e| local("list", dir, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| local("list", dir, e))?;
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).map_err(|e| local("read", &path, e))?;
        out.push((path, meta));
    }
    Ok(out)
}

/// One file through the write pipeline into its temporary name, then renamed into place.
async fn put(
    fs: &RemoteFs,
    source: &Path,
    meta: &Metadata,
    target: &str,
    opts: &TransferOptions,
    progress: &mut FileProgress,
) -> Result<()> {
    if fs
        .try_lstat(target)
        .await?
        .is_some_and(|e| e.kind == EntryKind::Dir)
    {
        return Err(Error::new(
            ErrorKind::Sftp,
            format!(
                "cannot overwrite the directory {} with a file",
                escape(target)
            ),
        ));
    }
    let part = remote_path::join(
        remote_path::parent(target),
        &part_name(remote_path::file_name(target)),
    );
    let size = meta.len();
    let start = if opts.resume {
        match fs.try_lstat(&part).await? {
            Some(entry) if entry.kind == EntryKind::File && entry.size <= size => entry.size,
            _ => 0,
        }
    } else {
        0
    };
    let mut file = tokio::fs::File::open(source)
        .await
        .map_err(|e| local("read", source, e))?;
    if start > 0 {
        use tokio::io::AsyncSeekExt;
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(|e| local("read", source, e))?;
    }
    let raw = &fs.inner().raw;
    let mut flags = OpenFlags::WRITE | OpenFlags::CREATE;
    if start == 0 {
        flags |= OpenFlags::TRUNCATE;
    }
    let attrs = FileAttributes {
        permissions: Some((meta.mode() & 0o777) | 0o600),
        ..FileAttributes::empty()
    };
    let handle = (raw.open(part.as_str(), flags, attrs).await)
        .map_err(|e| remote("create", target, e))?
        .handle;
    progress.report(start);

    let chunk = fs.inner().write_chunk as usize;
    let mut next = start;
    let mut at = start;
    let mut inflight = FuturesUnordered::new();
    let mut read_all = false;
    loop {
        while !read_all && inflight.len() < WRITES_IN_FLIGHT {
            let mut data = vec![0; chunk];
            let n = read_full(&mut file, &mut data)
                .await
                .map_err(|e| local("read", source, e))?;
            if n == 0 {
                read_all = true;
                break;
            }
            data.truncate(n);
            let offset = next;
            next += n as u64;
            let handle = handle.as_str();
            inflight.push(async move { (n as u64, raw.write(handle, offset, data).await) });
        }
        let Some((n, result)) = inflight.next().await else {
            break;
        };
        result.map_err(|e| remote("write", target, e))?;
        at += n;
        progress.advance(at, n);
    }
    (raw.close(handle.as_str()).await).map_err(|e| remote("write", target, e))?;
    if opts.preserve {
        set_remote_attrs(fs, &part, meta, false).await?;
    }
    fs.rename(&part, target).await?;
    progress.report(at);
    Ok(())
}

/// Fills `buf` unless the file ends first; the count read.
async fn read_full(file: &mut tokio::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = file.read(&mut buf[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

/// `preserve`: the local mode and times on the remote `path`.
async fn set_remote_attrs(fs: &RemoteFs, path: &str, meta: &Metadata, dir: bool) -> Result<()> {
    let secs = |t: i64| u32::try_from(t).ok();
    let attrs = FileAttributes {
        permissions: Some(meta.permissions().mode() & 0o7777),
        atime: secs(meta.atime()),
        mtime: secs(meta.mtime()),
        ..FileAttributes::empty()
    };
    let what = if dir {
        "keep the mode and times of the directory"
    } else {
        "keep the mode and times of"
    };
    (fs.inner().raw.setstat(path, attrs).await)
        .map(drop)
        .map_err(|e| remote(what, path, e))
}
