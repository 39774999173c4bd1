//! AWS identities: the profiles of `~/.aws/config`, who you are, IAM Identity Center sign-in and
//! sign-out, and the MFA code of assume-role profiles with `mfa_serial`.

use super::Result;
use crate::state::{AppState, ProfileKey};
use keyless_core::identity::{self, AwsProfile, CallerIdentity, DeviceCode, SignOut};
use keyless_core::{AwsContext, Error, ErrorKind};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, TS)]
pub struct AwsProfiles {
    pub profiles: Vec<AwsProfile>,
    /// The profile used when none is picked (AWS_PROFILE, else `default`).
    pub default_profile: String,
    /// No AWS identity is configured at all (no profile with credentials, none in the
    /// environment): the window shows its first-run view.
    pub setup_needed: bool,
}

/// What the user needs to approve a sign-in in the browser.
#[derive(Debug, Clone, Serialize, TS)]
pub struct LoginPrompt {
    pub user_code: String,
    pub verification_uri: String,
    /// The page with the code filled in (what the browser was sent to).
    pub url: String,
    /// Set when the portal's link is not one Keyless opens (not https://): the browser was not
    /// opened, and this says why.
    pub url_warning: Option<String>,
    pub expires_in_secs: u32,
}

impl From<&DeviceCode> for LoginPrompt {
    fn from(c: &DeviceCode) -> Self {
        LoginPrompt {
            user_code: c.user_code.clone(),
            verification_uri: c.verification_uri.clone(),
            url: c.url().to_owned(),
            url_warning: identity::sign_in_page_warning(c.url()),
            expires_in_secs: u32::try_from(c.expires_in.as_secs()).unwrap_or(u32::MAX),
        }
    }
}

#[tauri::command]
pub fn aws_profiles() -> AwsProfiles {
    AwsProfiles {
        profiles: identity::list_profiles(),
        default_profile: identity::config_file::effective_profile(None),
        setup_needed: identity::setup_needed(),
    }
}

#[tauri::command]
pub async fn whoami(state: State<'_, AppState>, aws_profile: ProfileKey) -> Result<CallerIdentity> {
    identity::whoami(&state.aws(&aws_profile).await?).await
}

/// IAM Identity Center device sign-in: the code goes to `prompt` (and the browser opens on the
/// page), then this waits until the user approves, the code expires, or `sso_login_cancel`.
#[tauri::command]
pub async fn sso_login(
    state: State<'_, AppState>,
    aws_profile: ProfileKey,
    prompt: Channel<LoginPrompt>,
) -> Result<String> {
    let endpoint = state.selection(&aws_profile).endpoint_url;
    let profile = aws_profile.clone();
    let task = tauri::async_runtime::spawn(async move {
        identity::login(profile.as_deref(), endpoint.as_deref(), show_code(prompt)).await
    });
    let n = state.login_started(&aws_profile, task.inner().abort_handle());
    let outcome = task.await;
    state.login_finished(&aws_profile, n);
    let login = sign_in_outcome(outcome)?;
    state.forget_all_aws();
    Ok(login.expires_at)
}

/// Sends the device code to the UI and opens its page in the browser — unless the portal chose
/// a link that is not https://, which is shown, never opened.
pub(super) fn show_code(prompt: Channel<LoginPrompt>) -> impl FnOnce(&DeviceCode) {
    move |code| {
        let shown = LoginPrompt::from(code);
        let open = shown.url_warning.is_none();
        let _ = prompt.send(shown);
        if open {
            let _ = identity::open_url(code.url());
        }
    }
}

/// A sign-in task's end: its own result, or "cancelled" when the UI stopped it.
pub(super) fn sign_in_outcome<T>(
    outcome: std::result::Result<Result<T>, tauri::Error>,
) -> Result<T> {
    match outcome {
        Ok(done) => done,
        Err(tauri::Error::JoinError(e)) if e.is_cancelled() => {
            Err(Error::new(ErrorKind::Credentials, "sign-in cancelled")
                .with_hint("Sign in again when you are ready."))
        }
        // A bug, not the user's doing: say so rather than "cancelled".
        Err(e) => Err(Error::new(
            ErrorKind::Credentials,
            format!("the sign-in stopped unexpectedly: {e}"),
        )
        .with_hint("Try signing in again.")),
    }
}

#[tauri::command]
pub fn sso_login_cancel(state: State<'_, AppState>, aws_profile: ProfileKey) -> bool {
    state.cancel_login(&aws_profile)
}

/// Signs the profile's IAM Identity Center sign-in out for the app and the AWS CLI alike: the
/// portal's Logout, the token cache, the AWS CLI's cached role credentials. Says what went.
#[tauri::command]
pub async fn sso_logout(state: State<'_, AppState>, aws_profile: ProfileKey) -> Result<SignOut> {
    let endpoint = state.selection(&aws_profile).endpoint_url;
    let out = identity::logout(aws_profile.as_deref(), endpoint.as_deref()).await;
    // Whatever the files' fate, no context of this app keeps credentials of that sign-in.
    state.forget_all_aws();
    out
}

/// Assumes the profile's role with the MFA code; the credentials serve this app until they expire.
#[tauri::command]
pub async fn mfa_submit(
    state: State<'_, AppState>,
    aws_profile: ProfileKey,
    code: String,
) -> Result<()> {
    let prompt = move |_serial: &str| Ok(code.clone());
    let aws = AwsContext::load_with(&state.selection(&aws_profile), Some(&prompt)).await?;
    state.set_aws(&aws_profile, aws);
    Ok(())
}
