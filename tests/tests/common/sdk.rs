//! The real AWS SDK clients pointed at a lab (retries off, so errors surface at once), and the
//! IAM Identity Center sign-in as the AWS CLI does it, for tests that need SSO credentials.

use std::collections::HashMap;

use aws_sdk_ec2::config::Credentials;
use aws_sdk_ssooidc::operation::create_token::builders::CreateTokenFluentBuilder;
use aws_sdk_ssooidc::operation::start_device_authorization::builders::StartDeviceAuthorizationFluentBuilder;
use keyless_lab::{Lab, ACCESS_KEY_ID, SECRET_ACCESS_KEY, SSO_START_URL};

pub fn static_creds() -> Credentials {
    Credentials::new(ACCESS_KEY_ID, SECRET_ACCESS_KEY, None, None, "keyless-lab")
}

/// The lab's first region.
pub fn region(lab: &Lab) -> String {
    lab.regions()[0].clone()
}

/// A config builder of one SDK crate (their `Config` types differ, their builders read the same).
macro_rules! conf {
    ($krate:ident, $lab:expr, $region:expr) => {{
        use $krate::config;
        config::Config::builder()
            .behavior_version(config::BehaviorVersion::latest())
            .region(config::Region::new($region.to_string()))
            .endpoint_url($lab.endpoint())
            .retry_config(config::retry::RetryConfig::disabled())
    }};
}

pub fn ec2(lab: &Lab, region: &str, creds: Credentials) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::from_conf(
        conf!(aws_sdk_ec2, lab, region)
            .credentials_provider(creds)
            .build(),
    )
}

pub fn eic(lab: &Lab, region: &str, creds: Credentials) -> aws_sdk_ec2instanceconnect::Client {
    aws_sdk_ec2instanceconnect::Client::from_conf(
        conf!(aws_sdk_ec2instanceconnect, lab, region)
            .credentials_provider(creds)
            .build(),
    )
}

pub fn sts(lab: &Lab, creds: Credentials) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::from_conf(
        conf!(aws_sdk_sts, lab, region(lab))
            .credentials_provider(creds)
            .build(),
    )
}

/// SSO-OIDC and the SSO portal are unsigned.
pub fn oidc(lab: &Lab) -> aws_sdk_ssooidc::Client {
    aws_sdk_ssooidc::Client::from_conf(conf!(aws_sdk_ssooidc, lab, region(lab)).build())
}

pub fn sso(lab: &Lab) -> aws_sdk_sso::Client {
    aws_sdk_sso::Client::from_conf(conf!(aws_sdk_sso, lab, region(lab)).build())
}

/// How a client registers with SSO-OIDC before the device flow.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// An `[sso-session]` profile: scopes `sso:account:access` and the grant types.
    Session,
    /// A legacy profile (`sso_start_url` in the profile): client name and type only.
    Legacy,
}

/// StartDeviceAuthorization of a registered client for the lab's start URL.
pub fn start_device(
    oidc: &aws_sdk_ssooidc::Client,
    client_id: &str,
    secret: &str,
) -> StartDeviceAuthorizationFluentBuilder {
    oidc.start_device_authorization()
        .client_id(client_id)
        .client_secret(secret)
        .start_url(SSO_START_URL)
}

/// CreateToken polling for a device code (the device_code grant).
pub fn device_token(
    oidc: &aws_sdk_ssooidc::Client,
    client_id: &str,
    secret: &str,
    device_code: &str,
) -> CreateTokenFluentBuilder {
    oidc.create_token()
        .client_id(client_id)
        .client_secret(secret)
        .grant_type("urn:ietf:params:oauth:grant-type:device_code")
        .device_code(device_code)
}

/// A finished device-flow sign-in: the client registration and the token pair.
pub struct SignIn {
    pub client_id: String,
    pub client_secret: String,
    pub access_token: String,
    pub refresh_token: String,
}

/// The device flow with the real aws-sdk-ssooidc client, the "user" approving at once;
/// returns the access token.
pub async fn sso_sign_in(lab: &Lab, registration: Registration) -> String {
    sso_sign_in_full(lab, registration).await.access_token
}

/// [`sso_sign_in`] with everything it got.
pub async fn sso_sign_in_full(lab: &Lab, registration: Registration) -> SignIn {
    let oidc = oidc(lab);
    let mut req = oidc
        .register_client()
        .client_name("lab-test")
        .client_type("public");
    if registration == Registration::Session {
        req = req
            .scopes("sso:account:access")
            .grant_types("urn:ietf:params:oauth:grant-type:device_code")
            .grant_types("refresh_token");
    }
    let reg = req.send().await.expect("RegisterClient");
    let (id, secret) = (reg.client_id().unwrap(), reg.client_secret().unwrap());
    let auth = start_device(&oidc, id, secret)
        .send()
        .await
        .expect("StartDeviceAuthorization");
    assert!(lab.approve_sso(auth.user_code().unwrap()));
    let token = device_token(&oidc, id, secret, auth.device_code().unwrap())
        .send()
        .await
        .expect("CreateToken");
    SignIn {
        client_id: id.to_string(),
        client_secret: secret.to_string(),
        access_token: token.access_token().unwrap().to_string(),
        refresh_token: token.refresh_token().unwrap().to_string(),
    }
}

/// CreateToken with the refresh_token grant.
pub fn refresh_token(oidc: &aws_sdk_ssooidc::Client, s: &SignIn) -> CreateTokenFluentBuilder {
    oidc.create_token()
        .client_id(&s.client_id)
        .client_secret(&s.client_secret)
        .grant_type("refresh_token")
        .refresh_token(&s.refresh_token)
}

/// GetRoleCredentials as SDK credentials.
pub async fn role_credentials(
    lab: &Lab,
    access_token: &str,
    account: &str,
    role: &str,
) -> Credentials {
    let out = sso(lab)
        .get_role_credentials()
        .access_token(access_token)
        .account_id(account)
        .role_name(role)
        .send()
        .await
        .expect("GetRoleCredentials");
    let rc = out.role_credentials().unwrap();
    Credentials::new(
        rc.access_key_id().unwrap(),
        rc.secret_access_key().unwrap(),
        rc.session_token().map(str::to_string),
        None,
        "sso",
    )
}

/// The keys of `[profile NAME]` in the lab's generated `aws/config`.
pub fn aws_profile(lab: &Lab, name: &str) -> HashMap<String, String> {
    let path = lab
        .env()
        .into_iter()
        .find(|(k, _)| k == "AWS_CONFIG_FILE")
        .map(|(_, v)| v)
        .expect("AWS_CONFIG_FILE in the env");
    let text = std::fs::read_to_string(path).expect("the lab's aws config");
    let header = format!("[profile {name}]");
    let mut lines = text.lines().skip_while(|l| l.trim() != header);
    assert!(lines.next().is_some(), "no {header} in\n{text}");
    lines
        .take_while(|l| !l.trim_start().starts_with('['))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// The credentials an SSO profile of the lab's config resolves to, the way the AWS CLI gets
/// them: sign in (legacy when the profile has its own `sso_start_url`), then the profile's
/// account and role. Returns them with the profile's region.
pub async fn sso_profile_credentials(lab: &Lab, profile: &str) -> (Credentials, String) {
    let p = aws_profile(lab, profile);
    let registration = if p.contains_key("sso_session") {
        Registration::Session
    } else {
        Registration::Legacy
    };
    let token = sso_sign_in(lab, registration).await;
    let creds = role_credentials(lab, &token, &p["sso_account_id"], &p["sso_role_name"]).await;
    (creds, p["region"].clone())
}

/// An instance's Name tag, as DescribeInstances reports it.
pub fn name_tag(i: &aws_sdk_ec2::types::Instance) -> Option<&str> {
    i.tags()
        .iter()
        .find(|t| t.key() == Some("Name"))
        .and_then(|t| t.value())
}

/// Name tags of what DescribeInstances shows `creds` in `region` (every page), in order.
pub async fn listed_names(lab: &Lab, region: &str, creds: Credentials) -> Vec<String> {
    let pages: Vec<_> = ec2(lab, region, creds)
        .describe_instances()
        .into_paginator()
        .send()
        .collect()
        .await;
    let mut names = Vec::new();
    for page in pages {
        for r in page.expect("DescribeInstances").reservations() {
            for i in r.instances() {
                names.push(name_tag(i).unwrap_or("-").to_string());
            }
        }
    }
    names
}

/// The lab's own view: names of `account`'s instances in `region`.
pub fn lab_names(lab: &Lab, account: &str, region: &str) -> Vec<String> {
    lab.instances_in(account)
        .into_iter()
        .filter(|i| i.region == region)
        .map(|i| i.name.unwrap_or_else(|| "-".into()))
        .collect()
}
