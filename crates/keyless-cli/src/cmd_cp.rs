//! `keyless cp [-r] [-p] [--resume] SRC... DST`: scp-style copies over SFTP on one connection
//! (one key push), with a progress bar per file on a terminal. Exit 0 only when every file
//! arrived whole, 1 when some did not, 255 when the connection failed.

use crate::args::CpArgs;
use crate::output::Failure;
use crate::progress::Bars;
use keyless_core::files::{self, TransferOptions};
use keyless_core::{Error, ErrorKind};
use std::io::IsTerminal;
use std::path::PathBuf;

/// One operand, split as scp does.
#[derive(Debug, PartialEq, Eq)]
enum Operand {
    Local(String),
    /// `TARGET:PATH`; an empty path is the login user's home.
    Remote {
        target: String,
        path: String,
    },
}

impl Operand {
    /// `TARGET:PATH` when a ':' comes before any '/' with something in front of it; anything
    /// else is local (`./a:b`, `/x:y`, `file`).
    fn parse(text: &str) -> Operand {
        let colon = text.find(':');
        let slash = text.find('/');
        match colon {
            Some(c) if c > 0 && slash.is_none_or(|s| c < s) => Operand::Remote {
                target: text[..c].to_owned(),
                path: text[c + 1..].to_owned(),
            },
            _ => Operand::Local(text.to_owned()),
        }
    }
}

/// Which way the copy goes, with one instance on the far side.
#[derive(Debug, PartialEq, Eq)]
enum Direction {
    Upload {
        sources: Vec<String>,
        target: String,
        dest: String,
    },
    Download {
        target: String,
        sources: Vec<String>,
        dest: String,
    },
}

fn direction(operands: &[String]) -> keyless_core::Result<Direction> {
    let (dest, sources) = match operands.split_last() {
        Some((dest, sources)) if !sources.is_empty() => (dest, sources),
        _ => {
            return Err(Error::invalid(
                "cp needs at least one source and a destination",
            ))
        }
    };
    let sources: Vec<Operand> = sources.iter().map(|s| Operand::parse(s)).collect();
    match Operand::parse(dest) {
        Operand::Remote { target, path } => {
            let mut local = Vec::new();
            for source in sources {
                match source {
                    Operand::Local(path) => local.push(path),
                    Operand::Remote { .. } => return Err(one_remote_side()),
                }
            }
            Ok(Direction::Upload {
                sources: local,
                target,
                dest: path,
            })
        }
        Operand::Local(dest) => {
            let mut target = None;
            let mut remote = Vec::new();
            for source in sources {
                match source {
                    Operand::Local(_) => return Err(one_remote_side()),
                    Operand::Remote { target: t, path } => {
                        if target.as_ref().is_some_and(|seen| *seen != t) {
                            return Err(Error::invalid("the sources are on different instances")
                                .with_hint("Copy from one instance at a time."));
                        }
                        target = Some(t);
                        remote.push(path);
                    }
                }
            }
            let target = target.ok_or_else(one_remote_side)?;
            Ok(Direction::Download {
                target,
                sources: remote,
                dest,
            })
        }
    }
}

fn one_remote_side() -> Error {
    Error::invalid("exactly one side of a copy must be on an instance (TARGET:PATH)").with_hint(
        "Write the remote side as TARGET:PATH, e.g. web:/var/log/syslog or @web-prod:notes.txt; \
         local paths with a ':' can be written ./a:b.",
    )
}

pub async fn run(args: CpArgs) -> Result<i32, Failure> {
    let plan = direction(&args.operands).map_err(Failure::usage)?;
    let target = match &plan {
        Direction::Upload { target, .. } | Direction::Download { target, .. } => target.clone(),
    };
    let opts = TransferOptions {
        recursive: args.recursive,
        preserve: args.preserve,
        resume: args.resume,
    };
    let verbose = args.connect.verbose;
    let connection = crate::cmd_ssh::connect_as_ssh(args.connect.into_ssh(target)).await?;
    if verbose {
        eprintln!("keyless: connected to {}", connection.route_text());
    }
    let fs = connection.open_sftp().await.map_err(Failure::ssh)?;
    let bars = Bars::new(std::io::stderr().is_terminal());
    let sink = bars.sink();
    let outcome = match plan {
        Direction::Upload { sources, dest, .. } => {
            let sources: Vec<PathBuf> = sources.into_iter().map(PathBuf::from).collect();
            files::upload(&fs, &sources, &dest, &opts, sink).await
        }
        Direction::Download { sources, dest, .. } => {
            files::download(&fs, &sources, std::path::Path::new(&dest), &opts, sink).await
        }
    };
    drop(fs);
    connection.disconnect().await;
    match outcome {
        Ok(report) if report.failed == 0 => Ok(0),
        Ok(_) => Ok(1),
        Err(e) if matches!(e.kind, ErrorKind::ConnectionLost | ErrorKind::Timeout) => {
            Err(Failure::ssh(e))
        }
        Err(e) => Err(Failure::runtime(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn operands_split_like_scp() {
        let remote = |t: &str, p: &str| Operand::Remote {
            target: t.into(),
            path: p.into(),
        };
        assert_eq!(Operand::parse("web:/var/log"), remote("web", "/var/log"));
        assert_eq!(
            Operand::parse("ubuntu@i-0abc:"),
            remote("ubuntu@i-0abc", "")
        );
        assert_eq!(
            Operand::parse("@prod:notes.txt"),
            remote("@prod", "notes.txt")
        );
        for local in ["./a:b", "/x:y", "file", ":odd", "dir/a:b"] {
            assert_eq!(
                Operand::parse(local),
                Operand::Local(local.into()),
                "{local}"
            );
        }
    }

    #[test]
    fn exactly_one_side_is_remote() {
        assert_eq!(
            direction(&ops(&["a", "b", "web:/srv/"])).unwrap(),
            Direction::Upload {
                sources: ops(&["a", "b"]),
                target: "web".into(),
                dest: "/srv/".into()
            }
        );
        assert_eq!(
            direction(&ops(&["web:x", "web:y", "."])).unwrap(),
            Direction::Download {
                target: "web".into(),
                sources: ops(&["x", "y"]),
                dest: ".".into()
            }
        );
        for bad in [
            &["a", "b"][..],
            &["web:a", "db:b"],
            &["web:a", "db:b", "."],
            &["a", "web:b", "."],
            &["web:a", "web:b", "web:c"],
        ] {
            let e = direction(&ops(bad)).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput, "{bad:?}");
        }
    }
}
