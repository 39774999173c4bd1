//! Instance → this machine: walk the remote sources, fetch each file through a pipeline of reads
//! into its temporary name, then rename it into place.

use super::plan::{self, Target};
use super::progress::{FileProgress, Tally};
use super::{is_fatal, part_name, TransferOptions, TransferReport, TransferSink};
use crate::error::{Error, ErrorKind, Result};
use crate::files::errors::{local, remote};
use crate::files::{remote_path, EntryKind, RemoteEntry, RemoteFs};
use futures::stream::{FuturesOrdered, StreamExt};
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::{FileAttributes, OpenFlags, StatusCode};
use std::fs::{FileTimes, Permissions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};
use tokio::io::AsyncWriteExt;

/// Reads in flight per file: enough to cover a long round trip at full speed.
const READS_IN_FLIGHT: usize = 64;

/// Copies the remote `sources` to local `dest` (scp rules: an existing directory receives them
/// inside it; several sources need a directory). `Err` only when nothing more can be copied (the
/// connection is gone, `dest` cannot work); per-file failures are events and counted.
pub async fn download(
    fs: &RemoteFs,
    sources: &[String],
    dest: &Path,
    opts: &TransferOptions,
    sink: TransferSink,
) -> Result<TransferReport> {
    let meta = std::fs::metadata(dest).ok();
    let dest_is_dir = meta.as_ref().is_some_and(|m| m.is_dir());
    let dest_text = dest.to_string_lossy();
    plan::check(sources.len(), &dest_text, dest_is_dir, meta.is_some())?;
    let mut run = Run {
        fs,
        opts,
        tally: Tally::new(sink),
    };
    for source in sources {
        let target = match plan::target(&dest_text, dest_is_dir, remote_path::file_name(source)) {
            Target::Inside(name) => dest.join(name),
            Target::Itself(_) => dest.to_path_buf(),
        };
        // Operands are followed (as scp does); links inside trees never are.
        match fs.stat(source).await {
            Ok(entry) => run.one(&entry, source, &target).await?,
            Err(e) => run.fail_early(source, &target, e)?,
        }
    }
    Ok(run.tally.report)
}

struct Run<'a> {
    fs: &'a RemoteFs,
    opts: &'a TransferOptions,
    tally: Tally,
}

impl Run<'_> {
    /// One operand: a file, or with `recursive` a directory and everything below it.
    async fn one(&mut self, entry: &RemoteEntry, source: &str, target: &Path) -> Result<()> {
        match entry.kind {
            EntryKind::File => self.file(entry, source, target).await,
            EntryKind::Dir if self.opts.recursive => self.tree(entry, source, target).await,
            EntryKind::Dir => self.fail_early(
                source,
                target,
                Error::invalid(format!(
                    "{} is a directory",
                    crate::terminal_text::escape(source)
                ))
                .with_hint("Copy directories recursively."),
            ),
            EntryKind::Symlink | EntryKind::Other => {
                self.fail_early(source, target, not_regular(source))
            }
        }
    }

    /// Records a failure; `Err` if it ends the whole transfer.
    fn fail_early(&mut self, source: &str, target: &Path, e: Error) -> Result<()> {
        let fatal = is_fatal(&e).then(|| e.clone());
        self.tally
            .failed_before_start(source, &target.to_string_lossy(), e);
        fatal.map_or(Ok(()), Err)
    }

    async fn file(&mut self, entry: &RemoteEntry, source: &str, target: &Path) -> Result<()> {
        let mut progress = self
            .tally
            .start(source, &target.to_string_lossy(), entry.size);
        match fetch(self.fs, entry, source, target, self.opts, &mut progress).await {
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

    /// A directory tree, depth first; links are recreated as links, never followed.
    async fn tree(&mut self, top: &RemoteEntry, source: &str, target: &Path) -> Result<()> {
        let mut stack = vec![(source.to_owned(), target.to_path_buf(), top.clone())];
        // Modes and times of directories are set last: writing inside would change their mtime.
        let mut made = Vec::new();
        while let Some((dir, local_dir, entry)) = stack.pop() {
            if let Err(e) = ensure_local_dir(&local_dir) {
                self.fail_early(&dir, &local_dir, e)?;
                continue;
            }
            let children = match self.fs.list(&dir).await {
                Ok(children) => children,
                Err(e) => {
                    self.fail_early(&dir, &local_dir, e)?;
                    continue;
                }
            };
            made.push((local_dir.clone(), entry));
            for child in children.iter().rev() {
                let to = local_dir.join(&child.name);
                if plan::unsafe_name(&child.name) {
                    let e = Error::new(
                        ErrorKind::Sftp,
                        format!(
                            "the server listed an unusable name in {}: {}",
                            crate::terminal_text::escape(&dir),
                            crate::terminal_text::escape(&child.name)
                        ),
                    );
                    self.fail_early(&child.path, &local_dir, e)?;
                    continue;
                }
                match child.kind {
                    EntryKind::Dir => stack.push((child.path.clone(), to, child.clone())),
                    EntryKind::File => self.file(child, &child.path, &to).await?,
                    EntryKind::Symlink => self.link(&child.path, &to).await?,
                    EntryKind::Other => {
                        self.fail_early(&child.path, &to, not_regular(&child.path))?
                    }
                }
            }
        }
        if self.opts.preserve {
            for (dir, entry) in made.iter().rev() {
                if let Err(e) = apply_attrs(dir, &entry_attrs(entry)) {
                    self.fail_early(&entry.path, dir, e)?;
                }
            }
        }
        Ok(())
    }

    async fn link(&mut self, source: &str, target: &Path) -> Result<()> {
        let progress = self.tally.start(source, &target.to_string_lossy(), 0);
        let made = match self.fs.read_link(source).await {
            Ok(points_to) => replace_with_link(&points_to, target),
            Err(e) => Err(e),
        };
        match made {
            Ok(()) => self.tally.done(progress),
            Err(e) => {
                let fatal = is_fatal(&e).then(|| e.clone());
                self.tally.failed(progress, e);
                if let Some(e) = fatal {
                    return Err(e);
                }
            }
        }
        Ok(())
    }
}

fn not_regular(path: &str) -> Error {
    Error::invalid(format!(
        "{} is not a regular file (a device, FIFO or socket); skipped",
        crate::terminal_text::escape(path)
    ))
}

/// A directory to write into: created if missing; a symlink there is refused (it could lead the
/// files of the tree anywhere on this machine).
fn ensure_local_dir(dir: &Path) -> Result<()> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(Error::new(
            ErrorKind::Io,
            format!(
                "cannot copy a directory to {}: something else is there",
                crate::terminal_text::escape(&dir.to_string_lossy())
            ),
        )),
        Err(_) => std::fs::create_dir(dir).map_err(|e| local("create the directory", dir, e)),
    }
}

/// `target` becomes a symlink to `points_to`, replacing a file or link there in one rename.
fn replace_with_link(points_to: &str, target: &Path) -> Result<()> {
    let part = part_path(target);
    let _ = std::fs::remove_file(&part);
    std::os::unix::fs::symlink(points_to, &part)
        .map_err(|e| local("create the link", target, e))?;
    std::fs::rename(&part, target).map_err(|e| local("create the link", target, e))
}

fn part_path(target: &Path) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned());
    target.with_file_name(part_name(&name.unwrap_or_default()))
}

/// One file through the read pipeline into its temporary name, then renamed into place.
async fn fetch(
    fs: &RemoteFs,
    entry: &RemoteEntry,
    source: &str,
    target: &Path,
    opts: &TransferOptions,
    progress: &mut FileProgress,
) -> Result<()> {
    if std::fs::symlink_metadata(target).is_ok_and(|m| m.is_dir()) {
        return Err(Error::new(
            ErrorKind::Io,
            format!(
                "cannot overwrite the directory {} with a file",
                crate::terminal_text::escape(&target.to_string_lossy())
            ),
        ));
    }
    let part = part_path(target);
    let raw = &fs.inner().raw;
    let handle = (raw
        .open(source, OpenFlags::READ, FileAttributes::empty())
        .await)
        .map_err(|e| remote("open", source, e))?
        .handle;
    let have = std::fs::metadata(&part).map(|m| m.len()).ok();
    let start = match have {
        Some(len) if opts.resume && len <= entry.size => len,
        _ => 0,
    };
    let mut file = std::fs::OpenOptions::new();
    file.write(true)
        .create(true)
        .mode((entry.mode & 0o777) | 0o600);
    if start == 0 {
        file.truncate(true);
    } else {
        file.append(true);
    }
    let file = file.open(&part).map_err(|e| local("write", &part, e))?;
    let mut out = tokio::fs::File::from_std(file);
    progress.report(start);

    let chunk = u64::from(fs.inner().read_chunk);
    let mut next = start;
    let mut at = start;
    let h = handle.as_str();
    let mut inflight = FuturesOrdered::new();
    let mut ended = false;
    loop {
        while !ended && inflight.len() < READS_IN_FLIGHT && next < entry.size {
            let len = chunk.min(entry.size - next) as u32;
            let offset = next;
            inflight.push_back(async move { (offset, len, raw.read(h, offset, len).await) });
            next += u64::from(len);
        }
        let Some((offset, len, result)) = inflight.next().await else {
            break;
        };
        if ended {
            continue;
        }
        let mut got = match result {
            Ok(data) => {
                out.write_all(&data.data)
                    .await
                    .map_err(|e| local("write", &part, e))?;
                data.data.len() as u64
            }
            Err(SftpError::Status(s)) if s.status_code == StatusCode::Eof => {
                // The file shrank since it was listed: what is there has all been read.
                ended = true;
                0
            }
            Err(e) => return Err(remote("read", source, e)),
        };
        // A short read (not at the end): fetch the rest of this chunk before the next one.
        while !ended && got < u64::from(len) {
            match raw
                .read(handle.as_str(), offset + got, len - got as u32)
                .await
            {
                Ok(data) if !data.data.is_empty() => {
                    out.write_all(&data.data)
                        .await
                        .map_err(|e| local("write", &part, e))?;
                    got += data.data.len() as u64;
                }
                Ok(_) => ended = true,
                Err(SftpError::Status(s)) if s.status_code == StatusCode::Eof => ended = true,
                Err(e) => return Err(remote("read", source, e)),
            }
        }
        at += got;
        progress.advance(at, got);
    }
    let _ = raw.close(handle.as_str()).await;
    out.flush().await.map_err(|e| local("write", &part, e))?;
    out.sync_all().await.map_err(|e| local("write", &part, e))?;
    drop(out);
    if opts.preserve {
        apply_attrs(&part, &entry_attrs(entry))?;
    }
    std::fs::rename(&part, target).map_err(|e| local("rename into place", target, e))?;
    progress.report(at);
    Ok(())
}

/// The mode and times a preserved copy gets.
struct Attrs {
    mode: u32,
    mtime: Option<u64>,
    atime: Option<u64>,
}

fn entry_attrs(entry: &RemoteEntry) -> Attrs {
    Attrs {
        mode: entry.mode & 0o7777,
        mtime: entry.modified,
        atime: entry.accessed,
    }
}

fn apply_attrs(path: &Path, attrs: &Attrs) -> Result<()> {
    let at = |secs: u64| UNIX_EPOCH + Duration::from_secs(secs);
    if let Some(mtime) = attrs.mtime {
        let times = FileTimes::new()
            .set_modified(at(mtime))
            .set_accessed(at(attrs.atime.unwrap_or(mtime)));
        let file = std::fs::File::options()
            .read(true)
            .open(path)
            .map_err(|e| local("set the times of", path, e))?;
        file.set_times(times)
            .map_err(|e| local("set the times of", path, e))?;
    }
    std::fs::set_permissions(path, Permissions::from_mode(attrs.mode))
        .map_err(|e| local("set the mode of", path, e))
}
