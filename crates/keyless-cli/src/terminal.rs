//! The local terminal during a session: raw mode, its size, keystrokes out, resizes out.

use keyless_core::{PtySize, SessionInput};
use tokio::io::AsyncReadExt;

/// Raw mode for as long as this lives.
pub struct RawMode(());

impl RawMode {
    pub fn enable() -> std::io::Result<Self> {
        crossterm::terminal::enable_raw_mode()?;
        Ok(RawMode(()))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

/// Columns and rows of the controlling terminal; 80×24 when there is none.
pub fn size() -> (u32, u32) {
    crossterm::terminal::size()
        .map(|(c, r)| (u32::from(c), u32::from(r)))
        .unwrap_or((80, 24))
}

/// Copies stdin to the session; end of input becomes EOF on the remote side.
pub async fn forward_stdin(input: SessionInput) {
    let mut stdin = tokio::io::stdin();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match stdin.read(&mut buf).await {
            Ok(0) | Err(_) => {
                let _ = input.eof().await;
                return;
            }
            Ok(n) => {
                if input.send(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Sends the new size on every SIGWINCH.
pub async fn forward_resizes(input: SessionInput) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut winch) = signal(SignalKind::window_change()) else {
        return;
    };
    while winch.recv().await.is_some() {
        let (cols, rows) = size();
        if input.resize(PtySize { cols, rows }).await.is_err() {
            return;
        }
    }
}
