//! Saved profiles and AWS identities through the app's IPC, against the lab and real files (an
//! installed OpenSSH config in a private HOME follows the changes).
//! One test per file: it points the process's environment at its own directories.

mod common;

use common::{invoke, start_lab, window};
use serde_json::{json, Value};

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect()
}

/// `keyless ssh-config --install` as a CLI at another path than this test would make it: the
/// app's refreshes must keep naming that CLI.
fn install_ssh_config() {
    use keyless_core::openssh::config::{AdHoc, SshConfig, SshFiles};
    let store = keyless_core::ProfileStore::open_default().unwrap();
    let cli = std::path::Path::new("/opt/keyless/bin/keyless");
    let settings = SshConfig::new(cli, &store, AdHoc::default()).unwrap();
    SshFiles::open_default()
        .unwrap()
        .install(&settings, &store)
        .unwrap();
}

#[test]
fn profiles_save_resolve_delete_undo_and_identities() {
    let lab = start_lab();
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("KEYLESS_CONFIG_DIR", dir.path());
    let home = tempfile::tempdir().unwrap();
    std::env::set_var("HOME", home.path());
    let ssh_config = home.path().join(".ssh/keyless.conf");
    install_ssh_config();
    let w = window(&lab);
    let web = lab.instance_named("db-primary");
    let us = web.region.clone();
    let eu = lab.instance_named("eu-web").region;

    // Add, list, rename.
    let saved = json!({"name": "db", "group": "prod", "target": web.id, "region": us});
    let list = invoke(
        &w,
        "profile_save",
        json!({"previous": null, "profile": saved}),
    )
    .unwrap();
    assert_eq!(names(&list), ["db"]);
    let dup = invoke(&w, "profile_save", json!({"profile": saved})).unwrap_err();
    assert!(
        dup["message"].as_str().unwrap().contains("already exists"),
        "{dup}"
    );
    let renamed = json!({"name": "database", "group": "prod", "target": web.id, "region": us});
    let list = invoke(
        &w,
        "profile_save",
        json!({"previous": "db", "profile": renamed}),
    )
    .unwrap();
    assert_eq!(names(&list), ["database"]);
    let conf = std::fs::read_to_string(&ssh_config).unwrap();
    assert!(
        conf.contains("\nHost database\n") && !conf.contains("\nHost db\n"),
        "{conf}"
    );
    assert!(
        conf.contains("ProxyCommand '/opt/keyless/bin/keyless' proxy "),
        "{conf}"
    );
    let file = std::fs::read_to_string(dir.path().join("profiles.toml")).unwrap();
    assert!(
        file.contains("name = \"database\"") && file.contains("schema_version = 1"),
        "{file}"
    );

    // Bad input is refused with the field named, and nothing is written.
    let bad = json!({"name": "x", "target": "Env=prod,Role", "region": us});
    let e = invoke(&w, "profile_save", json!({"profile": bad})).unwrap_err();
    assert_eq!(e["kind"], "invalid_input");
    assert_eq!(
        names(&invoke(&w, "profiles_list", json!({})).unwrap()),
        ["database"]
    );

    // Resolve: an id, a selector with two matches, a stopped instance, nothing matching.
    let one = invoke(&w, "profile_resolve", json!({"name": "database"})).unwrap();
    assert_eq!(one[0]["instance_id"], web.id);
    let sel = json!({"name": "webs", "target": "Name=web", "region": us});
    invoke(&w, "profile_save", json!({"profile": sel})).unwrap();
    let two = invoke(&w, "profile_resolve", json!({"name": "webs"})).unwrap();
    assert_eq!(two.as_array().unwrap().len(), 2, "{two}");
    let batch = lab.instance_named("batch");
    let stopped = json!({"name": "batch", "target": batch.id, "region": us});
    invoke(&w, "profile_save", json!({"profile": stopped})).unwrap();
    let e = invoke(&w, "profile_resolve", json!({"name": "batch"})).unwrap_err();
    assert_eq!(e["kind"], "instance_not_running", "{e}");
    assert_eq!(e["fix"], json!({"type": "start_instance"}), "{e}");
    let none = json!({"name": "none", "target": "Name=nothing-*", "region": eu});
    invoke(&w, "profile_save", json!({"profile": none})).unwrap();
    let e = invoke(&w, "profile_resolve", json!({"name": "none"})).unwrap_err();
    assert_eq!(e["kind"], "instance_not_found", "{e}");

    // Delete returns the profile whole; saving it again is the undo.
    let removed = invoke(&w, "profile_delete", json!({"name": "database"})).unwrap();
    assert_eq!(removed, renamed);
    assert!(!names(&invoke(&w, "profiles_list", json!({})).unwrap()).contains(&"database"));
    let conf = std::fs::read_to_string(&ssh_config).unwrap();
    assert!(
        !conf.contains("\nHost database\n") && conf.contains("\nHost webs\n"),
        "{conf}"
    );
    invoke(&w, "profile_save", json!({"profile": removed})).unwrap();
    let list = invoke(&w, "profiles_list", json!({})).unwrap();
    assert_eq!(names(&list), ["batch", "none", "webs", "database"]);

    // A broken file is reported with its line and kept; nothing is written over it.
    std::fs::write(
        dir.path().join("profiles.toml"),
        "schema_version = 1\n[[profile]\n",
    )
    .unwrap();
    let e = invoke(&w, "profiles_list", json!({})).unwrap_err();
    assert!(e["message"].as_str().unwrap().contains(":2:"), "{e}");
    let e = invoke(&w, "profile_save", json!({"profile": sel})).unwrap_err();
    assert_eq!(e["kind"], "io");
    let kept = std::fs::read_to_string(dir.path().join("profiles.toml")).unwrap();
    assert_eq!(kept, "schema_version = 1\n[[profile]\n");

    // Identities: the lab's config file, who the default chain is, MFA for ops-mfa.
    for (k, v) in lab.env() {
        if k == "AWS_CONFIG_FILE" || k == "AWS_SHARED_CREDENTIALS_FILE" {
            std::env::set_var(k, v);
        }
    }
    let profiles = invoke(&w, "aws_profiles", json!({})).unwrap();
    let kinds: Vec<(&str, &str)> = profiles["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["kind"].as_str().unwrap()))
        .collect();
    for expected in [("sso-admin", "sso_session"), ("ops-mfa", "assume_role_mfa")] {
        assert!(kinds.contains(&expected), "{expected:?} in {kinds:?}");
    }
    let me = invoke(&w, "whoami", json!({})).unwrap();
    assert_eq!(me["account"], keyless_lab::ACCOUNT_ID);
    assert!(me["expires_at"].is_null(), "long-term keys: {me}");

    let e = invoke(&w, "whoami", json!({"awsProfile": "ops-mfa"})).unwrap_err();
    assert_eq!(e["kind"], "credentials", "{e}");
    let mfa = json!({"type": "mfa_code", "aws_profile": "ops-mfa"});
    assert_eq!(e["fix"], mfa, "{e}");
    let e = invoke(
        &w,
        "mfa_submit",
        json!({"awsProfile": "ops-mfa", "code": "000000"}),
    );
    assert_eq!(e.unwrap_err()["kind"], "access_denied");
    let args = json!({"awsProfile": "ops-mfa", "code": keyless_lab::MFA_CODE});
    invoke(&w, "mfa_submit", args).unwrap();
    let me = invoke(&w, "whoami", json!({"awsProfile": "ops-mfa"})).unwrap();
    assert!(
        me["arn"]
            .as_str()
            .unwrap()
            .contains("assumed-role/ops-mfa/"),
        "{me}"
    );
    assert!(me["expires_at"].is_string(), "{me}");
    // Asked once: the credentials serve later commands too.
    let regions = invoke(&w, "list_regions", json!({"awsProfile": "ops-mfa"})).unwrap();
    assert_eq!(regions.as_array().unwrap().len(), 2);

    // An SSO profile before any sign-in: a credentials error whose fix the UI offers as Sign in,
    // and no CLI advice in the hint.
    let e = invoke(&w, "whoami", json!({"awsProfile": "sso-admin"})).unwrap_err();
    assert_eq!(e["kind"], "credentials");
    let sign_in = json!({"type": "sso_login", "aws_profile": "sso-admin"});
    assert_eq!(e["fix"], sign_in, "{e}");
    assert!(e["hint"].is_null(), "{e}");
}
