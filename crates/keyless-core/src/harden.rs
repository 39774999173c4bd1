//! Keeps the secrets in this process's memory out of core dumps and away from debuggers.
//!
//! SSO access and refresh tokens, MFA-backed role credentials and the one-time SSH keys live in
//! the app's (and briefly the CLI's) memory. A crash would write them into a core file (which
//! systemd-coredump keeps on disk), and any process of the same user could otherwise ptrace-attach
//! and read them. As OpenSSH's ssh-agent does: not dumpable (`PR_SET_DUMPABLE` 0, which also
//! refuses ptrace by non-root processes) and no core files at all (`RLIMIT_CORE` 0, inherited by
//! children). Linux only; elsewhere a no-op.

/// Makes this process not dumpable and sets its core-file limit to 0 (soft and hard). Call it
/// first thing in `main`. An error means the kernel refused; the caller says so and goes on.
#[cfg(target_os = "linux")]
pub fn harden_process() -> std::io::Result<()> {
    use nix::sys::resource::{setrlimit, Resource};
    setrlimit(Resource::RLIMIT_CORE, 0, 0)?;
    nix::sys::prctl::set_dumpable(false)?;
    Ok(())
}

#[cfg(not(target_os = "linux"))]
pub fn harden_process() -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use nix::sys::resource::{getrlimit, Resource};

    const CHILD: &str = "KEYLESS_HARDEN_TEST_CHILD";

    /// Runs in a child process of its own (the test binary again, this test only), so the rest
    /// of the suite keeps a normal process.
    #[test]
    fn the_process_is_not_dumpable_and_writes_no_core() {
        if std::env::var_os(CHILD).is_some() {
            assert!(nix::sys::prctl::get_dumpable().unwrap(), "dumpable before");
            harden_process().unwrap();
            assert!(!nix::sys::prctl::get_dumpable().unwrap());
            assert_eq!(getrlimit(Resource::RLIMIT_CORE).unwrap(), (0, 0));
            // The kernel says the same in /proc: no core file size left.
            let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
            let core = limits
                .lines()
                .find(|l| l.starts_with("Max core file size"))
                .unwrap();
            assert_eq!(core.split_whitespace().nth(4), Some("0"), "{core}");
            assert_eq!(core.split_whitespace().nth(5), Some("0"), "{core}");
            return;
        }
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "harden::tests::the_process_is_not_dumpable_and_writes_no_core",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("1 passed"), "{text}");
    }
}
