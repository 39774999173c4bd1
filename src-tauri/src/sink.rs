//! Delivers a live session's events and output to the webview: events as JSON on a channel,
//! terminal bytes into the queue the page pulls from (`output_socket.rs`).

use crate::state::SessionEnd;
use keyless_core::{LiveEvent, LiveSink, OutputQueue, ProfileStore};
use std::sync::Arc;
use tauri::ipc::Channel;

pub struct ChannelSink {
    pub events: Channel<LiveEvent>,
    pub output: Arc<OutputQueue>,
    /// The saved profile the session was opened through, if any.
    pub profile: Option<String>,
    /// Takes the session out of the app's map when it is over.
    pub end: SessionEnd,
}

impl LiveSink for ChannelSink {
    fn event(&self, event: LiveEvent) {
        if let (LiveEvent::Connected { .. }, Some(name)) = (&event, &self.profile) {
            // Recorded before the UI hears of it, so its refreshed list shows the new time.
            if let Err(e) = ProfileStore::open_default().and_then(|s| s.mark_used(name)) {
                eprintln!(
                    "keyless-app: could not record the use of '{name}': {}",
                    e.message
                );
            }
        }
        let over = matches!(
            event,
            LiveEvent::Failed { .. } | LiveEvent::Ended { .. } | LiveEvent::Lost { .. }
        );
        if over {
            // The page takes what is queued, then hears the output is over.
            self.output.finish();
        }
        // The window may be gone; nothing useful to do about a failed send.
        let _ = self.events.send(event);
        if over {
            self.end.ended();
        }
    }

    fn output(&self, chunk: Vec<u8>) {
        self.output.push(chunk);
    }
}
