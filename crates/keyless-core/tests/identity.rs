//! AWS identities against the lab: IAM Identity Center sign-in (device code approved by the
//! test), the token cache read by aws-config, slow_down, expiry, refresh, logout, MFA
//! assume-role and the profile list. aws-config reads the process environment (HOME, config
//! file, endpoints), so the tests of this file take turns; each still owns its lab.

use keyless_core::identity::{self, sso_cache, CallerIdentity, ProfileKind};
use keyless_core::{AwsContext, AwsSelection, ErrorKind, InstanceFilter};
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
    let turn = ENV.lock().await;
    let lab = Lab::start(LabOptions::default()).await.expect("lab starts");
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
    assert!(
        err.hint
            .as_deref()
            .unwrap()
            .contains("keyless login --profile sso-admin"),
        "{err:?}"
    );

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
    assert!(err
        .hint
        .as_deref()
        .unwrap()
        .contains("keyless login --profile sso-admin"));
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

#[tokio::test]
async fn logout_removes_the_cache_file() {
    let s = setup().await;
    sso_login(&s).await;
    let path = cache_path(&s);
    assert!(path.exists());
    let (t, removed) = identity::logout(Some("sso-admin")).unwrap();
    assert!(removed);
    assert_eq!(t.session.as_deref(), Some("lab"));
    assert!(!path.exists());
    let (_, removed) = identity::logout(Some("sso-admin")).unwrap();
    assert!(!removed);
    let err = AwsContext::load(&sel("sso-admin")).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Credentials);
    // Not an SSO profile.
    let err = identity::logout(Some("ops")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::AwsConfig);
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

    let err = AwsContext::load(&sel("ops-mfa")).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Credentials, "{err:?}");
    assert!(err.message.contains("MFA"));
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
