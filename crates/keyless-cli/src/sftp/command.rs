//! One line typed at the `sftp>` prompt, parsed: words split as a shell would (quotes and
//! backslashes keep spaces in names) but never run by one; flags as OpenSSH's sftp spells them.

/// What a line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Ls {
        all: bool,
        long: bool,
        path: Option<String>,
    },
    Cd(String),
    Pwd,
    Lcd(Option<String>),
    Lls(Option<String>),
    Lpwd,
    Get {
        flags: CopyFlags,
        remote: String,
        local: Option<String>,
    },
    Put {
        flags: CopyFlags,
        local: String,
        remote: Option<String>,
    },
    Mkdir(String),
    Rm(String),
    Rmdir(String),
    Rename {
        from: String,
        to: String,
    },
    Chmod {
        mode: u32,
        path: String,
    },
    Help,
    Exit,
}

/// `-r` trees, `-p` modes and times, `-a` continue a partial copy (also `reget`/`reput`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CopyFlags {
    pub recursive: bool,
    pub preserve: bool,
    pub resume: bool,
}

/// The help text, one command per line.
pub const HELP: &str = "\
ls [-a] [-l] [PATH]          list a remote directory (-a: hidden names too, -l: long)
cd PATH                      change the remote directory
pwd                          print the remote directory
lcd [PATH]                   change the local directory (none: your home)
lls [PATH]                   list a local directory
lpwd                         print the local directory
get [-r] [-p] [-a] REMOTE [LOCAL]   download (-r: a tree, -p: keep modes and times, -a: resume)
put [-r] [-p] [-a] LOCAL [REMOTE]   upload (same flags)
reget / reput ...            get -a / put -a
mkdir PATH                   make a remote directory
rm PATH                      remove a remote file
rmdir PATH                   remove an empty remote directory
rename FROM TO               rename or move a remote file or directory
chmod MODE PATH              set a remote file's mode (octal, e.g. 644)
help, ?                      this list
exit, quit, bye              leave";

/// `Ok(None)`: a blank line or a `#` comment.
pub fn parse(line: &str) -> Result<Option<Command>, String> {
    let words = shell_words::split(line).map_err(|_| "an unclosed quote".to_string())?;
    let Some((name, rest)) = words.split_first() else {
        return Ok(None);
    };
    if name.starts_with('#') {
        return Ok(None);
    }
    let (flags, args) = split_flags(rest);
    let allow = |allowed: &str| -> Result<(), String> {
        match flags.chars().find(|c| !allowed.contains(*c)) {
            Some(c) => Err(format!("{name}: unknown option -{c}")),
            None => Ok(()),
        }
    };
    let command = match name.as_str() {
        "ls" | "dir" => {
            allow("al")?;
            Command::Ls {
                all: flags.contains('a'),
                long: flags.contains('l'),
                path: at_most_one(name, args)?,
            }
        }
        "cd" => {
            allow("")?;
            Command::Cd(exactly_one(name, args)?)
        }
        "pwd" => none(name, &flags, args, Command::Pwd)?,
        "lpwd" => none(name, &flags, args, Command::Lpwd)?,
        "lcd" => {
            allow("")?;
            Command::Lcd(at_most_one(name, args)?)
        }
        "lls" => {
            allow("al")?;
            Command::Lls(at_most_one(name, args)?)
        }
        "get" | "reget" | "put" | "reput" => {
            allow("rRpPa")?;
            let flags = CopyFlags {
                recursive: flags.contains(['r', 'R']),
                preserve: flags.contains(['p', 'P']),
                resume: flags.contains('a') || name.starts_with("re"),
            };
            let (first, second) = match args {
                [one] => (one.clone(), None),
                [one, two] => (one.clone(), Some(two.clone())),
                _ => {
                    return Err(format!(
                        "{name}: give a source and, optionally, a destination"
                    ))
                }
            };
            if name.ends_with("get") {
                Command::Get {
                    flags,
                    remote: first,
                    local: second,
                }
            } else {
                Command::Put {
                    flags,
                    local: first,
                    remote: second,
                }
            }
        }
        "mkdir" => {
            allow("")?;
            Command::Mkdir(exactly_one(name, args)?)
        }
        "rm" => {
            allow("")?;
            Command::Rm(exactly_one(name, args)?)
        }
        "rmdir" => {
            allow("")?;
            Command::Rmdir(exactly_one(name, args)?)
        }
        "rename" | "mv" => {
            allow("")?;
            match args {
                [from, to] => Command::Rename {
                    from: from.clone(),
                    to: to.clone(),
                },
                _ => return Err(format!("{name}: give the old and the new name")),
            }
        }
        "chmod" => {
            allow("")?;
            match args {
                [mode, path] => Command::Chmod {
                    mode: parse_mode(mode)?,
                    path: path.clone(),
                },
                _ => return Err("chmod: give a mode (octal, e.g. 644) and a path".into()),
            }
        }
        "help" | "?" => none(name, &flags, args, Command::Help)?,
        "exit" | "quit" | "bye" => none(name, &flags, args, Command::Exit)?,
        other => {
            return Err(format!(
                "unknown command '{}' (type help for the list)",
                other.escape_debug()
            ))
        }
    };
    Ok(Some(command))
}

/// Leading `-xyz` words as one string of flag letters; `--` ends them.
fn split_flags(words: &[String]) -> (String, &[String]) {
    let mut flags = String::new();
    for (i, word) in words.iter().enumerate() {
        if word == "--" {
            return (flags, &words[i + 1..]);
        }
        match word.strip_prefix('-') {
            Some(letters) if !letters.is_empty() => flags.push_str(letters),
            _ => return (flags, &words[i..]),
        }
    }
    (flags, &[])
}

fn exactly_one(name: &str, args: &[String]) -> Result<String, String> {
    match args {
        [one] => Ok(one.clone()),
        _ => Err(format!("{name}: give exactly one path")),
    }
}

fn at_most_one(name: &str, args: &[String]) -> Result<Option<String>, String> {
    match args {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        _ => Err(format!("{name}: give at most one path")),
    }
}

fn none(name: &str, flags: &str, args: &[String], c: Command) -> Result<Command, String> {
    if flags.is_empty() && args.is_empty() {
        Ok(c)
    } else {
        Err(format!("{name} takes no arguments"))
    }
}

fn parse_mode(text: &str) -> Result<u32, String> {
    match u32::from_str_radix(text, 8) {
        Ok(mode) if mode <= 0o7777 => Ok(mode),
        _ => Err(format!(
            "chmod: '{}' is not an octal mode such as 644 or 0755",
            text.escape_debug()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> Command {
        parse(line).unwrap().unwrap()
    }

    #[test]
    fn commands_parse_as_openssh_sftp_spells_them() {
        assert_eq!(
            ok("ls -la /var/log"),
            Command::Ls {
                all: true,
                long: true,
                path: Some("/var/log".into())
            }
        );
        assert_eq!(
            ok("get -rp 'my logs' here"),
            Command::Get {
                flags: CopyFlags {
                    recursive: true,
                    preserve: true,
                    resume: false
                },
                remote: "my logs".into(),
                local: Some("here".into())
            }
        );
        assert_eq!(
            ok("reput big\\ file.bin"),
            Command::Put {
                flags: CopyFlags {
                    resume: true,
                    ..Default::default()
                },
                local: "big file.bin".into(),
                remote: None
            }
        );
        assert_eq!(
            ok("chmod 0755 run.sh"),
            Command::Chmod {
                mode: 0o755,
                path: "run.sh".into()
            }
        );
        assert_eq!(ok("rm -- -odd-name"), Command::Rm("-odd-name".into()));
        assert_eq!(parse("   ").unwrap(), None);
        assert_eq!(parse("# a comment").unwrap(), None);
    }

    #[test]
    fn mistakes_say_what_is_wrong() {
        for (line, says) in [
            ("frobnicate x", "unknown command 'frobnicate'"),
            ("get", "give a source"),
            ("ls -z", "unknown option -z"),
            ("chmod 999 f", "not an octal mode"),
            ("cd 'open", "unclosed quote"),
            ("pwd extra", "takes no arguments"),
            ("rename one", "the old and the new name"),
        ] {
            let e = parse(line).unwrap_err();
            assert!(e.contains(says), "{line}: {e}");
        }
    }
}
