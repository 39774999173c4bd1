//! `keyless login | logout | whoami | aws-profiles | configure-sso` and the MFA prompt of `ls`,
//! against the lab: the test approves the device code while the CLI polls, exactly as a user in
//! a browser would.

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

    // Signed out: the CLI says how to sign in again, once.
    let out = env.run(&["whoami", "--profile", "sso-admin"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    let how = "  hint: Run `keyless login --profile sso-admin` (or `aws sso login --profile sso-admin`) to sign in again.\n";
    assert_eq!(out.stderr.matches(how).count(), 1, "{out:?}");
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

/// A fake `xdg-open`, first on PATH, that appends each link it is asked to open to a file.
/// Returns (PATH, the record file).
fn recording_browser(env: &Env) -> (String, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let bin = env.home.path().join("bin");
    let record = env.home.path().join("xdg-open.args");
    std::fs::create_dir_all(&bin).unwrap();
    let script = bin.join("xdg-open");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{}'\n",
            record.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    (path, record)
}

/// `keyless login --profile sso-admin` with the browser on (no `--no-browser`) and PATH `path`;
/// approves the code once shown. Returns (stdout, stderr).
async fn login_with_browser(env: &Env, path: &str) -> (String, String) {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut child = env
        .command(&["login", "--profile", "sso-admin"])
        .env("PATH", path)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stdout = String::new();
    let code = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            stdout.push_str(&line);
            stdout.push('\n');
            if let Some(c) = line.trim().strip_prefix("Code: ") {
                return c.to_string();
            }
        }
        panic!("login never showed a code:\n{stdout}");
    })
    .await
    .expect("code shown in time");
    assert!(env.lab.approve_sso(&code));
    while let Some(line) = lines.next_line().await.unwrap() {
        stdout.push_str(&line);
        stdout.push('\n');
    }
    let out = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(out.status.success(), "{stdout}");
    (stdout, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test]
async fn a_sign_in_link_that_is_not_https_is_shown_with_a_warning_and_never_opened() {
    let env = Env::start().await;
    let (path, record) = recording_browser(&env);

    env.lab
        .force_sso_verification_uri(Some("file:///etc/passwd"));
    let (stdout, stderr) = login_with_browser(&env, &path).await;
    assert!(
        stdout.contains("\n  file:///etc/passwd\n  Code: "),
        "{stdout}"
    );
    assert!(
        stderr.contains(
            "keyless: warning: IAM Identity Center sent a sign-in link that Keyless does not open (a file: link, not https://)"
        ),
        "{stderr}"
    );
    assert!(stdout.contains("Signed in as"), "{stdout}");

    // Then the lab's own page (http on loopback), which opens. Once the browser has recorded it,
    // the record holds that link alone: the file: link above never reached xdg-open.
    env.lab.force_sso_verification_uri(None);
    let (stdout, _) = login_with_browser(&env, &path).await;
    let page = stdout
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no lab page shown:\n{stdout}"))
        .to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !record.exists() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        std::fs::read_to_string(&record).ok(),
        Some(format!("{page}\n"))
    );
}

/// A first-run AWS setup in the env's HOME: `config` holds `text`, there is no credentials file
/// and no static key in the environment.
fn first_run_config(env: &Env, text: &str) -> std::path::PathBuf {
    let config = env.home.path().join(".aws").join("config");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, text).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    config
}

/// `keyless configure-sso ARGS` on the first-run config, `answers` on its stdin (none: stdin is
/// closed); the device code is approved in the lab as soon as it is shown. (exit, stdout, stderr).
async fn configure_sso(env: &Env, args: &[&str], answers: Option<&str>) -> (i32, String, String) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let home = env.home.path();
    let mut cmd = env.command(&[&["configure-sso", "--no-browser"], args].concat());
    cmd.env("AWS_CONFIG_FILE", home.join(".aws/config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join(".aws/credentials"))
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    if answers.is_some() {
        cmd.stdin(std::process::Stdio::piped());
    }
    let mut child = cmd.spawn().unwrap();
    if let Some(text) = answers {
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(text.as_bytes()).await.unwrap();
        drop(stdin);
    }
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stdout = String::new();
    tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(code) = line.trim().strip_prefix("Code: ") {
                assert!(env.lab.approve_sso(code), "{stdout}");
            }
            stdout.push_str(&line);
            stdout.push('\n');
        }
    })
    .await
    .unwrap_or_else(|_| panic!("configure-sso did not finish:\n{stdout}"));
    let out = child.wait_with_output().await.unwrap();
    (
        out.status.code().unwrap_or(-1),
        stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `keyless ls --profile P --region R` as the first-run config's user: the instance names.
async fn ls_as(env: &Env, profile: &str, region: &str) -> Vec<String> {
    let home = env.home.path();
    let config = home.join(".aws/config").display().to_string();
    let credentials = home.join(".aws/credentials").display().to_string();
    let out = env
        .run_with(
            &["ls", "--profile", profile, "--region", region, "--json"],
            &[
                ("AWS_CONFIG_FILE", &config),
                ("AWS_SHARED_CREDENTIALS_FILE", &credentials),
            ],
        )
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let mut names: Vec<String> = v["instances"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

fn lab_names(env: &Env, account: &str, region: &str) -> Vec<String> {
    let mut names: Vec<String> = env
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
async fn configure_sso_with_flags_writes_profiles_that_ls_uses_and_a_second_run_reuses_the_session()
{
    let env = Env::start().await;
    let region = env.lab.regions()[0].clone();
    let old = "# keep me\n[default]\nregion = us-east-1\n";
    let config = first_run_config(&env, old);
    let url = keyless_lab::SSO_START_URL;
    let staging = keyless_lab::STAGING_ACCOUNT_ID;

    // Pairs are checked before anything else: no sign-in for a broken command line.
    let (code, stdout, stderr) =
        configure_sso(&env, &["--start-url", url, "--account", staging], None).await;
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("--account and --role come in pairs"),
        "{stderr}"
    );
    assert_eq!(env.lab.sso_stats().tokens_issued, 0);

    let (code, stdout, stderr) = configure_sso(
        &env,
        &[
            "--start-url",
            url,
            "--sso-region",
            &region,
            "--account",
            staging,
            "--role",
            "Developer",
        ],
        None,
    )
    .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("  Code: "), "{stdout}");
    assert!(
        stdout.contains("The AWS access portal lists 4 role(s) in 2 account(s):"),
        "{stdout}"
    );
    assert!(
        stdout.contains("[profile Developer-210987654321]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Try: keyless ls --profile Developer-210987654321"),
        "{stdout}"
    );
    assert_eq!(stderr, "", "no question asked");
    let first = std::fs::read_to_string(&config).unwrap();
    assert_eq!(
        first,
        format!(
            "{old}\n[sso-session keyless-lab]\nsso_start_url = {url}\nsso_region = {region}\n\
             sso_registration_scopes = sso:account:access\n\n\
             [profile Developer-210987654321]\nsso_session = keyless-lab\nsso_account_id = {staging}\n\
             sso_role_name = Developer\nregion = {region}\n"
        )
    );
    assert_eq!(
        ls_as(&env, "Developer-210987654321", &region).await,
        lab_names(&env, staging, &region)
    );

    // An unlisted role: refused, the file untouched; the sign-in is reused, no code shown.
    let (code, stdout, stderr) = configure_sso(
        &env,
        &[
            "--start-url",
            url,
            "--sso-region",
            &region,
            "--account",
            staging,
            "--role",
            "ReadOnly",
        ],
        None,
    )
    .await;
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("lists no role 'ReadOnly' in account '210987654321'"),
        "{stderr}"
    );
    assert!(!stdout.contains("Code: "), "{stdout}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), first);

    // --all: every role without a profile, under the same sso-session, after the old text.
    let tokens = env.lab.sso_stats().tokens_issued;
    let (code, stdout, stderr) = configure_sso(
        &env,
        &["--start-url", url, "--sso-region", &region, "--all"],
        None,
    )
    .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("Using the sso-session 'keyless-lab' already in the AWS config file."));
    assert!(
        stdout.contains("Developer-210987654321 (exists)"),
        "{stdout}"
    );
    assert_eq!(
        env.lab.sso_stats().tokens_issued,
        tokens,
        "no second sign-in"
    );
    let second = std::fs::read_to_string(&config).unwrap();
    assert!(second.starts_with(&first));
    assert_eq!(second.matches("[sso-session ").count(), 1, "{second}");
    for p in [
        "AdminAccess-123456789012",
        "ReadOnly-123456789012",
        "AdminAccess-210987654321",
    ] {
        assert!(
            second.contains(&format!("[profile {p}]\nsso_session = keyless-lab\n")),
            "{second}"
        );
    }
    assert_eq!(second.matches("Developer-210987654321]").count(), 1);
    let backups: Vec<_> = std::fs::read_dir(config.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("config.keyless-backup-")
        })
        .collect();
    assert_eq!(backups.len(), 2, "one backup per write");
    assert_eq!(
        ls_as(&env, "AdminAccess-123456789012", &region).await,
        lab_names(&env, keyless_lab::ACCOUNT_ID, &region)
    );
}

#[tokio::test]
async fn configure_sso_asks_what_the_flags_leave_open_through_a_pipe() {
    let env = Env::start().await;
    let [first, second] = [0, 1].map(|n| env.lab.regions()[n].clone());
    let config = first_run_config(&env, "");
    // Start URL, region, roles 1 and 4 (a bad answer first), the profiles' region, two names
    // (the second the proposal).
    let answers = format!(
        "{}\n{first}\n7\n1 4\n{second}\nmain-admin\n\n",
        keyless_lab::SSO_START_URL
    );
    let (code, stdout, stderr) = configure_sso(&env, &[], Some(&answers)).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    for question in [
        "IAM Identity Center start URL: ",
        "IAM Identity Center region: ",
        "Roles to keep (numbers, e.g. 1 3, or all): ",
        "Answer with numbers from 1 to 4, or all.",
        &format!("Default region of these profiles [{first}]: "),
        "Profile name for AdminAccess in keyless-lab (123456789012) [AdminAccess-123456789012]: ",
        "Profile name for Developer in staging (210987654321) [Developer-210987654321]: ",
    ] {
        assert!(stderr.contains(question), "asked {question:?}:\n{stderr}");
    }
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.starts_with("[sso-session keyless-lab]\n"), "{text}");
    assert!(text.contains(&format!(
        "[profile main-admin]\nsso_session = keyless-lab\nsso_account_id = 123456789012\n\
         sso_role_name = AdminAccess\nregion = {second}\n"
    )));
    assert!(
        text.contains("[profile Developer-210987654321]\n"),
        "{text}"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&config).unwrap().permissions().mode() & 0o777,
        0o644
    );
    assert_eq!(
        ls_as(&env, "main-admin", &second).await,
        lab_names(&env, keyless_lab::ACCOUNT_ID, &second)
    );

    // Stdin ends before the answers do: a clear usage error, nothing written.
    let before = std::fs::read_to_string(&config).unwrap();
    let (code, _, stderr) = configure_sso(&env, &[], Some("https://x.awsapps.com/start\n")).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("no answer to \"IAM Identity Center region\": stdin ended"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);
}
