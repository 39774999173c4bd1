//! Asking on the terminal whether to trust a host key seen for the first time.

use futures::FutureExt;
use keyless_core::terminal_text::escape;
use keyless_core::{HostKeyPrompt, TrustDecision, UnknownHostKey};
use std::io::Write;
use std::sync::Arc;

pub fn tty_host_key_prompt() -> HostKeyPrompt {
    Arc::new(|key: UnknownHostKey| {
        async move {
            tokio::task::spawn_blocking(move || ask(&key))
                .await
                .unwrap_or(TrustDecision::Reject)
        }
        .boxed()
    })
}

fn ask(key: &UnknownHostKey) -> TrustDecision {
    let mut err = std::io::stderr();
    let _ = write!(
        err,
        "The host key of {} is not known yet.\n  {} key fingerprint is {}\n\
         Trust it? [y]es and remember / [o]nce / [N]o: ",
        escape(&key.instance_id),
        escape(&key.algorithm),
        key.fingerprint
    );
    let _ = err.flush();
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line).is_err() {
        return TrustDecision::Reject;
    }
    parse_answer(&line)
}

fn parse_answer(line: &str) -> TrustDecision {
    match line.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => TrustDecision::Always,
        "o" | "once" => TrustDecision::Once,
        _ => TrustDecision::Reject,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_explicit_yes_trusts() {
        assert_eq!(parse_answer("yes\n"), TrustDecision::Always);
        assert_eq!(parse_answer(" Y "), TrustDecision::Always);
        assert_eq!(parse_answer("once"), TrustDecision::Once);
        assert_eq!(parse_answer("\n"), TrustDecision::Reject);
        assert_eq!(parse_answer("yep"), TrustDecision::Reject);
    }
}
