//! Killing an sshd together with its sessions. sshd's per-connection children call setsid(),
//! so a signal to the listener alone leaves sessions running: walk the ppid chain in
//! /proc/*/stat instead, freeze the whole tree, then SIGKILL it and reap.

use std::collections::{BTreeSet, HashMap};
use std::process::Child;
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// `(state, ppid)` from /proc/<pid>/stat; the command name may contain ')' so parse after the last one.
pub fn stat(pid: i32) -> Option<(char, i32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut rest = text[text.rfind(')')? + 1..].split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((state, ppid))
}

/// True if the process exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    stat(pid).is_some_and(|(s, _)| s != 'Z' && s != 'X')
}

/// NUL-separated argv of a process, joined by spaces (empty for zombies and kernel threads).
pub fn cmdline(pid: i32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            String::from_utf8_lossy(&b)
                .replace('\0', " ")
                .trim_end()
                .to_string()
        })
        .unwrap_or_default()
}

pub fn all_pids() -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// Every live descendant of `root`.
pub fn descendants(root: i32) -> Vec<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for pid in all_pids() {
        if let Some((s, ppid)) = stat(pid) {
            if s != 'Z' {
                children.entry(ppid).or_default().push(pid);
            }
        }
    }
    let mut out = Vec::new();
    let mut todo = vec![root];
    while let Some(p) = todo.pop() {
        for &c in children.get(&p).map(Vec::as_slice).unwrap_or(&[]) {
            out.push(c);
            todo.push(c);
        }
    }
    out
}

fn signal(pid: i32, sig: Signal) {
    // ESRCH (already gone) is fine.
    let _ = kill(Pid::from_raw(pid), sig);
}

/// SIGKILLs `child` and all its descendants, then reaps what we can.
pub fn kill_tree(child: &mut Child) {
    let root = child.id() as i32;
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    // Freeze first so nothing forks while we collect; repeat until no new process shows up.
    signal(root, Signal::SIGSTOP);
    let mut tree = BTreeSet::new();
    for _ in 0..10 {
        let new: Vec<i32> = descendants(root)
            .into_iter()
            .filter(|p| !tree.contains(p))
            .collect();
        if new.is_empty() {
            break;
        }
        for p in new {
            signal(p, Signal::SIGSTOP);
            tree.insert(p);
        }
    }
    signal(root, Signal::SIGKILL);
    for &p in &tree {
        signal(p, Signal::SIGKILL);
    }
    let _ = child.wait();
    reap(&tree);
}

/// Orphans are reparented to us (we are a child subreaper, see `Lab::start`); wait for them so
/// no zombies pile up. Anything reparented elsewhere is left to its new parent.
fn reap(pids: &BTreeSet<i32>) {
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut pending: Vec<i32> = pids.iter().copied().collect();
    while !pending.is_empty() && Instant::now() < deadline {
        pending.retain(
            |&p| match waitpid(Pid::from_raw(p), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) => true,
                Ok(_) => false,
                // Not (yet) our child: keep waiting while it is still alive.
                Err(_) => alive(p),
            },
        );
        if !pending.is_empty() {
            sleep(Duration::from_millis(10));
        }
    }
}
