//! What the app keeps between commands: one AWS context per AWS profile in use, the instances AWS
//! reported (the only ones a session may dial), the live sessions by id and their output waiting
//! for the page, the SSH connections they share, the sign-ins in progress, and the first-run set-up's portal.

use keyless_core::{
    AwsContext, AwsSelection, ConnectionPool, Error, ErrorKind, KnownInstances, LiveSession,
    OutputQueue,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::OnceCell;

/// The AWS profile a command runs as; `None`: whatever aws-config picks (AWS_PROFILE, default).
pub type ProfileKey = Option<String>;

/// A profile's context, loaded on first use; the bool: credentials the user gave an MFA code for
/// (kept until they expire).
type Loaded = (Arc<OnceCell<AwsContext>>, bool);

#[derive(Default)]
pub struct AppState {
    base: AwsSelection,
    contexts: Mutex<HashMap<ProfileKey, Loaded>>,
    /// Filled by `list_instances` and `profile_resolve`; `open_session` looks instances up here.
    pub instances: KnownInstances,
    /// The lab's endpoint override and the HTTPS proxy for EICE tunnels, from the environment.
    pub tunnel: keyless_core::eice::TunnelSettings,
    sessions: Arc<Sessions>,
    /// One SSH connection per instance (and user, port, path), shared by the tabs to it.
    pub pool: ConnectionPool,
    /// Sign-ins in progress by profile.
    logins: Tasks<ProfileKey>,
    /// The first-run IAM Identity Center set-up: its sign-in while it runs, then the portal it
    /// listed — the only accounts and roles `sso_setup_write` writes profiles for.
    setup_sign_in: Tasks<()>,
    setup_portal: Mutex<Option<keyless_core::identity::Portal>>,
    /// The saved forwards running, on connections from `pool`.
    pub forwards: crate::forwards::Forwards,
    /// The Files panels' SFTP sessions, by terminal session.
    pub files: crate::files::FilesSessions,
}

/// Tasks the UI may cancel, one per key, each with a number so a finished one never removes
/// its successor.
struct Tasks<K> {
    running: Mutex<HashMap<K, (u64, tokio::task::AbortHandle)>>,
    next: AtomicU64,
}

impl<K> Default for Tasks<K> {
    fn default() -> Self {
        Tasks {
            running: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
        }
    }
}

impl<K: Eq + std::hash::Hash + Clone> Tasks<K> {
    /// Records a task; a previous one of the key is stopped. The number goes to `finished`.
    fn started(&self, key: &K, task: tokio::task::AbortHandle) -> u64 {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        if let Some((_, old)) = lock(&self.running).insert(key.clone(), (n, task)) {
            old.abort();
        }
        n
    }

    fn finished(&self, key: &K, n: u64) {
        let mut running = lock(&self.running);
        if running.get(key).is_some_and(|(m, _)| *m == n) {
            running.remove(key);
        }
    }

    /// True when a task was running and is now stopped.
    fn cancel(&self, key: &K) -> bool {
        match lock(&self.running).remove(key) {
            Some((_, task)) => {
                task.abort();
                true
            }
            None => false,
        }
    }
}

#[derive(Default)]
struct Sessions {
    by_id: Mutex<HashMap<u32, Arc<LiveSession>>>,
    /// Kept past a session's end until the page has taken its last bytes (see `output_socket.rs`).
    outputs: Mutex<HashMap<u32, Arc<OutputQueue>>>,
    next_id: AtomicU32,
}

/// Given to a session's sink: called once the session is over, it drops the backend's handle.
pub struct SessionEnd {
    sessions: std::sync::Weak<Sessions>,
    id: u32,
}

impl SessionEnd {
    pub fn ended(&self) {
        if let Some(sessions) = self.sessions.upgrade() {
            lock(&sessions.by_id).remove(&self.id);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl AppState {
    /// `base` holds what every profile shares (an endpoint URL, a fixed region in tests).
    pub fn new(base: AwsSelection) -> Self {
        AppState {
            base,
            tunnel: keyless_core::eice::TunnelSettings::from_env(),
            ..Default::default()
        }
    }

    pub fn selection(&self, profile: &ProfileKey) -> AwsSelection {
        AwsSelection {
            profile: profile.clone().or_else(|| self.base.profile.clone()),
            ..self.base.clone()
        }
    }

    /// Loaded once per profile, on first use. A failed load (no sign-in yet, an MFA code needed)
    /// is not kept, so the next call tries again.
    pub async fn aws(&self, profile: &ProfileKey) -> Result<AwsContext, Error> {
        let cell = lock(&self.contexts)
            .entry(profile.clone())
            .or_default()
            .0
            .clone();
        let selection = self.selection(profile);
        cell.get_or_try_init(|| AwsContext::load(&selection))
            .await
            .cloned()
    }

    /// Replaces a profile's context (after an MFA AssumeRole).
    pub fn set_aws(&self, profile: &ProfileKey, aws: AwsContext) {
        let cell = Arc::new(OnceCell::new_with(Some(aws)));
        lock(&self.contexts).insert(profile.clone(), (cell, true));
    }

    /// Forgets every loaded context but the MFA ones (after sign-in or sign-out): profiles that
    /// share the sso-session, or chain from the profile, must load again too.
    pub fn forget_all_aws(&self) {
        lock(&self.contexts).retain(|_, (_, mfa)| *mfa);
    }

    /// Starts a session under a new id. `start` gets the [`SessionEnd`] to call when the session
    /// ends, fails or is lost, which takes it out of the map, and the queue its output goes to.
    pub fn add_session(
        &self,
        start: impl FnOnce(SessionEnd, Arc<OutputQueue>) -> Arc<LiveSession>,
    ) -> u32 {
        let sessions = &self.sessions;
        let id = sessions.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let end = SessionEnd {
            sessions: Arc::downgrade(sessions),
            id,
        };
        let output = Arc::new(OutputQueue::new());
        lock(&sessions.outputs).insert(id, output.clone());
        // Held while the session starts, so its end (on another task) cannot come before its insert.
        let mut map = lock(&sessions.by_id);
        map.insert(id, start(end, output));
        id
    }

    /// Session `id`'s output queue, while the page has not taken all of it.
    pub fn output(&self, id: u32) -> Option<Arc<OutputQueue>> {
        lock(&self.sessions.outputs).get(&id).cloned()
    }

    /// The page has taken session `id`'s last bytes.
    pub fn drop_output(&self, id: u32) {
        lock(&self.sessions.outputs).remove(&id);
    }

    pub fn get(&self, id: u32) -> Result<Arc<LiveSession>, Error> {
        lock(&self.sessions.by_id).get(&id).cloned().ok_or_else(|| {
            Error::new(ErrorKind::InvalidInput, format!("no session {id}"))
                .with_hint("The tab's session has ended; reconnect to open a new one.")
        })
    }

    /// Takes session `id` out (its tab closed): its unread output goes too, and a request
    /// waiting for it answers at once.
    pub fn remove(&self, id: u32) -> Option<Arc<LiveSession>> {
        if let Some(output) = lock(&self.sessions.outputs).remove(&id) {
            output.discard();
        }
        lock(&self.sessions.by_id).remove(&id)
    }

    /// How many sessions the backend holds (connecting or connected).
    pub fn session_count(&self) -> usize {
        lock(&self.sessions.by_id).len()
    }

    /// Records a sign-in task so it can be cancelled; a previous one for the profile is stopped.
    /// Returns the number to pass to [`Self::login_finished`].
    pub fn login_started(&self, profile: &ProfileKey, task: tokio::task::AbortHandle) -> u64 {
        self.logins.started(profile, task)
    }

    pub fn login_finished(&self, profile: &ProfileKey, n: u64) {
        self.logins.finished(profile, n)
    }

    /// True when a sign-in was running and is now stopped.
    pub fn cancel_login(&self, profile: &ProfileKey) -> bool {
        self.logins.cancel(profile)
    }

    /// The set-up's sign-in, as [`Self::login_started`]; a new one also forgets the last portal.
    pub fn setup_started(&self, task: tokio::task::AbortHandle) -> u64 {
        *lock(&self.setup_portal) = None;
        self.setup_sign_in.started(&(), task)
    }

    pub fn setup_finished(&self, n: u64) {
        self.setup_sign_in.finished(&(), n)
    }

    pub fn cancel_setup(&self) -> bool {
        self.setup_sign_in.cancel(&())
    }

    /// What the set-up's sign-in listed: the roles `sso_setup_write` may write profiles for.
    pub fn set_portal(&self, portal: Option<keyless_core::identity::Portal>) {
        *lock(&self.setup_portal) = portal;
    }

    pub fn portal(&self) -> Option<keyless_core::identity::Portal> {
        lock(&self.setup_portal).clone()
    }
}

/// The sessions' output as the output socket serves it (`output_socket.rs`).
pub struct SessionOutputs<R: tauri::Runtime>(pub tauri::AppHandle<R>);

impl<R: tauri::Runtime> crate::output_socket::Outputs for SessionOutputs<R> {
    fn queue(&self, id: u32) -> Option<Arc<OutputQueue>> {
        use tauri::Manager;
        self.0.state::<AppState>().output(id)
    }

    fn taken(&self, id: u32, n: usize) {
        use tauri::Manager;
        // Taken is acknowledged: the page asks only when its terminal has room, so this is the
        // flow control (the session reads SSH while this stays low).
        if let Ok(live) = self.0.state::<AppState>().get(id) {
            live.ack(n);
        }
    }

    fn over(&self, id: u32) {
        use tauri::Manager;
        self.0.state::<AppState>().drop_output(id);
    }
}
