//! Saved connection profiles: list, save (add or edit), delete (the UI keeps it for undo), and
//! resolve a profile's target to the running instances it may mean.

use super::Result;
use crate::state::AppState;
use keyless_core::profiles;
use keyless_core::{Instance, Profile, ProfileStore};
use tauri::State;

#[tauri::command]
pub fn profiles_list() -> Result<Vec<Profile>> {
    ProfileStore::open_default()?.list()
}

/// Adds `profile`, or replaces the one called `previous` (which may be a rename). Returns the
/// new list.
#[tauri::command]
pub fn profile_save(previous: Option<String>, profile: Profile) -> Result<Vec<Profile>> {
    let store = ProfileStore::open_default()?;
    match previous {
        Some(name) => store.update(&name, profile)?,
        None => store.add(profile)?,
    }
    refresh_ssh_config(&store);
    store.list()
}

/// Removes a profile and returns it, so the UI can offer Undo (which saves it again).
#[tauri::command]
pub fn profile_delete(name: String) -> Result<Profile> {
    let store = ProfileStore::open_default()?;
    let removed = store.remove(&name)?;
    refresh_ssh_config(&store);
    Ok(removed)
}

/// Keeps an installed `~/.ssh/keyless.conf` (from `keyless ssh-config --install`) current. A
/// failure is only logged: the profile change itself is saved.
fn refresh_ssh_config(store: &ProfileStore) {
    if let Err(e) = keyless_core::openssh::config::refresh_if_installed(store) {
        eprintln!(
            "keyless-app: warning: the OpenSSH config is not updated: {}",
            e.message
        );
    }
}

/// The running instances a profile may connect to, before any key is pushed: one (connect),
/// several (the user picks), or an error that says the instance is stopped, gone or unmatched.
#[tauri::command]
pub async fn profile_resolve(state: State<'_, AppState>, name: String) -> Result<Vec<Instance>> {
    let profile = ProfileStore::open_default()?.get(&name)?;
    let aws = state.aws(&profile.aws_profile).await?;
    let candidates = profiles::profile_candidates(&aws, &profile).await?;
    // The UI connects to one of these by id: the backend must know them.
    state.instances.record(&profile.aws_profile, &candidates);
    Ok(candidates)
}
