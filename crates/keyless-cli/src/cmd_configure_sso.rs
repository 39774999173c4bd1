//! `keyless configure-sso`: IAM Identity Center profiles written to the AWS config file, as
//! `aws configure sso` does. Flags answer the questions; what they leave open is asked on stderr
//! and read from stdin, one answer a line (a terminal or a pipe), so scripts can drive either way.

use crate::args::ConfigureSsoArgs;
use crate::cmd_identity::show_device_code;
use crate::output::Failure;
use crate::table::Table;
use keyless_core::identity::config_file::AwsFiles;
use keyless_core::identity::sso_setup::{self, Portal, RoleChoice, SetupChoices};
use keyless_core::terminal_text::escape;
use keyless_core::{Error, ErrorKind};
use std::io::Write;

/// Asks on stderr, reads one line of stdin; `default` answers an empty line.
fn ask(question: &str, default: Option<&str>) -> Result<String, Failure> {
    let mut err = std::io::stderr();
    match default {
        Some(d) => write!(err, "{question} [{}]: ", escape(d)),
        None => write!(err, "{question}: "),
    }
    .and_then(|()| err.flush())
    .map_err(|e| Failure::runtime(e.into()))?;
    let mut line = String::new();
    let n = std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Failure::runtime(e.into()))?;
    if n == 0 {
        return Err(Failure::usage(
            Error::invalid(format!("no answer to \"{question}\": stdin ended"))
                .with_hint("Answer on the terminal, or give the value as a flag (see --help)."),
        ));
    }
    match (line.trim(), default) {
        ("", Some(d)) => Ok(d.to_string()),
        (answer, _) => Ok(answer.to_string()),
    }
}

/// Bad input and configuration exit 2; the portal and the network 1.
fn failure(e: Error) -> Failure {
    match e.kind {
        ErrorKind::InvalidInput | ErrorKind::AwsConfig => Failure::usage(e),
        _ => Failure::runtime(e),
    }
}

/// Every role of the portal in listing order: (account index, role index).
fn all_roles(p: &Portal) -> Vec<(usize, usize)> {
    p.accounts
        .iter()
        .enumerate()
        .flat_map(|(a, acc)| (0..acc.roles.len()).map(move |r| (a, r)))
        .collect()
}

fn print_portal(p: &Portal, roles: &[(usize, usize)]) {
    println!(
        "The AWS access portal lists {} role(s) in {} account(s):",
        roles.len(),
        p.accounts.len()
    );
    let mut t = Table::new(vec!["#", "ACCOUNT", "ACCOUNT ID", "ROLE", "PROFILE"]);
    for (n, (a, r)) in roles.iter().enumerate() {
        let acc = &p.accounts[*a];
        let role = &acc.roles[*r];
        let profile = match &role.existing_profile {
            Some(existing) => format!("{existing} (exists)"),
            None => "-".to_string(),
        };
        t.push(vec![
            (n + 1).to_string().into(),
            acc.account_name.clone().into(),
            acc.account_id.clone().into(),
            role.role_name.clone().into(),
            profile.into(),
        ]);
    }
    print!("{}", t.render());
}

/// "1 3", "1,3", "all": the chosen rows; `None` for an answer that is none of these.
fn parse_picks(answer: &str, count: usize) -> Option<Vec<usize>> {
    if answer.trim().eq_ignore_ascii_case("all") {
        return Some((0..count).collect());
    }
    let mut picks = Vec::new();
    for part in answer.split([',', ' ']).filter(|p| !p.is_empty()) {
        let n: usize = part.parse().ok()?;
        if n == 0 || n > count {
            return None;
        }
        if !picks.contains(&(n - 1)) {
            picks.push(n - 1);
        }
    }
    (!picks.is_empty()).then_some(picks)
}

/// `--account` and `--role` side by side, checked before anything is asked or signed in.
fn flag_pairs(args: &ConfigureSsoArgs) -> Result<Vec<(String, String)>, Failure> {
    if args.accounts.len() != args.roles.len() {
        return Err(Failure::usage(
            Error::invalid("--account and --role come in pairs")
                .with_hint("Give one --role after each --account, e.g. --account 123456789012 --role AdminAccess."),
        ));
    }
    Ok(args
        .accounts
        .iter()
        .cloned()
        .zip(args.roles.iter().cloned())
        .collect())
}

/// The roles the flags name, or `None` when the flags name none (then the user picks).
fn roles_from_flags(
    args: &ConfigureSsoArgs,
    pairs: &[(String, String)],
    p: &Portal,
    roles: &[(usize, usize)],
) -> Result<Option<Vec<(usize, usize)>>, Failure> {
    if args.all {
        let fresh: Vec<_> = roles
            .iter()
            .copied()
            .filter(|(a, r)| p.accounts[*a].roles[*r].existing_profile.is_none())
            .collect();
        if fresh.is_empty() {
            return Err(Failure::usage(Error::invalid(
                "every role the portal lists has a profile already",
            )));
        }
        return Ok(Some(fresh));
    }
    if pairs.is_empty() {
        return Ok(None);
    }
    pairs
        .iter()
        .map(|(account, role)| {
            roles
                .iter()
                .copied()
                .find(|(a, r)| {
                    p.accounts[*a].account_id == *account
                        && p.accounts[*a].roles[*r].role_name == *role
                })
                .ok_or_else(|| {
                    Failure::usage(
                        Error::invalid(format!(
                            "the AWS access portal lists no role '{}' in account '{}'",
                            escape(role),
                            escape(account)
                        ))
                        .with_hint("Run without --account/--role to see what it lists."),
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

pub async fn run(args: ConfigureSsoArgs) -> Result<i32, Failure> {
    let pairs = flag_pairs(&args)?;
    let start_url = match &args.start_url {
        Some(u) => u.clone(),
        None => ask("IAM Identity Center start URL", None)?,
    };
    let sso_region = match &args.sso_region {
        Some(r) => r.clone(),
        None => ask("IAM Identity Center region", None)?,
    };
    let plan = sso_setup::plan_session(
        &AwsFiles::load(),
        &start_url,
        &sso_region,
        args.session_name.as_deref(),
    )
    .map_err(failure)?;
    if plan.exists {
        println!(
            "Using the sso-session '{}' already in the AWS config file.",
            escape(&plan.section.name)
        );
    }
    let portal = sso_setup::open_portal(&plan, None, show_device_code(args.no_browser))
        .await
        .map_err(failure)?;
    let roles = all_roles(&portal);
    if roles.is_empty() {
        return Err(Failure::runtime(
            Error::new(
                ErrorKind::AccessDenied,
                "the AWS access portal lists no account and role for this sign-in",
            )
            .with_hint("Ask your administrator to assign you a permission set."),
        ));
    }
    print_portal(&portal, &roles);

    let flagged = roles_from_flags(&args, &pairs, &portal, &roles)?;
    let asking = flagged.is_none();
    let picked = match flagged {
        Some(p) => p,
        None => loop {
            let answer = ask("Roles to keep (numbers, e.g. 1 3, or all)", None)?;
            match parse_picks(&answer, roles.len()) {
                Some(picks) => break picks.into_iter().map(|i| roles[i]).collect::<Vec<_>>(),
                None => eprintln!("Answer with numbers from 1 to {}, or all.", roles.len()),
            }
        },
    };
    let region = match (&args.region, asking) {
        (Some(r), _) => r.clone(),
        (None, false) => plan.section.sso_region.clone(),
        (None, true) => ask(
            "Default region of these profiles",
            Some(&plan.section.sso_region),
        )?,
    };
    let mut chosen = Vec::new();
    for (a, r) in picked {
        let acc = &portal.accounts[a];
        let role = &acc.roles[r];
        let profile_name = if asking {
            ask(
                &format!(
                    "Profile name for {} in {} ({})",
                    escape(&role.role_name),
                    escape(&acc.account_name),
                    escape(&acc.account_id)
                ),
                Some(&role.profile_name),
            )?
        } else {
            role.profile_name.clone()
        };
        chosen.push(RoleChoice {
            account_id: acc.account_id.clone(),
            role_name: role.role_name.clone(),
            profile_name,
        });
    }
    let written = portal
        .write(&SetupChoices {
            roles: chosen,
            region,
        })
        .map_err(failure)?;

    println!("Wrote {}:", escape(&written.path));
    if written.session_added {
        println!("  [sso-session {}]", escape(&written.session));
    }
    for p in &written.profiles {
        match p.as_str() {
            "default" => println!("  [default]"),
            name => println!("  [profile {}]", escape(name)),
        }
    }
    if let Some(b) = &written.backup {
        println!("The file as it was is in {}.", escape(b));
    }
    if let Some(first) = written.profiles.first() {
        println!("Try: keyless ls --profile {}", escape(first));
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::parse_picks;

    #[test]
    fn picks() {
        assert_eq!(parse_picks("1 3", 4), Some(vec![0, 2]));
        assert_eq!(parse_picks("3,1, 3", 4), Some(vec![2, 0]));
        assert_eq!(parse_picks(" ALL ", 3), Some(vec![0, 1, 2]));
        for bad in ["", "0", "5", "1-2", "one"] {
            assert_eq!(parse_picks(bad, 4), None, "{bad:?}");
        }
    }
}
