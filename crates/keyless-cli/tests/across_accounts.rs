//! The finish line, from the CLI: sign in once through the lab's IAM Identity Center, save
//! three profiles across two accounts and two regions, then connect through each by name — and
//! again later, when the host keys are already trusted.

mod common;

use common::Env;
use keyless_lab::{ACCOUNT_ID, STAGING_ACCOUNT_ID, STAGING_WEB};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sign_in_three_profiles_two_accounts_two_regions() {
    let env = Env::start().await;
    let user = env.lab.os_user().to_owned();
    // One sign-in serves every profile of the sso-session.
    env.login("sso-admin").await;
    for (profile, account) in [
        ("sso-admin", ACCOUNT_ID),
        ("sso-staging", STAGING_ACCOUNT_ID),
    ] {
        let out = env.run(&["whoami", "--profile", profile, "--json"]).await;
        assert_eq!(out.code, 0, "{out:?}");
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(v["account"], account, "{profile}");
    }

    let db = env.lab.instance_named("db-primary");
    let eu = env.lab.instance_named("eu-web");
    let staging = env.lab.instance_named(STAGING_WEB);
    assert_ne!(db.region, eu.region);
    let saved = [
        ("db", "sso-admin", &db.region, db.id.clone(), &db),
        (
            "eu",
            "sso-admin",
            &eu.region,
            "Name=eu-web".to_string(),
            &eu,
        ),
        (
            "staging",
            "sso-staging",
            &staging.region,
            "Env=staging,Role=web".to_string(),
            &staging,
        ),
    ];
    for (name, aws, region, target, _) in &saved {
        let out = env
            .run(&[
                "profile",
                "add",
                name,
                "--target",
                target,
                "--aws-profile",
                aws,
                "--region",
                region,
                "--user",
                &user,
            ])
            .await;
        assert_eq!(out.code, 0, "{out:?}");
    }

    for round in ["first", "again"] {
        let policy = if round == "first" {
            "accept-new"
        } else {
            "strict"
        };
        for (name, _, _, _, instance) in &saved {
            let pushes = env.lab.pushes().len();
            let out = env
                .run(&[
                    "ssh",
                    &format!("@{name}"),
                    "--host-key-policy",
                    policy,
                    "--",
                    "whoami",
                ])
                .await;
            assert_eq!(out.code, 0, "{round} {name}: {out:?}");
            assert_eq!(out.stdout.trim(), user);
            let push = &env.lab.pushes()[pushes];
            assert_eq!(push.instance_id, instance.id, "{round} {name}");
            assert_eq!(push.outcome, "Success");
        }
    }
    let listed = env.run(&["profile", "ls"]).await;
    assert_eq!(listed.code, 0, "{listed:?}");
    for (name, ..) in &saved {
        assert!(listed.stdout.contains(name), "{listed:?}");
    }
    // Every profile now has a last use.
    let file =
        std::fs::read_to_string(env.home.path().join(".config/keyless/profiles.toml")).unwrap();
    assert_eq!(file.matches("last_used = ").count(), 3, "{file}");
}
