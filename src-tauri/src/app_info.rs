//! What the UI needs to know at start: version, where it is pointed, sensible defaults.

use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, TS)]
pub struct AppInfo {
    pub version: String,
    /// Talking to the local lab rather than AWS (the run command sets KEYLESS_LAB=1).
    pub lab: bool,
    pub aws_profile: Option<String>,
    /// Regions selected at start: KEYLESS_REGIONS (comma-separated), else the profile's region.
    pub default_regions: Vec<String>,
    /// KEYLESS_SSH_PORT, else 22.
    pub default_port: u16,
    /// Install the end-to-end tests' read-only hook (KEYLESS_E2E=1).
    pub e2e: bool,
    /// The first-run view may offer the demo lab: `scripts/run.sh` started the app and starts
    /// the lab when it ends with [`DEMO_LAB_EXIT`] (KEYLESS_OFFER_LAB=1). An app started any
    /// other way has no lab to offer: the lab binary is part of the source tree, not the app.
    pub offer_lab: bool,
}

/// The exit code `start_demo_lab` ends the app with; `scripts/run.sh` then starts the lab and
/// the app again in it.
pub const DEMO_LAB_EXIT: i32 = 10;

/// KEYLESS_OFFER_LAB=1: see [`AppInfo::offer_lab`].
pub fn lab_offered() -> bool {
    std::env::var("KEYLESS_OFFER_LAB").is_ok_and(|v| v == "1")
}

impl AppInfo {
    pub fn from_env(profile_region: Option<String>) -> AppInfo {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let default_regions = match var("KEYLESS_REGIONS") {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .collect(),
            None => profile_region.into_iter().collect(),
        };
        AppInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            lab: var("KEYLESS_LAB").as_deref() == Some("1"),
            aws_profile: var("AWS_PROFILE"),
            default_regions,
            default_port: var("KEYLESS_SSH_PORT")
                .and_then(|p| p.parse().ok())
                .filter(|p| *p != 0)
                .unwrap_or(22),
            e2e: var("KEYLESS_E2E").as_deref() == Some("1"),
            offer_lab: lab_offered(),
        }
    }
}
