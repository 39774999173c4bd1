//! keyless-lab: emulates, on loopback only, the AWS APIs Keyless uses (EC2 Query, EC2 Instance
//! Connect, STS, IAM Identity Center) and runs real OpenSSH `sshd` processes as the instances.
//! See `tests/LAB-SPEC.md`. Keyless must reach it only through the wire protocols.

mod accounts;
mod addrs;
mod catalogue;
mod core;
mod device_page;
mod ec2_api;
mod ec2_filters;
mod ec2_xml;
mod eic_api;
mod eice_admit;
mod eice_api;
mod eice_catalogue;
mod eice_presign_verify;
mod eice_tunnel;
mod env_file;
mod error;
mod fault;
mod identities;
mod identity;
mod keys_endpoint;
mod lab;
mod options;
mod os_user;
mod policy;
mod procs;
mod random;
mod server;
mod sigv4_verify;
mod ssh_keys;
mod sshd;
mod sso_api;
mod state;
mod sts_api;
mod timefmt;

pub mod control;
pub mod daemon;
pub mod mini_http;

pub use accounts::{ACCOUNT_ID, ACCOUNT_NAME, STAGING_ACCOUNT_ID, STAGING_ACCOUNT_NAME};
pub use catalogue::{PRIVATE_DB, STAGING_API, STAGING_INSTANCES, STAGING_OLD, STAGING_WEB};
pub use eice_catalogue::MAX_TUNNELS;
pub use eice_tunnel::{
    CLOSE_BY_ENDPOINT, CLOSE_INSTANCE_CLOSED, CLOSE_MAX_DURATION, CLOSE_TEXT_FROM_CLIENT,
    CLOSE_UNREACHABLE, FAULT_TEXT,
};
pub use env_file::{SSO_ADMIN_PROFILE, SSO_LEGACY_PROFILE, SSO_STAGING_PROFILE};
pub use error::LabError;
pub use fault::{Fault, Switch};
pub use identities::{
    SsoStats, MFA_CODE, MFA_SERIAL, OPS_MFA_ROLE_ARN, OPS_ROLE_ARN, SSO_DEVELOPER_ROLE,
    SSO_READONLY_ROLE, SSO_ROLE_NAME, SSO_START_URL, SSO_USER,
};
pub use identity::{forget as forget_identity, IdentityStatus};
pub use lab::Lab;
pub use options::LabOptions;
pub use ssh_keys::fingerprint_of_line;
pub use state::{ApiRequest, LabEndpoint, LabInstance, PushRecord, TunnelOutcome, TunnelRecord};

/// The lab's only access key; any other key is "unrecognized".
pub const ACCESS_KEY_ID: &str = "AKIALABKEYLESS000001";
/// Fixed so env files stay valid across restarts of the same lab.
pub const SECRET_ACCESS_KEY: &str = "keylessLabSecretKey0000000000000000000001";
/// The IAM identity the lab's credentials belong to (used in AWS-style denial messages).
pub const CALLER_ARN: &str = "arn:aws:iam::123456789012:user/lab-admin";

/// Points an in-process AWS SDK at the lab's fixed credentials and away from the user's own AWS
/// files, once per process. Each test then passes its own lab's endpoint (`AwsSelection::
/// endpoint_url`), so tests own their labs and several run side by side.
pub fn use_lab_credentials_in_process() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::env::set_var("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID);
        std::env::set_var("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY);
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::set_var("AWS_CONFIG_FILE", "/dev/null");
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    });
}
