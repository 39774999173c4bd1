//! [`RemoteFs`]: the instance's file system through one SFTP channel. Cheap to clone; every clone
//! shares the channel, and requests from any of them may be in flight at once (transfers keep
//! dozens outstanding).

use super::entry::{EntryKind, RemoteEntry};
use super::errors::remote;
use super::remote_path;
use crate::error::{Error, ErrorKind, Result};
use russh_sftp::client::rawsession::Limits;
use russh_sftp::client::RawSftpSession;
use russh_sftp::protocol::{FileAttributes, StatusCode};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// OpenSSH's sftp-server reads and writes at most 256 KiB less its packet header; servers that do
/// not say (no `limits@openssh.com`) get the 32 KiB every server must accept.
const LARGEST_CHUNK: u64 = 255 * 1024;
const SAFE_CHUNK: u64 = 32 * 1024;
/// How long one request may wait for its answer. Transfers keep many megabytes in flight, so a
/// request queues behind the others: this is far longer than a connect phase, but still an end.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Clone)]
pub struct RemoteFs {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub raw: RawSftpSession,
    /// `posix-rename@openssh.com`: rename over an existing file in one step.
    posix_rename: bool,
    pub read_chunk: u32,
    pub write_chunk: u32,
}

impl RemoteFs {
    /// Starts the SFTP protocol on an open `sftp` subsystem channel: version, extensions, limits.
    pub(crate) async fn start<S>(stream: S) -> Result<RemoteFs>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let config = russh_sftp::client::Config {
            request_timeout_secs: REQUEST_TIMEOUT.as_secs(),
            ..Default::default()
        };
        let mut raw = RawSftpSession::new_with_config(stream, config);
        let version = (raw.init().await).map_err(|e| remote("start SFTP", "", e))?;
        let offered = |name: &str| version.extensions.contains_key(name);
        let (mut read_chunk, mut write_chunk) = (SAFE_CHUNK, SAFE_CHUNK);
        if offered(russh_sftp::extensions::LIMITS) {
            let limits = (raw.limits().await).map_err(|e| remote("start SFTP", "", e))?;
            let limits = Limits::from(limits);
            read_chunk = limits.read_len.unwrap_or(LARGEST_CHUNK).min(LARGEST_CHUNK);
            write_chunk = limits.write_len.unwrap_or(LARGEST_CHUNK).min(LARGEST_CHUNK);
            raw.set_limits(limits);
        }
        Ok(RemoteFs {
            inner: Arc::new(Inner {
                raw,
                posix_rename: offered("posix-rename@openssh.com"),
                read_chunk: u32::try_from(read_chunk).unwrap_or(SAFE_CHUNK as u32),
                write_chunk: u32::try_from(write_chunk).unwrap_or(SAFE_CHUNK as u32),
            }),
        })
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// The login user's home directory (the server's working directory), canonical.
    pub async fn home(&self) -> Result<String> {
        self.canonical(".").await
    }

    /// `path` made absolute, with `.`, `..` and symlinks resolved by the server.
    pub async fn canonical(&self, path: &str) -> Result<String> {
        let name = (self.raw().realpath(path).await).map_err(|e| remote("resolve", path, e))?;
        name.files
            .into_iter()
            .next()
            .map(|f| f.filename)
            .ok_or_else(|| Error::new(ErrorKind::Sftp, "the SFTP server resolved no path"))
    }

    /// The entries of `dir` (not `.` and `..`), sorted by name; links are not followed.
    pub async fn list(&self, dir: &str) -> Result<Vec<RemoteEntry>> {
        let raw = self.raw();
        let handle = (raw.opendir(dir).await).map_err(|e| remote("list", dir, e))?;
        let mut entries = Vec::new();
        let outcome = loop {
            match raw.readdir(handle.handle.as_str()).await {
                Ok(name) => entries.extend(
                    (name.files.into_iter())
                        .filter(|f| f.filename != "." && f.filename != "..")
                        .map(|f| {
                            let path = remote_path::join(dir, &f.filename);
                            RemoteEntry::new(f.filename, path, &f.attrs)
                        }),
                ),
                Err(russh_sftp::client::error::Error::Status(s))
                    if s.status_code == StatusCode::Eof =>
                {
                    break Ok(())
                }
                Err(e) => break Err(remote("list", dir, e)),
            }
        };
        let _ = raw.close(handle.handle).await;
        outcome?;
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    /// What `path` is, following a final symlink.
    pub async fn stat(&self, path: &str) -> Result<RemoteEntry> {
        let attrs = (self.raw().stat(path).await).map_err(|e| remote("stat", path, e))?;
        Ok(entry_at(path, &attrs.attrs))
    }

    /// What `path` is, a symlink itself rather than its target.
    pub async fn lstat(&self, path: &str) -> Result<RemoteEntry> {
        let attrs = (self.raw().lstat(path).await).map_err(|e| remote("stat", path, e))?;
        Ok(entry_at(path, &attrs.attrs))
    }

    /// `None` when nothing is at `path`; other failures are errors.
    pub async fn try_lstat(&self, path: &str) -> Result<Option<RemoteEntry>> {
        match self.lstat(path).await {
            Ok(entry) => Ok(Some(entry)),
            Err(e) if e.kind == ErrorKind::FileNotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn mkdir(&self, path: &str) -> Result<()> {
        (self.raw().mkdir(path, FileAttributes::empty()).await)
            .map(drop)
            .map_err(|e| remote("create the directory", path, e))
    }

    /// Renames `from` to `to`, replacing a file at `to` when the server can do that in one step
    /// (`posix-rename@openssh.com`); otherwise an existing `to` is an error.
    pub async fn rename(&self, from: &str, to: &str) -> Result<()> {
        let raw = self.raw();
        let done = if self.inner.posix_rename {
            let data = [ssh_string(from), ssh_string(to)].concat();
            match raw.extended("posix-rename@openssh.com", data).await {
                Ok(russh_sftp::protocol::Packet::Status(s)) if s.status_code == StatusCode::Ok => {
                    Ok(())
                }
                Ok(russh_sftp::protocol::Packet::Status(s)) => Err(s.into()),
                Ok(_) => Err(russh_sftp::client::error::Error::UnexpectedPacket),
                Err(e) => Err(e),
            }
        } else {
            raw.rename(from, to).await.map(drop)
        };
        done.map_err(|e| remote(&format!("rename to {to}:"), from, e))
    }

    /// Removes a file, a symlink (not its target) or an empty directory.
    pub async fn remove(&self, path: &str) -> Result<()> {
        let entry = self.lstat(path).await?;
        if entry.kind == EntryKind::Dir {
            (self.raw().rmdir(path).await).map_err(|e| remote("remove the directory", path, e))?;
        } else {
            (self.raw().remove(path).await).map_err(|e| remote("remove", path, e))?;
        }
        Ok(())
    }

    /// Removes `path` and, for a directory, everything below it. Links are removed, never
    /// followed.
    pub async fn remove_tree(&self, path: &str) -> Result<()> {
        let entry = self.lstat(path).await?;
        if entry.kind != EntryKind::Dir {
            return self.remove(path).await;
        }
        // Depth-first without recursion: directories are removed after their contents.
        let mut pending = vec![(path.to_owned(), false)];
        while let Some((dir, listed)) = pending.pop() {
            if listed {
                (self.raw().rmdir(dir.as_str()).await)
                    .map_err(|e| remote("remove the directory", &dir, e))?;
                continue;
            }
            pending.push((dir.clone(), true));
            for child in self.list(&dir).await? {
                if child.kind == EntryKind::Dir {
                    pending.push((child.path, false));
                } else {
                    (self.raw().remove(child.path.as_str()).await)
                        .map_err(|e| remote("remove", &child.path, e))?;
                }
            }
        }
        Ok(())
    }

    /// Sets the permission bits of `path` (e.g. `0o644`).
    pub async fn chmod(&self, path: &str, mode: u32) -> Result<()> {
        let attrs = FileAttributes {
            permissions: Some(mode & 0o7777),
            ..FileAttributes::empty()
        };
        (self.raw().setstat(path, attrs).await)
            .map(drop)
            .map_err(|e| remote("change the mode of", path, e))
    }

    /// Where the symlink at `path` points, as stored (not resolved).
    pub async fn read_link(&self, path: &str) -> Result<String> {
        let name =
            (self.raw().readlink(path).await).map_err(|e| remote("read the link", path, e))?;
        name.files
            .into_iter()
            .next()
            .map(|f| f.filename)
            .ok_or_else(|| Error::new(ErrorKind::Sftp, "the SFTP server returned no link target"))
    }

    /// Creates a symlink at `link` pointing to `target`.
    pub async fn symlink(&self, link: &str, target: &str) -> Result<()> {
        // OpenSSH's sftp-server takes SSH_FXP_SYMLINK's two paths in the opposite order from the
        // draft (target first); every OpenSSH client sends them that way, so do we.
        (self.raw().symlink(target, link).await)
            .map(drop)
            .map_err(|e| remote("create the link", link, e))
    }

    fn raw(&self) -> &RawSftpSession {
        &self.inner.raw
    }
}

fn entry_at(path: &str, attrs: &FileAttributes) -> RemoteEntry {
    let name = remote_path::file_name(path).to_owned();
    RemoteEntry::new(name, path.to_owned(), attrs)
}

/// An SSH wire string: a 32-bit length, then the bytes.
fn ssh_string(text: &str) -> Vec<u8> {
    let mut out = (text.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(text.as_bytes());
    out
}
