//! The first-run view's commands: IAM Identity Center set up from nothing — sign in to the
//! portal and list it, then write profiles for the roles the user keeps (only roles that listing
//! holds) — and the demo lab, when the run script offers it.

use super::identity::{show_code, sign_in_outcome, LoginPrompt};
use super::Result;
use crate::app_info::{lab_offered, DEMO_LAB_EXIT};
use crate::state::AppState;
use keyless_core::identity::config_file::AwsFiles;
use keyless_core::identity::sso_setup;
use keyless_core::identity::{ConfigWritten, Portal, SetupChoices};
use keyless_core::Error;
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};

/// Signs in to the portal at `start_url` (the device code goes to `prompt`, the browser opens on
/// its page) and lists its accounts and roles. An sso-session of the AWS config file with this
/// start URL is reused, and so is its sign-in while it works (then no code is sent).
#[tauri::command]
pub async fn sso_setup_start(
    state: State<'_, AppState>,
    start_url: String,
    sso_region: String,
    prompt: Channel<LoginPrompt>,
) -> Result<Portal> {
    let plan = sso_setup::plan_session(&AwsFiles::load(), &start_url, sso_region.trim(), None)?;
    let endpoint = state.selection(&None).endpoint_url;
    let task = tauri::async_runtime::spawn(async move {
        sso_setup::open_portal(&plan, endpoint.as_deref(), show_code(prompt)).await
    });
    let n = state.setup_started(task.inner().abort_handle());
    let outcome = task.await;
    state.setup_finished(n);
    let portal = sign_in_outcome(outcome)?;
    state.set_portal(Some(portal.clone()));
    Ok(portal)
}

#[tauri::command]
pub fn sso_setup_cancel(state: State<'_, AppState>) -> bool {
    state.cancel_setup()
}

/// Adds the chosen roles' profiles (and the sso-session) to the AWS config file; only roles the
/// last `sso_setup_start` listed. The profiles are usable at once: `aws_profiles` lists them.
#[tauri::command]
pub fn sso_setup_write(state: State<'_, AppState>, choices: SetupChoices) -> Result<ConfigWritten> {
    let portal = state.portal().ok_or_else(|| {
        Error::invalid("no AWS access portal has been signed in to and listed yet")
            .with_hint("Sign in to the portal first.")
    })?;
    let written = portal.write(&choices)?;
    // A refused write (a taken name) keeps the listing for another try; a written one is spent.
    state.set_portal(None);
    Ok(written)
}

/// Ends the app with the exit code that tells `scripts/run.sh` to start the lab and open the
/// app again in it. Refused unless the script offered the lab (`KEYLESS_OFFER_LAB=1`).
#[tauri::command]
pub fn start_demo_lab<R: Runtime>(app: AppHandle<R>) -> Result<()> {
    if !lab_offered() {
        return Err(Error::invalid(
            "the demo lab is offered only when scripts/run.sh started Keyless",
        )
        .with_hint("Run scripts/run.sh from the Keyless source tree to try the lab."));
    }
    app.exit(DEMO_LAB_EXIT);
    Ok(())
}
