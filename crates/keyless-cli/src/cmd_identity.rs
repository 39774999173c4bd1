//! `keyless login | logout | whoami | aws-profiles`, and the MFA code prompt `ls`/`ssh` use for
//! assume-role profiles with `mfa_serial`.

use crate::args::{AwsProfilesArgs, LoginArgs, LogoutArgs, WhoamiArgs};
use crate::output::Failure;
use crate::table::Table;
use keyless_core::identity::{self, AwsProfile, CallerIdentity, ProfileKind};
use keyless_core::terminal_text::escape;
use keyless_core::{AwsContext, AwsSelection, Error, ErrorKind};
use std::io::{IsTerminal, Write};

/// Asks for the MFA code on the terminal; without one, says so (never hangs on a pipe).
pub fn tty_mfa_prompt(serial: &str) -> keyless_core::Result<String> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::new(
            ErrorKind::Credentials,
            format!("this AWS profile needs an MFA code from {serial}, and stdin is not a terminal to ask for it"),
        )
        .with_hint("Run the command in a terminal, or use a profile without mfa_serial."));
    }
    let mut err = std::io::stderr();
    let _ = write!(err, "MFA code for {}: ", escape(serial));
    let _ = err.flush();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim().to_string())
}

fn selection(profile: &Option<String>) -> AwsSelection {
    AwsSelection {
        profile: profile.clone(),
        region: None,
        endpoint_url: None,
    }
}

fn profile_label(profile: &Option<String>) -> String {
    identity::config_file::effective_profile(profile.as_deref())
}

/// Prints the device code and its page (and opens the page unless `no_browser`).
pub fn show_device_code(no_browser: bool) -> impl FnOnce(&identity::DeviceCode) {
    move |code| {
        println!("To sign in, open this page and confirm the code:");
        println!("  {}", escape(code.url()));
        println!("  Code: {}", escape(&code.user_code));
        println!(
            "Waiting for approval (the code is valid for {} minutes)…",
            code.expires_in.as_secs().div_ceil(60)
        );
        // The portal chose this link: a file: or other odd one is shown, never opened.
        match identity::sign_in_page_warning(code.url()) {
            Some(warning) => eprintln!("keyless: warning: {}", escape(&warning)),
            None if !no_browser => {
                let _ = identity::open_url(code.url());
            }
            None => {}
        }
    }
}

pub async fn login(args: LoginArgs) -> Result<i32, Failure> {
    let login = identity::login(
        args.aws.profile.as_deref(),
        None,
        show_device_code(args.no_browser),
    )
    .await
    .map_err(|e| match e.kind {
        ErrorKind::AwsConfig => Failure::usage(e),
        _ => Failure::runtime(e),
    })?;
    let aws = AwsContext::load(&selection(&args.aws.profile))
        .await
        .map_err(Failure::runtime)?;
    let me = identity::whoami(&aws).await.map_err(Failure::runtime)?;
    println!(
        "Signed in as {} (account {}); the sign-in lasts until {}.",
        escape(&me.arn),
        escape(&me.account),
        login.expires_at
    );
    Ok(0)
}

pub async fn logout(args: LogoutArgs) -> Result<i32, Failure> {
    let out = identity::logout(args.aws.profile.as_deref(), None)
        .await
        .map_err(|e| match e.kind {
            ErrorKind::AwsConfig => Failure::usage(e),
            _ => Failure::runtime(e),
        })?;
    println!("{}", escape(&out.message));
    for file in &out.removed {
        println!("  removed {}", escape(file));
    }
    if let Some(w) = &out.warning {
        eprintln!("keyless: warning: {}", escape(w));
    }
    Ok(0)
}

pub async fn whoami(args: WhoamiArgs) -> Result<i32, Failure> {
    let aws = AwsContext::load_with(&selection(&args.aws.profile), Some(&tty_mfa_prompt))
        .await
        .map_err(Failure::runtime)?;
    let me: CallerIdentity = identity::whoami(&aws).await.map_err(Failure::runtime)?;
    let profile = profile_label(&args.aws.profile);
    if args.json {
        let mut v = serde_json::to_value(&me).unwrap_or_default();
        v["profile"] = serde_json::Value::String(profile);
        println!("{v}");
    } else {
        println!("Profile  {}", escape(&profile));
        println!("Account  {}", escape(&me.account));
        println!("ARN      {}", escape(&me.arn));
        println!("UserId   {}", escape(&me.user_id));
        println!(
            "Expires  {}",
            escape(me.expires_at.as_deref().unwrap_or("never (long-term keys)"))
        );
    }
    Ok(0)
}

fn kind_name(k: ProfileKind) -> &'static str {
    match k {
        ProfileKind::Static => "static",
        ProfileKind::SsoSession => "sso_session",
        ProfileKind::Sso => "sso",
        ProfileKind::AssumeRole => "assume_role",
        ProfileKind::AssumeRoleMfa => "assume_role_mfa",
        ProfileKind::WebIdentity => "web_identity",
        ProfileKind::CredentialProcess => "credential_process",
        ProfileKind::Other => "other",
    }
}

fn details(p: &AwsProfile) -> String {
    match p.kind {
        ProfileKind::SsoSession | ProfileKind::Sso => format!(
            "{} in {}{}",
            p.sso_role_name.as_deref().unwrap_or("?"),
            p.sso_account_id.as_deref().unwrap_or("?"),
            p.sso_session
                .as_deref()
                .map(|s| format!(" (session {s})"))
                .unwrap_or_default()
        ),
        ProfileKind::AssumeRole | ProfileKind::AssumeRoleMfa => format!(
            "{} from {}{}",
            p.role_arn.as_deref().unwrap_or("?"),
            p.source_profile.as_deref().unwrap_or("?"),
            if p.mfa_serial.is_some() { " + MFA" } else { "" }
        ),
        _ => String::new(),
    }
}

pub fn aws_profiles(args: AwsProfilesArgs) -> Result<i32, Failure> {
    let profiles = identity::list_profiles();
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "profiles": serde_json::to_value(&profiles).unwrap_or_default() })
        );
        return Ok(0);
    }
    if profiles.is_empty() {
        println!(
            "No AWS profiles (looked in ~/.aws/config and ~/.aws/credentials, or AWS_CONFIG_FILE)."
        );
        return Ok(0);
    }
    let mut t = Table::new(vec!["PROFILE", "KIND", "REGION", "DETAILS"]);
    for p in &profiles {
        t.push(vec![
            p.name.clone().into(),
            kind_name(p.kind).to_string().into(),
            p.region.clone().unwrap_or_else(|| "-".into()).into(),
            details(p).into(),
        ]);
    }
    print!("{}", t.render());
    Ok(0)
}
