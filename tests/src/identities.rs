//! Who may call the lab: the static key, and the temporary credentials the lab itself issues
//! (STS AssumeRole, SSO GetRoleCredentials), plus the IAM Identity Center state (OIDC clients,
//! device authorizations, access and refresh tokens). See LAB-SPEC.md "Identities".

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use crate::accounts::Account;
use crate::{random, ACCESS_KEY_ID, ACCOUNT_ID, CALLER_ARN, SECRET_ACCESS_KEY};

/// The start URL of the lab's IAM Identity Center (any URL works; this one is in the config).
pub const SSO_START_URL: &str = "https://keyless-lab.awsapps.com/start";
/// The permission set the SSO user holds in both accounts.
pub const SSO_ROLE_NAME: &str = "AdminAccess";
/// A second permission set, in the main account only (the `sso-legacy` profile uses it).
pub const SSO_READONLY_ROLE: &str = "ReadOnly";
/// A permission set in the staging account only (no profile of the lab's config uses it: the
/// setup wizard's tests add one).
pub const SSO_DEVELOPER_ROLE: &str = "Developer";
/// The SSO user's name (appears in the role session ARN).
pub const SSO_USER: &str = "lab-user";
/// The lab's MFA device and the one code it accepts (fixed so tests and humans can type it).
pub const MFA_SERIAL: &str = "arn:aws:iam::123456789012:mfa/lab-admin";
pub const MFA_CODE: &str = "123456";
/// Roles AssumeRole accepts; the second requires MFA.
pub const OPS_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/ops";
pub const OPS_MFA_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/ops-mfa";
/// Device authorization: poll interval (small so tests stay quick) and lifetime.
pub const DEVICE_INTERVAL_SECS: u64 = 1;
pub const DEVICE_EXPIRES_SECS: u64 = 600;
/// Access tokens and issued credentials live this long.
pub const TOKEN_TTL_SECS: u64 = 8 * 3600;
pub const CREDS_TTL_SECS: u64 = 3600;

#[derive(Debug, Clone)]
pub struct Caller {
    pub arn: String,
    pub user_id: String,
    pub account: String,
}

impl Caller {
    /// The SSO user in `role` of `account`:
    /// `arn:aws:sts::<account>:assumed-role/AWSReservedSSO_<role>_<suffix>/lab-user`.
    pub fn sso(account: &Account, role: &str) -> Caller {
        Caller {
            arn: format!(
                "arn:aws:sts::{}:assumed-role/AWSReservedSSO_{role}_{}/{SSO_USER}",
                account.id, account.sso_role_suffix
            ),
            user_id: format!("AROALABSSO{}:{SSO_USER}", role.to_ascii_uppercase()),
            account: account.id.to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct IssuedCreds {
    pub secret: String,
    pub session_token: String,
    pub caller: Caller,
    pub expires: SystemTime,
}

#[derive(Debug, Clone)]
pub struct Device {
    pub device_code: String,
    pub user_code: String,
    pub client_id: String,
    /// The `clientName` it registered with, and the start URL it signs in to (shown on the
    /// verification page).
    pub client_name: String,
    pub start_url: String,
    pub approved: bool,
    /// The user clicked "Deny": CreateToken answers AccessDeniedException from now on.
    pub denied: bool,
    pub redeemed: bool,
    pub expires: Instant,
    /// Grows by 5 s with every slow_down, as RFC 8628 tells the client to do.
    pub interval: Duration,
    pub last_poll: Option<Instant>,
}

/// What tests look at to check a client's polling manners.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct SsoStats {
    pub polls: u32,
    pub pending_answers: u32,
    pub slow_downs: u32,
    /// Polls that came sooner than the interval then in force (a badly behaved client).
    pub too_fast: u32,
    pub tokens_issued: u32,
    pub refreshes: u32,
    /// Every CreateToken with the `refresh_token` grant, refused ones included (a client racing
    /// itself with a rotating refresh token shows here).
    #[serde(default)]
    pub refresh_calls: u32,
    pub role_credentials: u32,
    /// Portal `Logout` calls that ended a sign-in.
    #[serde(default)]
    pub logouts: u32,
}

#[derive(Debug, Default)]
pub struct Identities {
    pub clients: HashMap<String, String>,
    /// client id → clientName
    pub client_names: HashMap<String, String>,
    pub devices: Vec<Device>,
    /// access token → expiry
    pub tokens: HashMap<String, Instant>,
    /// refresh token → client id
    pub refresh_tokens: HashMap<String, String>,
    /// access token → the refresh token issued with it: one sign-in, ended together by Logout.
    pub refresh_of: HashMap<String, String>,
    pub creds: HashMap<String, IssuedCreds>,
    pub stats: SsoStats,
    /// Fault: the next N CreateToken polls answer SlowDownException.
    pub forced_slow_downs: u32,
    /// Fault: StartDeviceAuthorization answers this `verificationUriComplete` (a hostile portal).
    pub forced_verification_uri: Option<String>,
}

impl Identities {
    /// The secret of an access key the lab knows (static or issued and not expired).
    pub fn secret_for(&self, access_key: &str) -> Option<String> {
        if access_key == ACCESS_KEY_ID {
            return Some(SECRET_ACCESS_KEY.to_string());
        }
        self.creds
            .get(access_key)
            .filter(|c| c.expires > SystemTime::now())
            .map(|c| c.secret.clone())
    }

    /// The session token an issued key must travel with (`None` for the static key).
    pub fn session_token_of(&self, access_key: &str) -> Option<String> {
        self.creds.get(access_key).map(|c| c.session_token.clone())
    }

    pub fn caller(&self, access_key: &str) -> Caller {
        match self.creds.get(access_key) {
            Some(c) => c.caller.clone(),
            None => Caller {
                arn: CALLER_ARN.to_string(),
                user_id: "AIDALABKEYLESS00000001".to_string(),
                account: ACCOUNT_ID.to_string(),
            },
        }
    }

    pub fn issue(&mut self, caller: Caller) -> (String, IssuedCreds) {
        let ak = format!("ASIALAB{}", random::hex(7).to_uppercase());
        let creds = IssuedCreds {
            secret: random::hex(20),
            session_token: format!("LabSessionToken{}", random::hex(32)),
            caller,
            expires: SystemTime::now() + Duration::from_secs(CREDS_TTL_SECS),
        };
        self.creds.insert(ak.clone(), creds.clone());
        (ak, creds)
    }

    pub fn new_token(&mut self) -> String {
        let t = format!("lab-access-{}", random::hex(24));
        self.tokens.insert(
            t.clone(),
            Instant::now() + Duration::from_secs(TOKEN_TTL_SECS),
        );
        t
    }

    /// Portal `Logout`: the sign-in of this access token ends (the token and the refresh token
    /// issued with it). False when the token is unknown or expired.
    pub fn logout(&mut self, access_token: &str) -> bool {
        if !self.token_valid(access_token) {
            return false;
        }
        self.tokens.remove(access_token);
        if let Some(refresh) = self.refresh_of.remove(access_token) {
            self.refresh_tokens.remove(&refresh);
        }
        self.stats.logouts += 1;
        true
    }

    /// Fault: an administrator revokes every sign-in. Cached tokens still look valid to the
    /// client, but the portal answers UnauthorizedException and refreshes InvalidGrantException.
    pub fn revoke_sign_ins(&mut self) {
        self.tokens.clear();
        self.refresh_tokens.clear();
        self.refresh_of.clear();
    }

    pub fn token_valid(&self, token: &str) -> bool {
        self.tokens
            .get(token)
            .is_some_and(|exp| *exp > Instant::now())
    }

    /// The latest device authorization with this user code (case-insensitive), whatever its state.
    pub fn device(&mut self, user_code: &str) -> Option<&mut Device> {
        let code = user_code.trim().to_ascii_uppercase();
        self.devices.iter_mut().rev().find(|d| d.user_code == code)
    }

    /// Approves a device authorization by its user code (case-insensitive); false when none
    /// is waiting (unknown, already redeemed or denied).
    pub fn approve(&mut self, user_code: &str) -> bool {
        self.device(user_code)
            .filter(|d| !d.redeemed && !d.denied)
            .map(|d| d.approved = true)
            .is_some()
    }

    /// Denies a device authorization nobody decided on yet: its client's polls get
    /// AccessDeniedException from now on.
    pub fn deny(&mut self, user_code: &str) -> bool {
        self.device(user_code)
            .filter(|d| !d.redeemed && !d.denied && !d.approved)
            .map(|d| d.denied = true)
            .is_some()
    }
}

/// `ABCD-EFGH` from an alphabet without look-alikes.
pub fn user_code() -> String {
    const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    let mut s = String::new();
    for i in 0..8 {
        if i == 4 {
            s.push('-');
        }
        s.push(ALPHABET[random::range(0, ALPHABET.len() as u64 - 1) as usize] as char);
    }
    s
}
