//! IAM Identity Center set up from nothing against the lab's portal (two accounts, several roles,
//! one item per page): the wizard's calls write a config that the AWS CLI's own parser (botocore,
//! in a venv under the target dir) and Keyless both read, whose new profiles list instances; a
//! second run adds a role under the same sso-session without signing in again; the comments and
//! text that were in the file survive byte for byte.

use super::{sel, setup_with, Setup};
use keyless_core::identity::config_file::{self, AwsFiles};
use keyless_core::identity::sso_setup::{self, Portal, RoleChoice, SetupChoices};
use keyless_core::identity::{self, ProfileKind};
use keyless_core::{AwsContext, InstanceFilter};
use keyless_lab::{
    LabOptions, ACCOUNT_ID, SSO_DEVELOPER_ROLE, SSO_READONLY_ROLE, SSO_ROLE_NAME, SSO_START_URL,
    STAGING_ACCOUNT_ID,
};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What the user had before: comments of both kinds, odd spacing, a section Keyless ignores,
/// and no newline at the end.
const OLD_CONFIG: &str = "# my own notes, keep them\n[default]\nregion = us-east-1   ; inline\n\n\n\
                          [services local]\ns3 =\n  endpoint_url = http://127.0.0.1:9000\n; last line";

/// A Python with botocore (the AWS CLI's config and credentials code), made on first use in a
/// venv under the target dir; `pip install` needs the network once.
fn botocore_python() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(tmp).unwrap();
    let venv = tmp.join("botocore-venv");
    let python = venv.join("bin").join("python");
    // Test binaries of this run may get here together: one makes the venv.
    let lock = std::fs::File::create(tmp.join("botocore-venv.lock")).unwrap();
    lock.lock().unwrap();
    let works = |p: &Path| {
        Command::new(p)
            .args(["-c", "import botocore"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !works(&python) {
        let _ = std::fs::remove_dir_all(&venv);
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 runs (apt install python3-venv)");
        assert!(
            made.success(),
            "python3 -m venv failed (apt install python3-venv)"
        );
        let pip = Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "botocore",
            ])
            .status()
            .unwrap();
        assert!(
            pip.success(),
            "pip install botocore failed (it needs the network once)"
        );
    }
    python
}

/// What botocore makes of the config for each profile: its keys, the sso-session it resolves,
/// and who GetCallerIdentity says the profile is (its SSO credentials fetched through the lab).
fn botocore_reads(profiles: &[&str]) -> serde_json::Value {
    const SCRIPT: &str = r#"
import json, sys, botocore.session
out = {"sso_sessions": botocore.session.Session().full_config.get("sso_sessions", {})}
for name in sys.argv[1:]:
    s = botocore.session.Session(profile=name)
    config = s.get_scoped_config()
    creds = s.get_credentials()
    me = s.create_client("sts", region_name=config["region"]).get_caller_identity()
    out[name] = {"config": config, "method": creds.method, "arn": me["Arn"], "account": me["Account"]}
print(json.dumps(out))
"#;
    let out = Command::new(botocore_python())
        .arg("-c")
        .arg(SCRIPT)
        .args(profiles)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "botocore could not use the profiles:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// An empty AWS setup in the test's HOME but for `OLD_CONFIG` (mode 0640) and no credentials file.
fn first_run_files(s: &Setup) -> PathBuf {
    let config = s.home.path().join(".aws").join("config");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, OLD_CONFIG).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::env::set_var("AWS_CONFIG_FILE", &config);
    std::env::set_var(
        "AWS_SHARED_CREDENTIALS_FILE",
        s.home.path().join(".aws").join("credentials"),
    );
    config
}

/// The device code approved in the lab, as the user does in the browser.
fn approve(s: &Setup) -> impl FnOnce(&identity::DeviceCode) {
    let addr = s.lab.http_addr();
    move |code| {
        let body = format!("{{\"user_code\":\"{}\"}}", code.user_code);
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
    }
}

fn roles_of(p: &Portal) -> Vec<(String, String, String, Option<String>)> {
    p.accounts
        .iter()
        .flat_map(|a| {
            a.roles.iter().map(|r| {
                (
                    a.account_id.clone(),
                    r.role_name.clone(),
                    r.profile_name.clone(),
                    r.existing_profile.clone(),
                )
            })
        })
        .collect()
}

fn choice(account: &str, role: &str, name: &str) -> RoleChoice {
    RoleChoice {
        account_id: account.into(),
        role_name: role.into(),
        profile_name: name.into(),
    }
}

/// The names of the instances `profile` lists in `region`, sorted.
async fn listed(profile: &str, region: &str) -> Vec<String> {
    let aws = AwsContext::load(&sel(profile))
        .await
        .expect("the new profile loads");
    let inv =
        keyless_core::list_instances(&aws, &[region.to_string()], &InstanceFilter::default()).await;
    assert!(inv.errors.is_empty(), "{:?}", inv.errors);
    let mut names: Vec<String> = inv.instances.into_iter().filter_map(|i| i.name).collect();
    names.sort();
    names
}

fn lab_names(s: &Setup, account: &str, region: &str) -> Vec<String> {
    let mut names: Vec<String> = s
        .lab
        .instances_in(account)
        .into_iter()
        .filter(|i| i.region == region)
        .filter_map(|i| i.name)
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn first_run_writes_profiles_botocore_and_keyless_read_and_a_second_run_reuses_the_session() {
    let s = setup_with(LabOptions {
        max_page_size: 1,
        ..LabOptions::default()
    })
    .await;
    let config = first_run_files(&s);
    assert!(
        identity::setup_needed(),
        "no profile, no credentials: set-up is needed"
    );
    let region = s.lab.regions()[0].clone();

    // First run: a new sso-session named after the portal, the device sign-in, the portal listed
    // over every page (one item per page).
    let plan = sso_setup::plan_session(&AwsFiles::load(), SSO_START_URL, &region, None).unwrap();
    assert_eq!(
        (plan.section.name.as_str(), plan.exists),
        ("keyless-lab", false)
    );
    let portal = sso_setup::open_portal(&plan, None, approve(&s))
        .await
        .unwrap();
    assert_eq!(
        roles_of(&portal),
        [
            (ACCOUNT_ID, SSO_ROLE_NAME, "AdminAccess-123456789012", None),
            (ACCOUNT_ID, SSO_READONLY_ROLE, "ReadOnly-123456789012", None),
            (
                STAGING_ACCOUNT_ID,
                SSO_ROLE_NAME,
                "AdminAccess-210987654321",
                None
            ),
            (
                STAGING_ACCOUNT_ID,
                SSO_DEVELOPER_ROLE,
                "Developer-210987654321",
                None
            ),
        ]
        .map(|(a, r, n, e): (&str, &str, &str, Option<String>)| (
            a.into(),
            r.into(),
            n.into(),
            e
        ))
    );
    assert_eq!(
        portal.accounts[1].account_name,
        keyless_lab::STAGING_ACCOUNT_NAME
    );
    // The token is cached where the AWS CLI looks for this sso-session's.
    assert!(keyless_core::identity::sso_cache::cache_file("keyless-lab")
        .unwrap()
        .is_file());

    let written = portal
        .write(&SetupChoices {
            roles: vec![
                choice(
                    STAGING_ACCOUNT_ID,
                    SSO_DEVELOPER_ROLE,
                    "Developer-210987654321",
                ),
                choice(ACCOUNT_ID, SSO_READONLY_ROLE, "main-readonly"),
            ],
            region: region.clone(),
        })
        .unwrap();
    assert!(written.session_added);
    assert_eq!(
        written.profiles,
        ["Developer-210987654321", "main-readonly"]
    );
    let backup = PathBuf::from(written.backup.as_deref().expect("a backup of the old file"));
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), OLD_CONFIG);
    let first = std::fs::read_to_string(&config).unwrap();
    assert!(
        first.starts_with(OLD_CONFIG),
        "the old text, byte for byte:\n{first}"
    );
    assert_eq!(
        &first[OLD_CONFIG.len()..],
        format!(
            "\n\n[sso-session keyless-lab]\nsso_start_url = {SSO_START_URL}\nsso_region = {region}\n\
             sso_registration_scopes = sso:account:access\n\n\
             [profile Developer-210987654321]\nsso_session = keyless-lab\nsso_account_id = {STAGING_ACCOUNT_ID}\n\
             sso_role_name = Developer\nregion = {region}\n\n\
             [profile main-readonly]\nsso_session = keyless-lab\nsso_account_id = {ACCOUNT_ID}\n\
             sso_role_name = ReadOnly\nregion = {region}\n"
        )
    );
    assert_eq!(
        std::fs::metadata(&config).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert!(!identity::setup_needed());

    // Keyless reads the profiles, and they list their accounts' instances through the lab.
    let dev = AwsFiles::load().profile("Developer-210987654321").unwrap();
    assert_eq!(dev.kind, ProfileKind::SsoSession);
    assert_eq!(dev.sso_session.as_deref(), Some("keyless-lab"));
    assert_eq!(
        listed("Developer-210987654321", &region).await,
        lab_names(&s, STAGING_ACCOUNT_ID, &region)
    );
    assert_eq!(
        listed("main-readonly", &region).await,
        lab_names(&s, ACCOUNT_ID, &region)
    );

    // The AWS CLI's parser reads the same, and gets the roles' credentials with Keyless's token.
    let boto = botocore_reads(&["Developer-210987654321", "main-readonly"]);
    assert_eq!(
        boto["sso_sessions"]["keyless-lab"],
        serde_json::json!({
            "sso_start_url": SSO_START_URL,
            "sso_region": region,
            "sso_registration_scopes": "sso:account:access",
        })
    );
    assert_eq!(
        boto["Developer-210987654321"]["config"],
        serde_json::json!({
            "sso_session": "keyless-lab",
            "sso_account_id": STAGING_ACCOUNT_ID,
            "sso_role_name": "Developer",
            "region": region,
        })
    );
    assert_eq!(boto["Developer-210987654321"]["method"], "sso");
    assert_eq!(
        boto["Developer-210987654321"]["account"],
        STAGING_ACCOUNT_ID
    );
    assert!(boto["Developer-210987654321"]["arn"]
        .as_str()
        .unwrap()
        .contains("AWSReservedSSO_Developer_"));
    assert_eq!(boto["main-readonly"]["account"], ACCOUNT_ID);

    // Second run, same start URL: the session is reused, no second sign-in, the roles already
    // written are named, and one more role is added after everything that was there.
    let plan = sso_setup::plan_session(&AwsFiles::load(), SSO_START_URL, &region, None).unwrap();
    assert_eq!(
        (plan.section.name.as_str(), plan.exists),
        ("keyless-lab", true)
    );
    let tokens = s.lab.sso_stats().tokens_issued;
    let portal = sso_setup::open_portal(&plan, None, |_| {
        panic!("a signed-in sso-session needs no second sign-in")
    })
    .await
    .unwrap();
    assert_eq!(s.lab.sso_stats().tokens_issued, tokens);
    let covered: Vec<_> = roles_of(&portal)
        .into_iter()
        .filter_map(|(_, role, _, existing)| existing.map(|e| (role, e)))
        .collect();
    assert_eq!(
        covered,
        [
            ("ReadOnly".to_string(), "main-readonly".to_string()),
            (
                "Developer".to_string(),
                "Developer-210987654321".to_string()
            ),
        ]
    );
    let written = portal
        .write(&SetupChoices {
            roles: vec![choice(
                ACCOUNT_ID,
                SSO_ROLE_NAME,
                "AdminAccess-123456789012",
            )],
            region: region.clone(),
        })
        .unwrap();
    assert!(!written.session_added);
    let second = std::fs::read_to_string(&config).unwrap();
    assert!(second.starts_with(&first));
    assert_eq!(second.matches("[sso-session").count(), 1, "{second}");
    assert!(second.contains("# my own notes, keep them\n") && second.contains("; last line\n"));
    assert_eq!(
        std::fs::read_to_string(written.backup.unwrap()).unwrap(),
        first
    );
    // A name that is taken now is refused, and the file stays as it is.
    let e = portal
        .write(&SetupChoices {
            roles: vec![choice(ACCOUNT_ID, SSO_ROLE_NAME, "main-readonly")],
            region: region.clone(),
        })
        .unwrap_err();
    assert!(
        e.message.contains("'main-readonly' exists already"),
        "{e:?}"
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), second);

    assert_eq!(
        listed("AdminAccess-123456789012", &region).await,
        lab_names(&s, ACCOUNT_ID, &region)
    );
    let boto = botocore_reads(&["AdminAccess-123456789012", "Developer-210987654321"]);
    assert!(boto["AdminAccess-123456789012"]["arn"]
        .as_str()
        .unwrap()
        .contains("AWSReservedSSO_AdminAccess_"));
    assert_eq!(
        boto["Developer-210987654321"]["account"],
        STAGING_ACCOUNT_ID
    );
    assert_eq!(
        config_file::list_profiles()
            .iter()
            .filter(|p| p.sso_session.as_deref() == Some("keyless-lab"))
            .count(),
        3
    );
}
