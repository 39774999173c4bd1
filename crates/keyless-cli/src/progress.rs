//! How a transfer shows on the terminal (`cp`, sftp's `get` and `put`): a progress bar per file
//! with bytes, rate and ETA on a terminal, nothing but errors otherwise.

use crate::output::print_error;
use indicatif::{ProgressBar, ProgressStyle};
use keyless_core::files::{TransferEvent, TransferSink};
use keyless_core::terminal_text::escape;
use std::sync::{Arc, Mutex};

/// A progress bar per file on a terminal (bytes, rate, ETA); nothing but errors otherwise.
pub struct Bars {
    terminal: bool,
    current: Mutex<Option<(u32, ProgressBar)>>,
}

impl Bars {
    pub fn new(terminal: bool) -> Arc<Bars> {
        Arc::new(Bars {
            terminal,
            current: Mutex::new(None),
        })
    }

    pub fn sink(self: &Arc<Self>) -> TransferSink {
        let bars = self.clone();
        Arc::new(move |event| bars.event(event))
    }

    fn event(&self, event: TransferEvent) {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            TransferEvent::FileStarted {
                file, path, size, ..
            } => {
                let bar = if self.terminal {
                    let bar = ProgressBar::new(size);
                    bar.set_style(style());
                    // A remote name is the server's text.
                    bar.set_message(escape(&path).into_owned());
                    bar
                } else {
                    ProgressBar::hidden()
                };
                *current = Some((file, bar));
            }
            TransferEvent::Progress { file, bytes } => {
                if let Some((f, bar)) = current.as_ref() {
                    if *f == file {
                        bar.set_position(bytes);
                    }
                }
            }
            TransferEvent::FileDone { file } => {
                if let Some((f, bar)) = current.take() {
                    if f == file {
                        bar.finish();
                    }
                }
            }
            TransferEvent::FileFailed { file, error } => {
                if let Some((f, bar)) = current.take() {
                    if f == file {
                        bar.abandon();
                    }
                }
                // The core's message names the file.
                print_error(&error);
            }
        }
    }
}

fn style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{msg:30!} {bytes:>10}/{total_bytes:<10} {binary_bytes_per_sec:>12} ETA {eta:>4} [{bar:20}]",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}
