//! `keyless login | logout | whoami | aws-profiles` and the MFA prompt of `ls`, against the lab:
//! the test approves the device code while the CLI polls, exactly as a user in a browser would.

mod common;

use common::Env;

#[tokio::test]
async fn login_whoami_ls_logout() {
    let env = Env::start().await;
    let rest = env.login("sso-admin").await;
    assert!(
        rest.contains(
            "Signed in as arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AdminAccess_"
        ),
        "{rest}"
    );
    assert!(env.lab.sso_stats().pending_answers >= 1);
    assert!(env
        .home
        .path()
        .join(".aws/sso/cache/3953f9ddf975ab5097ee468d99555c5b441169bf.json")
        .is_file());

    let out = env
        .run(&["whoami", "--profile", "sso-admin", "--json"])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["account"], "123456789012");
    assert_eq!(v["profile"], "sso-admin");
    assert!(v["arn"]
        .as_str()
        .unwrap()
        .contains("AWSReservedSSO_AdminAccess_"));
    assert!(v["expires_at"].as_str().unwrap().ends_with('Z'));

    let out = env.run(&["ls", "--profile", "sso-admin"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("db-primary"), "{out:?}");

    // What the AWS CLI v2 caches after a call with sso-admin (botocore's name: sha1 of
    // {"accountId":"123456789012","roleName":"AdminAccess","sessionName":"lab"}), and an
    // assume-role cache that is not this sign-in's.
    let cli_cache = env.home.path().join(".aws/cli/cache");
    std::fs::create_dir_all(&cli_cache).unwrap();
    let sso_creds = cli_cache.join("c8b0a63b035a9ab4789cb8360c440121c38ddc41.json");
    std::fs::write(
        &sso_creds,
        r#"{"ProviderType": "sso", "Credentials": {"AccessKeyId": "ASIAX", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2099-01-01T00:00:00Z", "AccountId": "123456789012"}}"#,
    )
    .unwrap();
    let role_creds = cli_cache.join("5d41402abc4b2a76b9719d911017c592aaaaaaaa.json");
    std::fs::write(
        &role_creds,
        r#"{"Credentials": {"AccessKeyId": "ASIAY", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2099-01-01T00:00:00Z"}}"#,
    )
    .unwrap();
    let token_file = env
        .home
        .path()
        .join(".aws/sso/cache/3953f9ddf975ab5097ee468d99555c5b441169bf.json");

    let out = env.run(&["logout", "--profile", "sso-admin"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        format!(
            "Signed out of sso-session 'lab': removed the sign-in token and the AWS CLI's cached credentials of 1 role.\n  removed {}\n  removed {}\n",
            token_file.display(),
            sso_creds.display()
        ),
        "{out:?}"
    );
    assert_eq!(out.stderr, "", "{out:?}");
    assert!(!token_file.exists() && !sso_creds.exists());
    assert!(role_creds.exists(), "not an SSO cache: left alone");
    assert_eq!(env.lab.sso_stats().logouts, 1);

    let out = env.run(&["whoami", "--profile", "sso-admin"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("hint: Run `keyless login --profile sso-admin`"),
        "{out:?}"
    );
}

/// `keyless: MESSAGE` and `  hint: …` — and nothing else, certainly no SDK `Debug` dump.
fn assert_sign_in_invalid(out: &common::Output, code: i32) {
    assert_eq!(out.code, code, "{out:?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "keyless: the IAM Identity Center sign-in for sso-admin is no longer valid",
            "  hint: Run `keyless login --profile sso-admin` (or `aws sso login --profile sso-admin`) to sign in again.",
        ],
        "{out:?}"
    );
    for dump in [
        "HttpInfo",
        "ConnectPathInner",
        "ResponseClockSkew",
        "DispatchFailure",
    ] {
        assert!(!out.stderr.contains(dump), "{out:?}");
    }
}

#[tokio::test]
async fn a_revoked_sign_in_says_sign_in_again() {
    let env = Env::start().await;
    env.login("sso-admin").await;
    // The administrator revokes it; the token cache file still says it is valid for hours.
    keyless_lab::control::send_fault(env.lab.http_addr(), &keyless_lab::Fault::SsoRevoke).unwrap();

    // The same exit codes as before any sign-in.
    let out = env.run(&["ls", "--profile", "sso-admin"]).await;
    assert_sign_in_invalid(&out, 2);
    let out = env
        .run(&["ssh", "--profile", "sso-admin", "db-primary", "--", "true"])
        .await;
    assert_sign_in_invalid(&out, 255);
    assert!(env.lab.pushes().is_empty(), "nothing was pushed");
}

#[tokio::test]
async fn whoami_static_keys_and_aws_profiles() {
    let env = Env::start().await;
    let out = env.run(&["whoami"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("arn:aws:iam::123456789012:user/lab-admin"),
        "{out:?}"
    );
    assert!(out.stdout.contains("never (long-term keys)"), "{out:?}");

    let out = env.run(&["whoami", "--profile", "ops"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains(":assumed-role/ops/"), "{out:?}");

    let out = env.run(&["aws-profiles"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    let row = |name: &str| {
        out.stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} row in\n{}", out.stdout))
            .to_string()
    };
    assert!(row("sso-admin").contains("sso_session"));
    assert!(row("ops-mfa").contains("assume_role_mfa"));
    assert!(row("ops").contains("assume_role "));
    assert!(row("default").contains("static"));

    let out = env.run(&["aws-profiles", "--json"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let kinds: Vec<(String, String)> = v["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (name, kind) in [
        ("default", "static"),
        ("lab", "static"),
        ("sso-admin", "sso_session"),
        ("ops", "assume_role"),
        ("ops-mfa", "assume_role_mfa"),
    ] {
        assert!(
            kinds.contains(&(name.to_string(), kind.to_string())),
            "{name}/{kind} not in {kinds:?}"
        );
    }
}

#[tokio::test]
async fn mfa_profile_without_a_terminal_fails_clearly() {
    let env = Env::start().await;
    let out = env.run(&["ls", "--profile", "ops-mfa"]).await;
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("MFA code"), "{out:?}");
    assert!(out.stderr.contains("not a terminal"), "{out:?}");
}

/// Runs `keyless ARGS` on a PTY, answers the MFA prompt with `code`; returns (exit ok, screen).
fn with_mfa_on_tty(env: &Env, args: &[&str], code: &str) -> (bool, String) {
    let mut term = env.spawn_in_pty(args, 200, 24);
    let prompt = term.expect("MFA code for arn:aws:iam::123456789012:mfa/lab-admin: ");
    term.type_line(code);
    let (exit, rest) = term.wait();
    (exit == 0, prompt + &rest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mfa_profile_prompts_on_a_terminal() {
    let env = Env::start().await;
    let (ok, screen) = tokio::task::block_in_place(|| {
        with_mfa_on_tty(
            &env,
            &["whoami", "--profile", "ops-mfa"],
            keyless_lab::MFA_CODE,
        )
    });
    assert!(ok, "{screen}");
    assert!(
        screen.contains(":assumed-role/ops-mfa/keyless-"),
        "{screen}"
    );

    let (ok, screen) = tokio::task::block_in_place(|| {
        with_mfa_on_tty(&env, &["ls", "--profile", "ops-mfa"], keyless_lab::MFA_CODE)
    });
    assert!(ok, "{screen}");
    assert!(screen.contains("db-primary"), "{screen}");

    let (ok, screen) = tokio::task::block_in_place(|| {
        with_mfa_on_tty(&env, &["ls", "--profile", "ops-mfa"], "000000")
    });
    assert!(!ok, "{screen}");
    assert!(screen.contains("denied"), "{screen}");
}
