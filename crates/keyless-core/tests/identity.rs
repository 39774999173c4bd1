//! AWS identities against the lab: IAM Identity Center sign-in (device code approved by the
//! test), the token cache read by aws-config, slow_down, expiry, refresh (one at a time),
//! revocation, logout (for the AWS CLI's caches too), MFA assume-role and the profile list. aws-config reads the process environment (HOME, config
//! file, endpoints), so the tests of this file take turns; each still owns its lab.
//! `sso_setup`: IAM Identity Center set up from nothing, the config read back by botocore.

#[path = "identity/sso_setup.rs"]
mod sso_setup;

use keyless_core::identity::{self, sso_cache, CallerIdentity, ProfileKind};
use keyless_core::{AwsContext, AwsSelection, ErrorKind, Fix, InstanceFilter};
use keyless_lab::{Lab, LabOptions};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{Mutex, MutexGuard};

static ENV: Mutex<()> = Mutex::const_new(());

struct Setup {
    lab: Lab,
    home: tempfile::TempDir,
    _turn: MutexGuard<'static, ()>,
}

/// The lab's env file as the process environment, minus its static keys (so profiles decide),
/// with a private HOME for `~/.aws/sso/cache`.
async fn setup() -> Setup {
    setup_with(LabOptions::default()).await
}

async fn setup_with(opts: LabOptions) -> Setup {
    let turn = ENV.lock().await;
    let lab = Lab::start(opts).await.expect("lab starts");
    let home = tempfile::tempdir().unwrap();
    for (k, v) in lab.env() {
        std::env::set_var(k, v);
    }
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
    ] {
        std::env::remove_var(k);
    }
    std::env::set_var("HOME", home.path());
    Setup {
        lab,
        home,
        _turn: turn,
    }
}

fn cache_path(s: &Setup) -> std::path::PathBuf {
    // sha1("lab"): the sso-session name names the file, as in the AWS CLI.
    let p = s
        .home
        .path()
        .join(".aws/sso/cache/3953f9ddf975ab5097ee468d99555c5b441169bf.json");
    assert_eq!(sso_cache::cache_file("lab").unwrap(), p);
    p
}

/// Signs in as `sso-admin`; the "user" approves 1.5 s after the code is shown (so the client
/// sees authorization_pending first).
async fn sso_login(s: &Setup) -> identity::SsoLogin {
    let addr = s.lab.http_addr();
    identity::login(Some("sso-admin"), None, move |code| {
        assert!(code.url().contains(&code.user_code), "{code:?}");
        let user_code = code.user_code.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1500));
            let body = format!("{{\"user_code\":\"{user_code}\"}}");
            let headers = [("content-type".to_string(), "application/json".to_string())];
            let r = keyless_lab::mini_http::request(
                addr,
                "POST",
                "/_lab/sso/approve",
                &headers,
                body.as_bytes(),
            )
            .unwrap();
            assert_eq!(r.status, 200, "{}", r.text());
        });
    })
    .await
    .expect("login succeeds")
}

fn sel(profile: &str) -> AwsSelection {
    AwsSelection {
        profile: Some(profile.to_string()),
        region: None,
        endpoint_url: None,
    }
}

async fn whoami_as(profile: &str) -> CallerIdentity {
    let aws = AwsContext::load(&sel(profile))
        .await
        .expect("context loads");
    identity::whoami(&aws).await.expect("whoami")
}

#[tokio::test]
async fn sso_login_end_to_end_token_cache_read_by_aws_config() {
    let s = setup().await;
    let login = sso_login(&s).await;
    let path = cache_path(&s);
    assert_eq!(login.cache_file, path);
    let text = std::fs::read_to_string(&path).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for key in [
        "accessToken",
        "expiresAt",
        "refreshToken",
        "clientId",
        "clientSecret",
        "registrationExpiresAt",
        "region",
        "startUrl",
    ] {
        assert!(v.get(key).is_some(), "{key} missing in {text}");
    }
    assert!(v["expiresAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(v["startUrl"], keyless_lab::SSO_START_URL);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let stats = s.lab.sso_stats();
    assert!(stats.pending_answers >= 1, "{stats:?}");
    assert_eq!(stats.too_fast, 0, "{stats:?}");
    assert_eq!(stats.tokens_issued, 1);

    // aws-config takes it from here: SSO GetRoleCredentials → lab-issued temporary keys.
    let me = whoami_as("sso-admin").await;
    assert!(
        me.arn.contains("assumed-role/AWSReservedSSO_AdminAccess_"),
        "{me:?}"
    );
    assert!(me.arn.ends_with(keyless_lab::SSO_USER));
    assert_eq!(me.account, keyless_lab::ACCOUNT_ID);
    assert!(me.expires_at.is_some(), "{me:?}");
    let aws = AwsContext::load(&sel("sso-admin")).await.unwrap();
    let inv = keyless_core::list_instances(&aws, s.lab.regions(), &InstanceFilter::default()).await;
    assert!(inv.errors.is_empty(), "{:?}", inv.errors);
    assert!(!inv.instances.is_empty());
    assert!(s.lab.sso_stats().role_credentials >= 1);
}

#[tokio::test]
async fn slow_down_adds_five_seconds() {
    let s = setup().await;
    s.lab.force_sso_slow_downs(1);
    let started = Instant::now();
    sso_login(&s).await;
    let took = started.elapsed();
    let stats = s.lab.sso_stats();
    assert_eq!(stats.slow_downs, 1, "{stats:?}");
    assert_eq!(
        stats.too_fast, 0,
        "polled faster than interval+5 s: {stats:?}"
    );
    // 1 s before the first poll, then 1 + 5 s after slow_down.
    assert!(took >= Duration::from_secs(7), "{took:?}");
}

#[tokio::test]
async fn missing_or_expired_token_says_keyless_login() {
    let s = setup().await;
    let err = AwsContext::load(&sel("sso-admin")).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Credentials, "{err:?}");
    assert_eq!(err.fix, Some(sign_in("sso-admin")), "{err:?}");

    let path = cache_path(&s);
    let expired = sso_cache::CachedToken {
        access_token: "stale".into(),
        expires_at: sso_cache::format_time(SystemTime::now() - Duration::from_secs(60)),
        refresh_token: None,
        client_id: None,
        client_secret: None,
        registration_expires_at: None,
        region: Some(s.lab.regions()[0].clone()),
        start_url: Some(keyless_lab::SSO_START_URL.into()),
    };
    sso_cache::write(&path, &expired).unwrap();
    let err = AwsContext::load(&sel("sso-admin")).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Credentials);
    assert!(err.message.contains("expired"), "{err:?}");
    assert_eq!(err.fix, Some(sign_in("sso-admin")), "{err:?}");
}

fn sign_in(profile: &str) -> Fix {
    Fix::SsoLogin {
        aws_profile: profile.into(),
    }
}

#[tokio::test]
async fn token_close_to_expiry_is_refreshed_silently() {
    let s = setup().await;
    sso_login(&s).await;
    let path = cache_path(&s);
    let mut tok = sso_cache::read(&path).unwrap().unwrap();
    let old_access = tok.access_token.clone();
    tok.expires_at = sso_cache::format_time(SystemTime::now() + Duration::from_secs(60));
    sso_cache::write(&path, &tok).unwrap();

    let me = whoami_as("sso-admin").await;
    assert!(me.arn.contains("AWSReservedSSO_AdminAccess_"));
    assert_eq!(s.lab.sso_stats().refreshes, 1);
    let new = sso_cache::read(&path).unwrap().unwrap();
    assert_ne!(new.access_token, old_access);
    assert!(new.expires().unwrap() > SystemTime::now() + Duration::from_secs(3600));

    // Expired too, but refreshable: still no login needed.
    let mut tok = new;
    tok.expires_at = sso_cache::format_time(SystemTime::now() - Duration::from_secs(10));
    sso_cache::write(&path, &tok).unwrap();
    whoami_as("sso-admin").await;
    assert_eq!(s.lab.sso_stats().refreshes, 2);
}

/// `~/.aws/cli/cache/<name>.json` with `body`, as the AWS CLI v2 writes its credential cache.
fn write_cli_cache(s: &Setup, name: &str, body: serde_json::Value) -> std::path::PathBuf {
    let dir = s.home.path().join(".aws/cli/cache");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, body.to_string()).unwrap();
    path
}

/// What botocore's SSOCredentialFetcher caches after GetRoleCredentials.
fn sso_cached_credentials(account: &str) -> serde_json::Value {
    serde_json::json!({
        "ProviderType": "sso",
        "Credentials": {
            "AccessKeyId": "ASIALABCACHED0000001",
            "SecretAccessKey": "cached-secret",
            "SessionToken": "cached-session-token",
            "Expiration": "2099-01-01T00:00:00Z",
            "AccountId": account,
        }
    })
}

/// True when the lab's portal answers UnauthorizedException to `access_token`.
async fn portal_refuses(s: &Setup, access_token: &str) -> bool {
    let conf = aws_sdk_sso::Config::builder()
        .behavior_version(aws_sdk_sso::config::BehaviorVersion::latest())
        .region(aws_sdk_sso::config::Region::new(s.lab.regions()[0].clone()))
        .endpoint_url(s.lab.endpoint())
        .build();
    match aws_sdk_sso::Client::from_conf(conf)
        .list_accounts()
        .access_token(access_token)
        .send()
        .await
    {
        Ok(_) => false,
        Err(e) => e
            .as_service_error()
            .is_some_and(|e| e.is_unauthorized_exception()),
    }
}

#[tokio::test]
async fn logout_ends_the_sign_in_for_the_aws_cli_too() {
    let s = setup().await;
    sso_login(&s).await;
    let path = cache_path(&s);
    let token = sso_cache::read(&path).unwrap().unwrap().access_token;
    // The AWS CLI v2's caches after `aws sts get-caller-identity` with sso-admin and sso-staging
    // (named by botocore: sha1 of {"accountId","roleName","sessionName":"lab"}), one of the
    // legacy profile's other sign-in (sha1 of {…,"startUrl"}), and an assume-role cache.
    let admin = write_cli_cache(
        &s,
        "c8b0a63b035a9ab4789cb8360c440121c38ddc41",
        sso_cached_credentials(keyless_lab::ACCOUNT_ID),
    );
    let staging_key = sha1_hex(&format!(
        r#"{{"accountId":"{}","roleName":"AdminAccess","sessionName":"lab"}}"#,
        keyless_lab::STAGING_ACCOUNT_ID
    ));
    let staging = write_cli_cache(
        &s,
        &staging_key,
        sso_cached_credentials(keyless_lab::STAGING_ACCOUNT_ID),
    );
    let legacy_key = sha1_hex(&format!(
        r#"{{"accountId":"{}","roleName":"ReadOnly","startUrl":"{}"}}"#,
        keyless_lab::ACCOUNT_ID,
        keyless_lab::SSO_START_URL
    ));
    let legacy = write_cli_cache(
        &s,
        &legacy_key,
        sso_cached_credentials(keyless_lab::ACCOUNT_ID),
    );
    let assumed = write_cli_cache(
        &s,
        "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c",
        serde_json::json!({
            "Credentials": {"AccessKeyId": "ASIAROLE", "SecretAccessKey": "x", "SessionToken": "y",
                            "Expiration": "2099-01-01T00:00:00Z"},
            "AssumedRoleUser": {"AssumedRoleId": "AROA:x", "Arn": "arn:aws:sts::123456789012:assumed-role/ops/x"}
        }),
    );

    let out = identity::logout(Some("sso-admin"), None).await.unwrap();
    assert_eq!(out.sign_in, "sso-session 'lab'");
    assert_eq!(
        out.message,
        "Signed out of sso-session 'lab': removed the sign-in token and the AWS CLI's cached credentials of 2 roles."
    );
    assert_eq!(out.warning, None);
    let mut removed = out.removed.clone();
    removed.sort();
    let mut expected: Vec<String> = [&path, &admin, &staging]
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    expected.sort();
    assert_eq!(removed, expected);
    assert_eq!(
        out.removed[0],
        path.display().to_string(),
        "the token first"
    );
    for gone in [&path, &admin, &staging] {
        assert!(!gone.exists(), "{} left behind", gone.display());
    }
    // Another sign-in's credentials and a role's cache are not this sign-in's.
    assert!(legacy.exists() && assumed.exists());

    // The portal was told: the lab counted the Logout and refuses the token from now on.
    assert_eq!(s.lab.sso_stats().logouts, 1);
    assert!(portal_refuses(&s, &token).await);

    let again = identity::logout(Some("sso-admin"), None).await.unwrap();
    assert_eq!(
        again.message,
        "Not signed in to sso-session 'lab': nothing to remove."
    );
    assert!(again.removed.is_empty());
    assert_eq!(s.lab.sso_stats().logouts, 1);
    let err = AwsContext::load(&sel("sso-admin")).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Credentials);
    // Not an SSO profile.
    let err = identity::logout(Some("ops"), None).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::AwsConfig);
}

#[tokio::test]
async fn logout_without_the_portal_still_removes_the_files_and_says_so() {
    let s = setup().await;
    sso_login(&s).await;
    let path = cache_path(&s);
    // A port nothing listens on any more: the Logout cannot be sent.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let out = identity::logout(Some("sso-admin"), Some(&url))
        .await
        .unwrap();
    assert!(!path.exists());
    assert_eq!(out.removed, vec![path.display().to_string()]);
    let warning = out.warning.expect("a warning");
    assert!(
        warning.starts_with("IAM Identity Center could not be told to end the sign-in ("),
        "{warning}"
    );
    assert!(
        !warning.contains("HttpInfo") && !warning.contains("DispatchFailure"),
        "{warning}"
    );
    assert_eq!(s.lab.sso_stats().logouts, 0);
}

fn sha1_hex(text: &str) -> String {
    use sha1::Digest;
    sha1::Sha1::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What every revoked or refused sign-in must look like: the missing sign-in's kind and fix.
fn assert_sign_in_invalid(err: &keyless_core::Error) {
    assert_eq!(err.kind, ErrorKind::Credentials, "{err:?}");
    assert_eq!(
        err.message,
        "the IAM Identity Center sign-in for sso-admin is no longer valid"
    );
    assert_eq!(err.fix, Some(sign_in("sso-admin")), "{err:?}");
}

#[tokio::test]
async fn a_revoked_sign_in_is_a_sign_in_error_not_an_sdk_dump() {
    let s = setup().await;
    sso_login(&s).await;
    whoami_as("sso-admin").await;
    s.lab.revoke_sso_sign_ins();

    // The cache file still looks valid for hours; the portal refuses the token.
    let err = AwsContext::load(&sel("sso-admin")).await.unwrap_err();
    assert_sign_in_invalid(&err);

    // Close to expiry: the refresh token is refused too (InvalidGrantException).
    let path = cache_path(&s);
    let mut tok = sso_cache::read(&path).unwrap().unwrap();
    tok.expires_at = sso_cache::format_time(SystemTime::now() + Duration::from_secs(60));
    sso_cache::write(&path, &tok).unwrap();
    assert_sign_in_invalid(&AwsContext::load(&sel("sso-admin")).await.unwrap_err());
    // Expired: the refusal of the refresh is the answer.
    tok.expires_at = sso_cache::format_time(SystemTime::now() - Duration::from_secs(60));
    sso_cache::write(&path, &tok).unwrap();
    assert_sign_in_invalid(&AwsContext::load(&sel("sso-admin")).await.unwrap_err());
    // Both loads tried the refresh (aws-config tries again itself in the first case), in vain.
    let stats = s.lab.sso_stats();
    assert!(
        stats.refresh_calls >= 2 && stats.refreshes == 0,
        "{stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_loads_refresh_the_token_once() {
    let s = setup().await;
    sso_login(&s).await;
    let path = cache_path(&s);
    let mut tok = sso_cache::read(&path).unwrap().unwrap();
    let old_access = tok.access_token.clone();
    // Expired: a load that loses a race for the rotating refresh token has nothing to fall back on.
    tok.expires_at = sso_cache::format_time(SystemTime::now() - Duration::from_secs(10));
    sso_cache::write(&path, &tok).unwrap();

    let loads: Vec<_> = (0..8)
        .map(|_| tokio::spawn(async { AwsContext::load(&sel("sso-admin")).await }))
        .collect();
    for load in futures::future::join_all(loads).await {
        let aws = load.unwrap().expect("every load gets a valid token");
        let me = identity::whoami(&aws).await.unwrap();
        assert!(me.arn.contains("AWSReservedSSO_AdminAccess_"), "{me:?}");
    }
    let stats = s.lab.sso_stats();
    assert_eq!((stats.refresh_calls, stats.refreshes), (1, 1), "{stats:?}");
    let new = sso_cache::read(&path).unwrap().unwrap();
    assert_ne!(new.access_token, old_access);
    assert!(new.expires().unwrap() > SystemTime::now() + Duration::from_secs(3600));
}

#[tokio::test]
async fn mfa_assume_role_right_and_wrong_code() {
    let s = setup().await;
    let asked = std::sync::Mutex::new(Vec::<String>::new());
    let right = |serial: &str| {
        asked.lock().unwrap().push(serial.to_string());
        Ok(keyless_lab::MFA_CODE.to_string())
    };
    let aws = AwsContext::load_with(&sel("ops-mfa"), Some(&right))
        .await
        .expect("MFA assume-role");
    assert_eq!(
        *asked.lock().unwrap(),
        vec![keyless_lab::MFA_SERIAL.to_string()]
    );
    let me = identity::whoami(&aws).await.unwrap();
    assert!(me.arn.contains(":assumed-role/ops-mfa/keyless-"), "{me:?}");
    assert!(me.expires_at.is_some());
    let inv = keyless_core::list_instances(&aws, s.lab.regions(), &InstanceFilter::default()).await;
    assert!(inv.errors.is_empty(), "{:?}", inv.errors);

    let wrong = |_: &str| Ok("654321".to_string());
    let err = AwsContext::load_with(&sel("ops-mfa"), Some(&wrong))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccessDenied, "{err:?}");
    assert!(err.message.contains("MFA"), "{err:?}");

    // No prompt (the app): the error asks for the code of this profile.
    let err = AwsContext::load(&sel("ops-mfa")).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Credentials, "{err:?}");
    assert!(err.message.contains("MFA"));
    assert_eq!(
        err.fix,
        Some(Fix::MfaCode {
            aws_profile: "ops-mfa".into()
        }),
        "{err:?}"
    );
}

#[tokio::test]
async fn static_and_assume_role_identities_and_profile_list() {
    let s = setup().await;
    let me = whoami_as("default").await;
    assert_eq!(me.arn, keyless_lab::CALLER_ARN);
    assert_eq!(me.expires_at, None);
    let me = whoami_as("ops").await;
    assert!(me.arn.contains(":assumed-role/ops/"), "{me:?}");

    let profiles = identity::list_profiles();
    let kind = |n: &str| {
        profiles
            .iter()
            .find(|p| p.name == n)
            .unwrap_or_else(|| panic!("{n} not in {profiles:?}"))
            .kind
    };
    assert_eq!(profiles[0].name, "default");
    assert_eq!(kind("default"), ProfileKind::Static);
    assert_eq!(kind("lab"), ProfileKind::Static);
    assert_eq!(kind("sso-admin"), ProfileKind::SsoSession);
    assert_eq!(kind("ops"), ProfileKind::AssumeRole);
    assert_eq!(kind("ops-mfa"), ProfileKind::AssumeRoleMfa);
    let sso = profiles.iter().find(|p| p.name == "sso-admin").unwrap();
    assert_eq!(sso.region.as_deref(), Some(s.lab.regions()[0].as_str()));
    assert_eq!(
        sso.sso_role_name.as_deref(),
        Some(keyless_lab::SSO_ROLE_NAME)
    );
}
