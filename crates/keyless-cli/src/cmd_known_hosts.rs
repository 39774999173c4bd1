//! `keyless known-hosts show|forget`.

use crate::args::KnownHostsAction;
use crate::output::Failure;
use keyless_core::hostkeys::fingerprint;
use keyless_core::{validate, KnownHosts};

pub fn run(action: KnownHostsAction) -> Result<i32, Failure> {
    let store = KnownHosts::open_default().map_err(Failure::runtime)?;
    match action {
        KnownHostsAction::Show { instance_id: None } => {
            let text = std::fs::read_to_string(store.path()).unwrap_or_default();
            for line in text
                .lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            {
                // Our own file, but a hand edit or another tool may have put anything in it.
                println!("{}", keyless_core::terminal_text::escape(line));
            }
            eprintln!("({})", store.path().display());
        }
        KnownHostsAction::Show {
            instance_id: Some(id),
        } => {
            validate::instance_id(&id).map_err(Failure::usage)?;
            for key in store.keys_for(&id).map_err(Failure::runtime)? {
                println!("{id} {} {}", key.algorithm(), fingerprint(&key));
            }
        }
        KnownHostsAction::Forget { instance_id } => {
            validate::instance_id(&instance_id).map_err(Failure::usage)?;
            store.forget(&instance_id).map_err(Failure::runtime)?;
            eprintln!("keyless: forgot the host keys of {instance_id}");
        }
    }
    Ok(0)
}
