//! Per-file events for one transfer: numbering, and progress at most every ~100 ms so a fast
//! link does not flood the UI with events.

use super::{TransferEvent, TransferReport, TransferSink};
use crate::error::Error;
use std::time::{Duration, Instant};

const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// The running tally of one transfer and the sink it reports to.
pub(super) struct Tally {
    sink: TransferSink,
    next_file: u32,
    pub report: TransferReport,
}

impl Tally {
    pub fn new(sink: TransferSink) -> Tally {
        Tally {
            sink,
            next_file: 0,
            report: TransferReport::default(),
        }
    }

    /// Numbers a new file and says that it starts.
    pub fn start(&mut self, path: &str, dest: &str, size: u64) -> FileProgress {
        let file = self.next_file;
        self.next_file += 1;
        (self.sink)(TransferEvent::FileStarted {
            file,
            path: path.to_owned(),
            dest: dest.to_owned(),
            size,
        });
        FileProgress {
            sink: self.sink.clone(),
            file,
            last: None,
            copied: 0,
        }
    }

    pub fn done(&mut self, file: FileProgress) {
        self.report.files += 1;
        self.report.bytes += file.copied;
        (self.sink)(TransferEvent::FileDone { file: file.file });
    }

    pub fn failed(&mut self, file: FileProgress, error: Error) {
        self.report.failed += 1;
        self.report.bytes += file.copied;
        (self.sink)(TransferEvent::FileFailed {
            file: file.file,
            error,
        });
    }

    /// A failure found before the file's copy could start (its source cannot be read).
    pub fn failed_before_start(&mut self, path: &str, dest: &str, error: Error) {
        let file = self.start(path, dest, 0);
        self.failed(file, error);
    }
}

/// One file's progress.
pub(super) struct FileProgress {
    sink: TransferSink,
    file: u32,
    last: Option<Instant>,
    /// Bytes this run moved (a resume's head start not included).
    pub copied: u64,
}

impl FileProgress {
    /// `at` bytes of the file are at the destination; `moved` of them came in this step.
    pub fn advance(&mut self, at: u64, moved: u64) {
        self.copied += moved;
        let now = Instant::now();
        if self
            .last
            .is_none_or(|t| now.duration_since(t) >= PROGRESS_EVERY)
        {
            self.last = Some(now);
            self.report(at);
        }
    }

    /// Says `at` now, whatever the pace (the start and the end of a file).
    pub fn report(&self, at: u64) {
        (self.sink)(TransferEvent::Progress {
            file: self.file,
            bytes: at,
        });
    }
}
