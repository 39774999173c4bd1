//! What the app keeps between commands: the AWS context and the open sessions by id.

use keyless_core::{AwsContext, AwsSelection, Error, ErrorKind, LiveSession};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

#[derive(Default)]
pub struct AppState {
    selection: AwsSelection,
    aws: OnceCell<AwsContext>,
    sessions: Mutex<HashMap<u32, Arc<LiveSession>>>,
    next_id: AtomicU32,
}

impl AppState {
    pub fn new(selection: AwsSelection) -> Self {
        AppState {
            selection,
            ..Default::default()
        }
    }

    /// Loaded once, on first use: aws-config reads files and env, no need to repeat it.
    pub async fn aws(&self) -> Result<AwsContext, Error> {
        self.aws
            .get_or_try_init(|| AwsContext::load(&self.selection))
            .await
            .cloned()
    }

    pub fn add(&self, session: Arc<LiveSession>) -> u32 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        self.lock().insert(id, session);
        id
    }

    pub fn get(&self, id: u32) -> Result<Arc<LiveSession>, Error> {
        self.lock().get(&id).cloned().ok_or_else(|| {
            Error::new(ErrorKind::InvalidInput, format!("no session {id}"))
                .with_hint("The tab's session was closed; reconnect to open a new one.")
        })
    }

    pub fn remove(&self, id: u32) -> Option<Arc<LiveSession>> {
        self.lock().remove(&id)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u32, Arc<LiveSession>>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }
}
