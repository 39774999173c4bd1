//! Two AWS accounts: the main one (static key, `sso-admin`, `sso-legacy`) keeps the full
//! catalogue; `staging` (`sso-staging`, IAM Identity Center only) sees its own instances only,
//! and pushes cannot cross from one account to the other.

mod common;

use aws_sdk_ec2::config::Credentials;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use common::sdk::{self, Registration};
use common::*;
use keyless_lab::{
    Fault, Lab, LabOptions, ACCOUNT_ID, ACCOUNT_NAME, SSO_DEVELOPER_ROLE, SSO_LEGACY_PROFILE,
    SSO_READONLY_ROLE, SSO_ROLE_NAME, SSO_STAGING_PROFILE, SSO_USER, STAGING_ACCOUNT_ID,
    STAGING_ACCOUNT_NAME, STAGING_API, STAGING_INSTANCES, STAGING_OLD, STAGING_WEB,
};

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMLNutKj9VqC4EZWaaatd6Xaggr1lhZ8qNRFICuIU97";

async fn caller_arn(lab: &Lab, creds: Credentials) -> (String, String) {
    let me = sdk::sts(lab, creds)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    (
        me.arn().unwrap().to_string(),
        me.account().unwrap().to_string(),
    )
}

/// SendSSHPublicKey of [`KEY`] as `creds`; the AWS error code, or "Success".
async fn push_as(lab: &Lab, creds: Credentials, region: &str, id: &str) -> String {
    push_key_as(lab, creds, region, id, KEY).await
}

/// SendSSHPublicKey of `key` as `creds`; the AWS error code, or "Success".
async fn push_key_as(lab: &Lab, creds: Credentials, region: &str, id: &str, key: &str) -> String {
    let out = sdk::eic(lab, region, creds)
        .send_ssh_public_key()
        .instance_id(id)
        .instance_os_user(lab.os_user())
        .ssh_public_key(key)
        .send()
        .await;
    match out {
        Ok(ok) if ok.success() => "Success".into(),
        Ok(_) => "NotSuccess".into(),
        Err(e) => e.code().unwrap_or("?").to_string(),
    }
}

#[tokio::test]
async fn switching_profile_switches_account_and_instances() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let [first, second] = [0, 1].map(|n| lab.regions()[n].clone());

    // The portal lists both accounts; staging holds AdminAccess and Developer, not ReadOnly.
    let token = sdk::sso_sign_in(&lab, Registration::Session).await;
    let sso = sdk::sso(&lab);
    let accounts = sso
        .list_accounts()
        .access_token(&token)
        .send()
        .await
        .unwrap();
    let listed: Vec<_> = accounts
        .account_list()
        .iter()
        .map(|a| (a.account_id().unwrap(), a.account_name().unwrap()))
        .collect();
    assert_eq!(
        listed,
        [
            (ACCOUNT_ID, ACCOUNT_NAME),
            (STAGING_ACCOUNT_ID, STAGING_ACCOUNT_NAME)
        ]
    );
    let roles = sso
        .list_account_roles()
        .access_token(&token)
        .account_id(STAGING_ACCOUNT_ID)
        .send()
        .await
        .unwrap();
    let roles: Vec<_> = roles
        .role_list()
        .iter()
        .filter_map(|r| r.role_name())
        .collect();
    assert_eq!(roles, [SSO_ROLE_NAME, SSO_DEVELOPER_ROLE]);
    let e = sso
        .get_role_credentials()
        .access_token(&token)
        .account_id(STAGING_ACCOUNT_ID)
        .role_name(SSO_READONLY_ROLE)
        .send()
        .await
        .unwrap_err();
    // Real IAM Identity Center answers "ForbiddenException: No access" (not in the SDK's model).
    assert_eq!(e.code(), Some("ForbiddenException"), "{e:?}");

    // `sso-staging`: its own account, its own region, its own instances.
    let (staging, staging_region) = sdk::sso_profile_credentials(&lab, SSO_STAGING_PROFILE).await;
    assert_eq!(staging_region, second);
    let (arn, account) = caller_arn(&lab, staging.clone()).await;
    assert_eq!(account, STAGING_ACCOUNT_ID);
    assert!(
        arn.starts_with("arn:aws:sts::210987654321:assumed-role/AWSReservedSSO_AdminAccess_")
            && arn.ends_with(&format!("/{SSO_USER}")),
        "{arn}"
    );
    let in_first = sdk::listed_names(&lab, &first, staging.clone()).await;
    assert_eq!(in_first, [STAGING_WEB, STAGING_OLD]);
    assert_eq!(in_first, sdk::lab_names(&lab, STAGING_ACCOUNT_ID, &first));
    assert_eq!(
        sdk::listed_names(&lab, &second, staging.clone()).await,
        [STAGING_API]
    );
    let page = sdk::ec2(&lab, &first, staging)
        .describe_instances()
        .send()
        .await
        .unwrap();
    assert!(page
        .reservations()
        .iter()
        .all(|r| r.owner_id() == Some(STAGING_ACCOUNT_ID)));

    // The static key and `sso-admin` still see exactly the original catalogue.
    let admin = sdk::role_credentials(&lab, &token, ACCOUNT_ID, SSO_ROLE_NAME).await;
    for creds in [sdk::static_creds(), admin] {
        for region in [&first, &second] {
            let names = sdk::listed_names(&lab, region, creds.clone()).await;
            assert_eq!(names, sdk::lab_names(&lab, ACCOUNT_ID, region));
            assert!(
                !names.iter().any(|n| n.starts_with("staging-")),
                "{names:?}"
            );
        }
    }
    assert_eq!(lab.instances().len(), 12);
    assert_eq!(
        lab.all_instances().len(),
        12 + lab.instances_in(STAGING_ACCOUNT_ID).len()
    );
}

#[tokio::test]
async fn staging_instances_run_and_pushes_stay_in_their_account() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let first = sdk::region(&lab);
    let web = lab.instance_named(STAGING_WEB);
    let api = lab.instance_named(STAGING_API);
    let old = lab.instance_named(STAGING_OLD);
    assert_eq!(
        [&web.state, &api.state, &old.state].map(String::as_str),
        ["running", "running", "stopped"]
    );
    assert!(web.tags.contains(&("Env".into(), "staging".into())));
    assert!(api.tags.contains(&("Role".into(), "api".into())));
    assert_eq!(api.region, lab.regions()[1]);
    let mut names: Vec<_> = lab
        .instances_in(STAGING_ACCOUNT_ID)
        .into_iter()
        .filter_map(|i| i.name)
        .collect();
    names.sort();
    let mut expected = STAGING_INSTANCES.map(String::from);
    expected.sort();
    assert_eq!(names, expected);
    let dir = lab.state_dir().to_string_lossy().into_owned();
    assert_eq!(
        sshd_listeners_settled(&dir, running_count(&lab)),
        running_count(&lab)
    );

    let (staging, _) = sdk::sso_profile_credentials(&lab, SSO_STAGING_PROFILE).await;
    let db = lab.instance_named("db-primary");

    // Across accounts an instance does not exist, whichever side pushes.
    let refused = "EC2InstanceNotFoundException";
    assert_eq!(
        push_as(&lab, staging.clone(), &first, &db.id).await,
        refused
    );
    assert_eq!(
        push_as(&lab, sdk::static_creds(), &first, &web.id).await,
        refused
    );
    let e = sdk::ec2(&lab, &first, staging.clone())
        .describe_instances()
        .instance_ids(&db.id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidInstanceID.NotFound"));
    let pushes = lab.pushes();
    assert_eq!(
        (pushes[0].account.as_str(), pushes[0].outcome.as_str()),
        (STAGING_ACCOUNT_ID, refused)
    );
    assert_eq!(pushes[1].account, ACCOUNT_ID);

    // In its own account: the states as in the catalogue, and a real login.
    assert_eq!(
        push_as(&lab, staging.clone(), &first, &old.id).await,
        "EC2InstanceStateInvalidException"
    );
    let tmp = tempfile::tempdir().unwrap();
    let (key, line) = ed25519(tmp.path(), "id");
    assert_eq!(
        push_key_as(&lab, staging.clone(), &first, &web.id, &line).await,
        "Success"
    );
    let out = ssh(
        &key,
        lab.ssh_port(),
        lab.os_user(),
        &web.private_ip.to_string(),
        "echo staging-ok",
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "staging-ok",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Fault switches work by id in either account.
    lab.fault(Fault::Stop { id: web.id.clone() }).await.unwrap();
    assert_eq!(lab.instance_named(STAGING_WEB).state, "stopped");
    assert_eq!(
        push_as(&lab, staging.clone(), &first, &web.id).await,
        "EC2InstanceStateInvalidException"
    );
    keyless_lab::control::send_fault(lab.http_addr(), &Fault::Start { id: old.id.clone() })
        .unwrap();
    assert_eq!(push_as(&lab, staging, &first, &old.id).await, "Success");
    assert_eq!(
        sshd_listeners_settled(&dir, running_count(&lab)),
        running_count(&lab)
    );

    // `/_lab/state` stays the main account's unless asked.
    let addr = lab.http_addr();
    assert_eq!(
        keyless_lab::control::fetch_state(addr).unwrap(),
        lab.instances()
    );
    assert_eq!(
        keyless_lab::control::fetch_state_of(addr, STAGING_ACCOUNT_ID).unwrap(),
        lab.instances_in(STAGING_ACCOUNT_ID)
    );
    assert_eq!(
        keyless_lab::control::fetch_state_of(addr, "all").unwrap(),
        lab.all_instances()
    );
}

#[tokio::test]
async fn legacy_sso_profile_signs_in_without_scopes() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let p = sdk::aws_profile(&lab, SSO_LEGACY_PROFILE);
    assert!(!p.contains_key("sso_session"), "{p:?}");
    assert_eq!(p["sso_start_url"], keyless_lab::SSO_START_URL);
    assert_eq!(p["sso_region"], sdk::region(&lab));

    let (creds, region) = sdk::sso_profile_credentials(&lab, SSO_LEGACY_PROFILE).await;
    let (arn, account) = caller_arn(&lab, creds.clone()).await;
    assert_eq!(account, ACCOUNT_ID);
    assert!(
        arn.starts_with("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_ReadOnly_"),
        "{arn}"
    );
    assert_eq!(
        sdk::listed_names(&lab, &region, creds).await,
        sdk::lab_names(&lab, ACCOUNT_ID, &region)
    );
    let stats = lab.sso_stats();
    assert_eq!((stats.tokens_issued, stats.role_credentials), (1, 1));
}

#[tokio::test]
async fn the_portal_pages_its_lists_and_developer_lands_in_staging() {
    let lab = Lab::start(LabOptions {
        max_page_size: 1,
        ..LabOptions::default()
    })
    .await
    .unwrap();
    let token = sdk::sso_sign_in(&lab, Registration::Session).await;
    let sso = sdk::sso(&lab);

    // One item per page under a cap of 1: the SDK's paginator follows nextToken to the end.
    let first = sso
        .list_accounts()
        .access_token(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(first.account_list().len(), 1);
    assert!(first.next_token().is_some());
    let accounts: Vec<String> = sso
        .list_accounts()
        .access_token(&token)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .iter()
        .map(|a| a.account_id().unwrap().to_string())
        .collect();
    assert_eq!(accounts, [ACCOUNT_ID, STAGING_ACCOUNT_ID]);
    let roles: Vec<String> = sso
        .list_account_roles()
        .access_token(&token)
        .account_id(ACCOUNT_ID)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .iter()
        .map(|r| r.role_name().unwrap().to_string())
        .collect();
    assert_eq!(roles, [SSO_ROLE_NAME, SSO_READONLY_ROLE]);
    let e = sso
        .list_accounts()
        .access_token(&token)
        .next_token("not-a-page")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidRequestException"), "{e:?}");

    // Developer: staging's credentials, staging's caller.
    let dev = sdk::role_credentials(&lab, &token, STAGING_ACCOUNT_ID, SSO_DEVELOPER_ROLE).await;
    let (arn, account) = caller_arn(&lab, dev).await;
    assert_eq!(account, STAGING_ACCOUNT_ID);
    assert!(
        arn.contains(":assumed-role/AWSReservedSSO_Developer_fedcba9876543210/"),
        "{arn}"
    );
    let e = sso
        .get_role_credentials()
        .access_token(&token)
        .account_id(ACCOUNT_ID)
        .role_name(SSO_DEVELOPER_ROLE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ForbiddenException"), "{e:?}");
}
