//! What the app keeps between commands: one AWS context per AWS profile in use, the instances AWS
//! reported (the only ones a session may dial), the live sessions by id, the SSH connections
//! they share, and the sign-ins in progress.

use keyless_core::{
    AwsContext, AwsSelection, ConnectionPool, Error, ErrorKind, KnownInstances, LiveSession,
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
    /// Sign-ins in progress by profile, with a number so a finished one never removes its successor.
    logins: Mutex<HashMap<ProfileKey, (u64, tokio::task::AbortHandle)>>,
    next_login: AtomicU64,
    /// The saved forwards running, on connections from `pool`.
    pub forwards: crate::forwards::Forwards,
    /// The Files panels' SFTP sessions, by terminal session.
    pub files: crate::files::FilesSessions,
}

#[derive(Default)]
struct Sessions {
    by_id: Mutex<HashMap<u32, Arc<LiveSession>>>,
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
    /// ends, fails or is lost, which takes it out of the map.
    pub fn add_session(&self, start: impl FnOnce(SessionEnd) -> Arc<LiveSession>) -> u32 {
        let sessions = &self.sessions;
        let id = sessions.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let end = SessionEnd {
            sessions: Arc::downgrade(sessions),
            id,
        };
        // Held while the session starts, so its end (on another task) cannot come before its insert.
        let mut map = lock(&sessions.by_id);
        map.insert(id, start(end));
        id
    }

    pub fn get(&self, id: u32) -> Result<Arc<LiveSession>, Error> {
        lock(&self.sessions.by_id).get(&id).cloned().ok_or_else(|| {
            Error::new(ErrorKind::InvalidInput, format!("no session {id}"))
                .with_hint("The tab's session has ended; reconnect to open a new one.")
        })
    }

    pub fn remove(&self, id: u32) -> Option<Arc<LiveSession>> {
        lock(&self.sessions.by_id).remove(&id)
    }

    /// How many sessions the backend holds (connecting or connected).
    pub fn session_count(&self) -> usize {
        lock(&self.sessions.by_id).len()
    }

    /// Records a sign-in task so it can be cancelled; a previous one for the profile is stopped.
    /// Returns the number to pass to [`Self::login_finished`].
    pub fn login_started(&self, profile: &ProfileKey, task: tokio::task::AbortHandle) -> u64 {
        let n = self.next_login.fetch_add(1, Ordering::Relaxed);
        if let Some((_, old)) = lock(&self.logins).insert(profile.clone(), (n, task)) {
            old.abort();
        }
        n
    }

    pub fn login_finished(&self, profile: &ProfileKey, n: u64) {
        let mut logins = lock(&self.logins);
        if logins.get(profile).is_some_and(|(m, _)| *m == n) {
            logins.remove(profile);
        }
    }

    /// True when a sign-in was running and is now stopped.
    pub fn cancel_login(&self, profile: &ProfileKey) -> bool {
        match lock(&self.logins).remove(profile) {
            Some((_, task)) => {
                task.abort();
                true
            }
            None => false,
        }
    }
}
