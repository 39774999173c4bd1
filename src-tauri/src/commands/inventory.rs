//! Start-up facts, regions and the instance list.

use super::Result;
use crate::app_info::AppInfo;
use crate::state::{AppState, ProfileKey};
use keyless_core::{InstanceFilter, Inventory};
use tauri::State;

#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> Result<AppInfo> {
    // Not signed in yet is fine here: the window opens and offers to sign in.
    let region = match state.aws(&None).await {
        Ok(aws) => aws.default_region().ok(),
        Err(_) => None,
    };
    Ok(AppInfo::from_env(region))
}

#[tauri::command]
pub async fn list_regions(
    state: State<'_, AppState>,
    aws_profile: ProfileKey,
) -> Result<Vec<String>> {
    keyless_core::enabled_regions(&state.aws(&aws_profile).await?).await
}

#[tauri::command]
pub async fn list_instances(
    state: State<'_, AppState>,
    aws_profile: ProfileKey,
    regions: Vec<String>,
) -> Result<Inventory> {
    for r in &regions {
        keyless_core::validate::region(r)?;
    }
    let aws = state.aws(&aws_profile).await?;
    let inventory = keyless_core::list_instances(&aws, &regions, &InstanceFilter::default()).await;
    state
        .instances
        .record_listing(&aws_profile, &regions, &inventory);
    Ok(inventory)
}
