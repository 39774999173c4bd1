//! Setting up IAM Identity Center from nothing, as `aws configure sso` does: from a start URL and
//! the portal's region to a device sign-in (the token cached under the new sso-session's name, so
//! the AWS CLI shares it), the portal's accounts and roles (`ListAccounts`, `ListAccountRoles`),
//! and, for the roles the user keeps, profiles in the AWS config file (see `config_writer`).
//! The CLI's `configure-sso` and the app's first-run view are two faces of these calls.

use super::config_file::AwsFiles;
use super::config_writer::{
    self, check_name, check_start_url, same_url, ConfigWritten, SsoProfileSection,
    SsoSessionSection, SSO_SCOPE,
};
use super::sso_cache;
use super::sso_login::{self, DeviceCode, SsoTarget};
use crate::aws::AwsFailure;
use crate::error::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};

/// The sso-session the new profiles go under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSession {
    pub section: SsoSessionSection,
    /// The config file has it already (same start URL): reused, its sign-in shared.
    pub exists: bool,
}

/// One role of the portal as the user chooses among them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PortalRole {
    pub role_name: String,
    /// The name proposed for its profile: `<RoleName>-<AccountId>` as `aws configure sso`
    /// proposes it, with `-2`, `-3`… when that name is taken.
    pub profile_name: String,
    /// A profile of the config file that already signs in to this role with this portal.
    pub existing_profile: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PortalAccount {
    pub account_id: String,
    pub account_name: String,
    pub email: Option<String>,
    pub roles: Vec<PortalRole>,
}

/// What the signed-in user may reach through the portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Portal {
    /// The sso-session name the profiles will use.
    pub session: String,
    pub start_url: String,
    pub sso_region: String,
    /// The sso-session is in the config file already (it is reused, not written again).
    pub session_exists: bool,
    pub accounts: Vec<PortalAccount>,
}

/// A role to keep, under the profile name the user settled on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct RoleChoice {
    pub account_id: String,
    pub role_name: String,
    pub profile_name: String,
}

/// The user's choices: the roles to keep and the default region of their profiles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct SetupChoices {
    pub roles: Vec<RoleChoice>,
    pub region: String,
}

/// The sso-session for `start_url`: the one named `name` (which must be for this start URL if it
/// exists), else the config file's own session for the start URL, else a new one named after the
/// portal's host (`my-org` for `https://my-org.awsapps.com/start`).
pub fn plan_session(
    files: &AwsFiles,
    start_url: &str,
    sso_region: &str,
    name: Option<&str>,
) -> Result<PlannedSession> {
    let start_url = start_url.trim();
    check_start_url(start_url)?;
    crate::validate::region(sso_region)?;
    let url_of = |n: &str| {
        files
            .sso_sessions
            .get(n)
            .and_then(|s| s.get("sso_start_url"))
            .cloned()
    };
    let existing = match name {
        Some(n) => {
            check_name("sso-session", n)?;
            match url_of(n) {
                Some(u) if same_url(&u, start_url) => Some(n.to_string()),
                Some(_) => {
                    return Err(Error::invalid(format!(
                        "the AWS config file's sso-session '{n}' signs in to another start URL"
                    ))
                    .with_hint("Choose another sso-session name."))
                }
                None => None,
            }
        }
        None => files
            .sso_sessions
            .iter()
            .find(|(_, keys)| {
                keys.get("sso_start_url")
                    .is_some_and(|u| same_url(u, start_url))
            })
            .map(|(n, _)| n.clone()),
    };
    if let Some(n) = existing {
        let keys = &files.sso_sessions[&n];
        let region = keys.get("sso_region").cloned().unwrap_or_default();
        if region != sso_region {
            return Err(Error::invalid(format!(
                "the AWS config file's sso-session '{n}' signs in to {start_url} through region {region}, not {sso_region}"
            ))
            .with_hint(format!("An IAM Identity Center instance lives in one region: use {region}.")));
        }
        return Ok(PlannedSession {
            section: SsoSessionSection {
                name: n,
                // As the file spells it (a trailing slash kept).
                start_url: keys.get("sso_start_url").cloned().unwrap_or_default(),
                sso_region: region,
            },
            exists: true,
        });
    }
    let name = match name {
        Some(n) => n.to_string(),
        None => free_name(&session_name_of(start_url), |n| {
            files.sso_sessions.contains_key(n)
        }),
    };
    Ok(PlannedSession {
        section: SsoSessionSection {
            name,
            start_url: start_url.to_string(),
            sso_region: sso_region.to_string(),
        },
        exists: false,
    })
}

/// The first label of the portal's host, in the characters a session name may hold.
fn session_name_of(start_url: &str) -> String {
    let host = url::Url::parse(start_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let label: String = host
        .split('.')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect();
    if label.is_empty() {
        "sso".to_string()
    } else {
        label
    }
}

/// `base`, else `base-2`, `base-3`… — the first one `taken` says is free.
fn free_name(base: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|n| !taken(n))
        .unwrap_or_else(|| base.to_string())
}

/// The sign-in of a planned session, as the token cache and SSO-OIDC see it.
fn target(s: &SsoSessionSection) -> Result<SsoTarget> {
    Ok(SsoTarget {
        profile: s.name.clone(),
        session: Some(s.name.clone()),
        start_url: s.start_url.clone(),
        region: s.sso_region.clone(),
        scopes: vec![SSO_SCOPE.to_string()],
        cache_file: sso_cache::cache_file(&s.name)?,
    })
}

/// Signs in to the portal of `plan` and lists it. A session the config file has already, whose
/// cached sign-in still works, is not signed in again (`on_code` is then never called); otherwise
/// the device flow runs as for `keyless login`, its token cached under the session's name.
pub async fn open_portal(
    plan: &PlannedSession,
    endpoint_url: Option<&str>,
    on_code: impl FnOnce(&DeviceCode),
) -> Result<Portal> {
    let t = target(&plan.section)?;
    if plan.exists && sso_login::ensure_fresh(&t, endpoint_url).await.is_ok() {
        match list(plan, &t, endpoint_url).await {
            // Refused: signed out or revoked meanwhile; sign in below.
            Err(e) if e.kind == ErrorKind::Credentials => {}
            other => return other,
        }
    }
    // The setup offers its own retry: no "sign in with profile …" fix for a profile not written yet.
    sso_login::sign_in(&t, endpoint_url, on_code)
        .await
        .map_err(|e| Error { fix: None, ..e })?;
    list(plan, &t, endpoint_url).await
}

async fn list(plan: &PlannedSession, t: &SsoTarget, endpoint_url: Option<&str>) -> Result<Portal> {
    let token = sso_cache::read(&t.cache_file)?
        .ok_or_else(|| Error::new(ErrorKind::Credentials, "the sign-in left no token"))?
        .access_token;
    let listed = list_accounts(&plan.section.sso_region, &token, endpoint_url).await?;
    Ok(portal(&AwsFiles::load(), plan, listed))
}

/// An account and its role names, as the portal lists them.
pub type Listed = Vec<(aws_sdk_sso::types::AccountInfo, Vec<String>)>;

/// `ListAccounts`, then `ListAccountRoles` of each account, every page of both.
pub async fn list_accounts(
    sso_region: &str,
    access_token: &str,
    endpoint_url: Option<&str>,
) -> Result<Listed> {
    let client =
        aws_sdk_sso::Client::new(&crate::aws::unsigned_config(sso_region, endpoint_url).await);
    let mut accounts = Vec::new();
    let mut pages = client
        .list_accounts()
        .access_token(access_token)
        .into_paginator()
        .items()
        .send();
    while let Some(a) = pages.next().await {
        accounts.push(a.map_err(|e| portal_error("ListAccounts", AwsFailure::from_sdk(&e)))?);
    }
    let mut out = Vec::new();
    for a in accounts {
        let id = a.account_id().unwrap_or_default().to_string();
        let mut roles = Vec::new();
        let mut pages = client
            .list_account_roles()
            .access_token(access_token)
            .account_id(&id)
            .into_paginator()
            .items()
            .send();
        while let Some(r) = pages.next().await {
            let r = r.map_err(|e| portal_error("ListAccountRoles", AwsFailure::from_sdk(&e)))?;
            if let Some(name) = r.role_name() {
                roles.push(name.to_string());
            }
        }
        out.push((a, roles));
    }
    Ok(out)
}

fn portal_error(what: &str, f: AwsFailure) -> Error {
    if f.code.as_deref() == Some("UnauthorizedException") {
        return Error::new(
            ErrorKind::Credentials,
            format!(
                "{what}: the AWS access portal refused the sign-in: {}",
                f.message
            ),
        )
        .with_hint("Sign in again.");
    }
    f.into_generic_error(what)
}

/// The listing with a proposed profile name for every role, and the profile that already covers
/// it, if any.
pub fn portal(files: &AwsFiles, plan: &PlannedSession, listed: Listed) -> Portal {
    let s = &plan.section;
    let mut proposed: Vec<String> = Vec::new();
    let accounts = listed
        .into_iter()
        .map(|(a, roles)| {
            let account_id = a.account_id().unwrap_or_default().to_string();
            let roles = roles
                .into_iter()
                .map(|role_name| {
                    let profile_name =
                        free_name(&default_profile_name(&role_name, &account_id), |n| {
                            files.profiles.contains_key(n) || proposed.iter().any(|p| p == n)
                        });
                    proposed.push(profile_name.clone());
                    PortalRole {
                        existing_profile: existing_profile(files, s, &account_id, &role_name),
                        role_name,
                        profile_name,
                    }
                })
                .collect();
            PortalAccount {
                account_name: a.account_name().unwrap_or(&account_id).to_string(),
                email: a.email_address().map(str::to_string),
                account_id,
                roles,
            }
        })
        .collect();
    Portal {
        session: s.name.clone(),
        start_url: s.start_url.clone(),
        sso_region: s.sso_region.clone(),
        session_exists: plan.exists,
        accounts,
    }
}

/// `aws configure sso`'s proposal: `<RoleName>-<AccountId>`.
pub fn default_profile_name(role_name: &str, account_id: &str) -> String {
    format!("{role_name}-{account_id}")
}

/// A profile that signs in to `role` of `account` through this portal (its sso-session, or a
/// legacy profile with the same start URL).
fn existing_profile(
    files: &AwsFiles,
    s: &SsoSessionSection,
    account: &str,
    role: &str,
) -> Option<String> {
    files.list().into_iter().find_map(|p| {
        let section = &files.profiles[&p.name];
        let same_portal = p.sso_session.as_deref() == Some(s.name.as_str())
            || section
                .get("sso_start_url")
                .is_some_and(|u| same_url(u, &s.start_url));
        (same_portal
            && p.sso_account_id.as_deref() == Some(account)
            && p.sso_role_name.as_deref() == Some(role))
        .then_some(p.name)
    })
}

impl Portal {
    /// The profile sections of `choices`; refuses a role the portal did not list.
    pub fn profiles(&self, choices: &SetupChoices) -> Result<Vec<SsoProfileSection>> {
        crate::validate::region(choices.region.trim())?;
        choices
            .roles
            .iter()
            .map(|c| {
                let listed = self.accounts.iter().any(|a| {
                    a.account_id == c.account_id
                        && a.roles.iter().any(|r| r.role_name == c.role_name)
                });
                if !listed {
                    return Err(Error::invalid(format!(
                        "the AWS access portal lists no role '{}' in account '{}'",
                        c.role_name.escape_debug(),
                        c.account_id.escape_debug()
                    ))
                    .with_hint("Choose among the accounts and roles the portal lists."));
                }
                Ok(SsoProfileSection {
                    name: c.profile_name.trim().to_string(),
                    account_id: c.account_id.clone(),
                    role_name: c.role_name.clone(),
                    region: choices.region.trim().to_string(),
                })
            })
            .collect()
    }

    /// Writes the chosen profiles (and the sso-session, unless it is there) to the AWS config file.
    pub fn write(&self, choices: &SetupChoices) -> Result<ConfigWritten> {
        let profiles = self.profiles(choices)?;
        let session = SsoSessionSection {
            name: self.session.clone(),
            start_url: self.start_url.clone(),
            sso_region: self.sso_region.clone(),
        };
        config_writer::add_sso_profiles(&session, &profiles)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sso::types::AccountInfo;

    fn files(config: &str) -> AwsFiles {
        AwsFiles::parse(config, "")
    }

    #[test]
    fn a_new_portal_gets_a_session_named_after_its_host() {
        let p = plan_session(
            &files(""),
            " https://my-org.awsapps.com/start ",
            "eu-west-1",
            None,
        )
        .unwrap();
        assert_eq!(p.section.name, "my-org");
        assert_eq!(p.section.start_url, "https://my-org.awsapps.com/start");
        assert!(!p.exists);
        // Taken by another portal: suffixed.
        let f = files("[sso-session my-org]\nsso_start_url = https://elsewhere/start\n");
        let p = plan_session(&f, "https://my-org.awsapps.com/start", "eu-west-1", None).unwrap();
        assert_eq!((p.section.name.as_str(), p.exists), ("my-org-2", false));
    }

    #[test]
    fn the_same_start_url_reuses_its_session() {
        let f = files("[sso-session corp]\nsso_start_url = https://my-org.awsapps.com/start/\nsso_region = eu-west-1\n");
        let p = plan_session(&f, "https://my-org.awsapps.com/start", "eu-west-1", None).unwrap();
        assert_eq!(p.section.name, "corp");
        assert_eq!(p.section.start_url, "https://my-org.awsapps.com/start/");
        assert!(p.exists);
        let named = plan_session(
            &f,
            "https://my-org.awsapps.com/start",
            "eu-west-1",
            Some("corp"),
        )
        .unwrap();
        assert_eq!(named, p);
        let e =
            plan_session(&f, "https://my-org.awsapps.com/start", "us-east-1", None).unwrap_err();
        assert!(
            e.message
                .contains("through region eu-west-1, not us-east-1"),
            "{}",
            e.message
        );
        let e = plan_session(
            &f,
            "https://other.awsapps.com/start",
            "eu-west-1",
            Some("corp"),
        )
        .unwrap_err();
        assert!(e.message.contains("another start URL"), "{}", e.message);
        assert!(plan_session(&f, "http://my-org.awsapps.com/start", "eu-west-1", None).is_err());
        assert!(plan_session(&f, "https://my-org.awsapps.com/start", "mars", None).is_err());
    }

    fn account(id: &str, name: &str) -> AccountInfo {
        AccountInfo::builder()
            .account_id(id)
            .account_name(name)
            .build()
    }

    #[test]
    fn proposed_names_are_free_and_covered_roles_are_named() {
        let f = files(
            "[sso-session corp]\nsso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\n\
             [profile AdminAccess-111111111111]\nregion = us-east-1\n\
             [profile mine]\nsso_session = corp\nsso_account_id = 222222222222\nsso_role_name = ReadOnly\n",
        );
        let plan = plan_session(&f, "https://x.awsapps.com/start", "us-east-1", None).unwrap();
        let listed = vec![
            (
                account("111111111111", "prod"),
                vec!["AdminAccess".to_string()],
            ),
            (
                account("222222222222", "dev"),
                vec!["ReadOnly".to_string(), "AdminAccess".to_string()],
            ),
        ];
        let p = portal(&f, &plan, listed);
        let names: Vec<(&str, Option<&str>)> = p
            .accounts
            .iter()
            .flat_map(|a| a.roles.iter())
            .map(|r| (r.profile_name.as_str(), r.existing_profile.as_deref()))
            .collect();
        assert_eq!(
            names,
            [
                ("AdminAccess-111111111111-2", None),
                ("ReadOnly-222222222222", Some("mine")),
                ("AdminAccess-222222222222", None),
            ]
        );
        let choose = |account: &str, role: &str| SetupChoices {
            roles: vec![RoleChoice {
                account_id: account.into(),
                role_name: role.into(),
                profile_name: " dev-admin ".into(),
            }],
            region: "eu-west-1".into(),
        };
        let sections = p.profiles(&choose("222222222222", "AdminAccess")).unwrap();
        assert_eq!(sections[0].name, "dev-admin");
        assert_eq!(sections[0].region, "eu-west-1");
        let e = p.profiles(&choose("111111111111", "ReadOnly")).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(e
            .message
            .contains("no role 'ReadOnly' in account '111111111111'"));
    }
}
