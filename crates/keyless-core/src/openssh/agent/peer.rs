//! Who is on the other end of the agent socket. The kernel names the connecting process
//! (`SO_PEERCRED`); `/proc` tells its parent and start time. Keys are bound to the `ssh` process
//! that ran `keyless proxy` as its ProxyCommand, identified by pid *and* start time so a reused
//! pid never inherits a key.

use std::io;

/// A process, as the agent recognises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProcessId {
    pub pid: u32,
    /// Clock ticks after boot (`/proc/PID/stat` field 22).
    pub started: u64,
}

struct Stat {
    command: String,
    parent: u32,
    started: u64,
}

/// How far up from a proxy to look for its `ssh` (a ProxyCommand wrapped in a shell or a script).
const MAX_ANCESTORS: usize = 4;

impl ProcessId {
    pub fn of(pid: u32) -> io::Result<ProcessId> {
        Ok(ProcessId {
            pid,
            started: stat(pid)?.started,
        })
    }

    /// The `ssh` a ProxyCommand or KnownHostsCommand belongs to: the nearest ancestor of `pid`
    /// named `ssh` (OpenSSH execs both directly, so normally the parent), else the parent.
    pub fn ssh_of(pid: u32) -> io::Result<ProcessId> {
        let parent = stat(pid)?.parent;
        let mut at = parent;
        for _ in 0..MAX_ANCESTORS {
            let s = stat(at)?;
            if s.command == "ssh" {
                return Ok(ProcessId {
                    pid: at,
                    started: s.started,
                });
            }
            if s.parent <= 1 {
                break;
            }
            at = s.parent;
        }
        ProcessId::of(parent)
    }
}

fn stat(pid: u32) -> io::Result<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_stat(&text)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("/proc/{pid}/stat")))
}

/// `PID (COMM) STATE PPID … STARTTIME …`; COMM may itself hold spaces and parentheses.
fn parse_stat(text: &str) -> Option<Stat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let command = text.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    // After COMM: state is field 3, so field N is fields[N - 3].
    let parent = fields.get(1)?.parse().ok()?;
    let started = fields.get(19)?.parse().ok()?;
    Some(Stat {
        command,
        parent,
        started,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_odd_command_names_parses() {
        let line = "4242 (ssh (x) y) S 4000 4242 4000 34816 4242 4194304 1 2 3 4 5 6 7 8 20 0 1 0 987654 1 2";
        let s = parse_stat(line).unwrap();
        assert_eq!(s.command, "ssh (x) y");
        assert_eq!(s.parent, 4000);
        assert_eq!(s.started, 987654);
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn this_process_has_a_start_time_and_a_parent() {
        let me = ProcessId::of(std::process::id()).unwrap();
        assert!(me.started > 0);
        assert!(ProcessId::ssh_of(std::process::id()).is_ok());
    }
}
