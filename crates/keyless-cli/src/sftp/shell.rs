//! The `sftp>` loop: reads a command per line (from a terminal or a script on stdin), runs it on
//! the instance's SFTP session, and goes on after a failed command. The remote working directory
//! and the local one are kept here, never by changing this process's directory.

use super::command::{self, Command, CopyFlags};
use super::listing;
use crate::output::print_error;
use crate::progress::Bars;
use keyless_core::files::{self, remote_path, RemoteFs, TransferOptions, TransferReport};
use keyless_core::terminal_text::escape;
use keyless_core::{Error, ErrorKind, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

pub struct Shell {
    fs: RemoteFs,
    home: String,
    cwd: String,
    local: PathBuf,
    /// A terminal: show the prompt and progress bars.
    interactive: bool,
}

/// Whether the loop goes on after a command.
enum Flow {
    Continue,
    Exit,
}

impl Shell {
    pub async fn new(fs: RemoteFs, interactive: bool) -> Result<Shell> {
        let home = fs.home().await?;
        let local = std::env::current_dir()?;
        Ok(Shell {
            fs,
            cwd: home.clone(),
            home,
            local,
            interactive,
        })
    }

    /// Until `exit` or the end of input. 0 when every command worked, else 1 (so a script of
    /// commands piped in can be checked).
    pub async fn run(&mut self, input: impl AsyncBufRead + Unpin) -> i32 {
        let mut lines = input.lines();
        let mut failed = false;
        loop {
            if self.interactive {
                print!("sftp> ");
                let _ = std::io::stdout().flush();
            }
            let line = match lines.next_line().await {
                Ok(Some(line)) => line,
                Ok(None) => break,
                Err(e) => {
                    print_error(&e.into());
                    return 1;
                }
            };
            let command = match command::parse(&line) {
                Ok(Some(command)) => command,
                Ok(None) => continue,
                Err(why) => {
                    eprintln!("keyless sftp: {}", escape(&why));
                    failed = true;
                    continue;
                }
            };
            match self.execute(command).await {
                Ok(Flow::Continue) => {}
                Ok(Flow::Exit) => break,
                Err(e) => {
                    print_error(&e);
                    failed = true;
                    if e.kind == ErrorKind::ConnectionLost {
                        return 1;
                    }
                }
            }
        }
        if self.interactive {
            println!();
        }
        i32::from(failed)
    }

    async fn execute(&mut self, command: Command) -> Result<Flow> {
        match command {
            Command::Ls { all, long, path } => {
                let dir = self.remote(path.as_deref().unwrap_or("."));
                let entries = match self.fs.list(&dir).await {
                    Ok(entries) => entries,
                    // `ls FILE` shows the file, as sftp does.
                    Err(e) => match self.fs.lstat(&dir).await {
                        Ok(entry) if !entry.is_dir() => vec![entry],
                        _ => return Err(e),
                    },
                };
                let shown = entries.iter().filter(|e| all || !e.name.starts_with('.'));
                listing::print_remote(shown, long);
            }
            Command::Cd(path) => {
                let dir = self.fs.canonical(&self.remote(&path)).await?;
                if !self.fs.stat(&dir).await?.is_dir() {
                    return Err(Error::invalid(format!(
                        "{} is not a directory",
                        escape(&dir)
                    )));
                }
                self.cwd = dir;
            }
            Command::Pwd => println!("Remote working directory: {}", escape(&self.cwd)),
            Command::Lpwd => println!(
                "Local working directory: {}",
                escape(&self.local.to_string_lossy())
            ),
            Command::Lcd(path) => {
                let dir = match path {
                    Some(p) => self.local_path(&p),
                    None => std::env::var_os("HOME")
                        .map(PathBuf::from)
                        .ok_or_else(|| Error::invalid("lcd: HOME is not set; give a directory"))?,
                };
                if !dir.is_dir() {
                    return Err(Error::invalid(format!(
                        "{} is not a local directory",
                        escape(&dir.to_string_lossy())
                    )));
                }
                self.local = dir;
            }
            Command::Lls(path) => {
                let dir = path.map_or(self.local.clone(), |p| self.local_path(&p));
                listing::print_local(&dir)?;
            }
            Command::Get {
                flags,
                remote,
                local,
            } => {
                let source = self.remote(&remote);
                let dest = local.map_or(self.local.clone(), |p| self.local_path(&p));
                let sink = Bars::new(self.interactive).sink();
                let report =
                    files::download(&self.fs, &[source], &dest, &options(flags), sink).await?;
                some_failed(report)?;
            }
            Command::Put {
                flags,
                local,
                remote,
            } => {
                let source = self.local_path(&local);
                let dest = self.remote(remote.as_deref().unwrap_or("."));
                let sink = Bars::new(self.interactive).sink();
                let report =
                    files::upload(&self.fs, &[source], &dest, &options(flags), sink).await?;
                some_failed(report)?;
            }
            Command::Mkdir(path) => self.fs.mkdir(&self.remote(&path)).await?,
            Command::Rm(path) => {
                let path = self.remote(&path);
                if self.fs.lstat(&path).await?.is_dir() {
                    return Err(Error::invalid(format!("{} is a directory", escape(&path)))
                        .with_hint("Use rmdir for an empty directory."));
                }
                self.fs.remove(&path).await?;
            }
            Command::Rmdir(path) => {
                let path = self.remote(&path);
                if !self.fs.lstat(&path).await?.is_dir() {
                    return Err(
                        Error::invalid(format!("{} is not a directory", escape(&path)))
                            .with_hint("Use rm for a file."),
                    );
                }
                self.fs.remove(&path).await?;
            }
            Command::Rename { from, to } => {
                self.fs
                    .rename(&self.remote(&from), &self.remote(&to))
                    .await?
            }
            Command::Chmod { mode, path } => self.fs.chmod(&self.remote(&path), mode).await?,
            Command::Help => println!("{}", command::HELP),
            Command::Exit => return Ok(Flow::Exit),
        }
        Ok(Flow::Continue)
    }

    /// A remote path from what was typed: `~` is the home directory, relative paths start at
    /// the remote working directory, and `.`/`..` are folded away.
    fn remote(&self, typed: &str) -> String {
        let absolute = if typed == "~" {
            self.home.clone()
        } else if let Some(rest) = typed.strip_prefix("~/") {
            remote_path::join(&self.home, rest)
        } else if typed.starts_with('/') {
            typed.to_owned()
        } else {
            remote_path::join(&self.cwd, typed)
        };
        fold_dots(&absolute)
    }

    fn local_path(&self, typed: &str) -> PathBuf {
        let path = Path::new(typed);
        match typed.strip_prefix("~/") {
            Some(rest) => std::env::var_os("HOME")
                .map_or_else(|| self.local.join(path), |h| PathBuf::from(h).join(rest)),
            None => self.local.join(path),
        }
    }
}

/// Each failed file was already said by the progress sink; the command as a whole failed too.
fn some_failed(report: TransferReport) -> Result<()> {
    match report.failed {
        0 => Ok(()),
        n => Err(Error::new(
            ErrorKind::Sftp,
            format!("{n} of {} files did not arrive", n + report.files),
        )),
    }
}

fn options(flags: CopyFlags) -> TransferOptions {
    TransferOptions {
        recursive: flags.recursive,
        preserve: flags.preserve,
        resume: flags.resume,
    }
}

/// `/a/./b/../c` → `/a/c`, lexically (the server resolves links on `cd`).
fn fold_dots(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::fold_dots;

    #[test]
    fn dots_fold_lexically() {
        assert_eq!(fold_dots("/home/u/./logs/../data"), "/home/u/data");
        assert_eq!(fold_dots("/.."), "/");
        assert_eq!(fold_dots("/srv//x/"), "/srv/x");
    }
}
