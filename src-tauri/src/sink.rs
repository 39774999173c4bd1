//! Delivers a live session's events and output to the webview: events as JSON on one channel,
//! terminal bytes as raw binary on another (a `Vec<u8>` through JSON would be an array of numbers).

use keyless_core::{LiveEvent, LiveSink};
use tauri::ipc::{Channel, InvokeResponseBody};

pub struct ChannelSink {
    pub events: Channel<LiveEvent>,
    pub output: Channel<InvokeResponseBody>,
}

impl LiveSink for ChannelSink {
    fn event(&self, event: LiveEvent) {
        // The window may be gone; nothing useful to do about a failed send.
        let _ = self.events.send(event);
    }

    fn output(&self, chunk: Vec<u8>) {
        let _ = self.output.send(InvokeResponseBody::Raw(chunk));
    }
}
