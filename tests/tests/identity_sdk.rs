//! The real aws-sdk-ssooidc / aws-sdk-sso / aws-sdk-sts clients against the lab's IAM Identity
//! Center and STS: every reply and error parses, the device flow answers authorization_pending
//! and slow_down, refresh tokens rotate, MFA is checked, and issued credentials sign EC2 calls.

mod common;

use aws_sdk_ec2::config::Credentials;
use common::sdk::{oidc, region, sso, static_creds, sts};
use keyless_lab::{Fault, Lab, LabOptions};
use std::time::Duration;

fn ec2(lab: &Lab, creds: Credentials) -> aws_sdk_ec2::Client {
    common::sdk::ec2(lab, &region(lab), creds)
}

#[tokio::test]
async fn device_flow_portal_and_sts_with_the_real_sdks() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let oidc = oidc(&lab);
    let reg = oidc
        .register_client()
        .client_name("sdk-test")
        .client_type("public")
        .scopes("sso:account:access")
        .send()
        .await
        .unwrap();
    let (id, secret) = (reg.client_id().unwrap(), reg.client_secret().unwrap());
    assert!(reg.client_secret_expires_at() > reg.client_id_issued_at());
    let auth = oidc
        .start_device_authorization()
        .client_id(id)
        .client_secret(secret)
        .start_url(keyless_lab::SSO_START_URL)
        .send()
        .await
        .unwrap();
    assert_eq!(auth.interval(), 1);
    assert!(auth.expires_in() > 60);
    let code = auth.user_code().unwrap().to_string();
    assert!(auth
        .verification_uri_complete()
        .unwrap()
        .ends_with(&format!("user_code={code}")));
    let poll = || {
        oidc.create_token()
            .client_id(id)
            .client_secret(secret)
            .grant_type("urn:ietf:params:oauth:grant-type:device_code")
            .device_code(auth.device_code().unwrap())
            .send()
    };
    let e = poll().await.unwrap_err();
    assert!(
        e.as_service_error()
            .unwrap()
            .is_authorization_pending_exception(),
        "{e:?}"
    );
    // Again at once: faster than the interval.
    let e = poll().await.unwrap_err();
    assert!(
        e.as_service_error().unwrap().is_slow_down_exception(),
        "{e:?}"
    );
    lab.fault(Fault::SsoApprove { code: code.clone() })
        .await
        .unwrap();
    assert!(lab
        .fault(Fault::SsoApprove {
            code: "NOPE-NOPE".into()
        })
        .await
        .is_err());
    tokio::time::sleep(Duration::from_millis(6100)).await;
    let tok = poll().await.unwrap();
    assert_eq!(tok.expires_in(), 8 * 3600);
    let access = tok.access_token().unwrap().to_string();
    let refresh = tok.refresh_token().unwrap().to_string();
    // Device codes are single use.
    assert!(poll()
        .await
        .unwrap_err()
        .as_service_error()
        .unwrap()
        .is_invalid_grant_exception());

    // Refresh tokens rotate.
    let refreshed = oidc
        .create_token()
        .client_id(id)
        .client_secret(secret)
        .grant_type("refresh_token")
        .refresh_token(&refresh)
        .send()
        .await
        .unwrap();
    assert_ne!(refreshed.access_token().unwrap(), access);
    let e = oidc
        .create_token()
        .client_id(id)
        .client_secret(secret)
        .grant_type("refresh_token")
        .refresh_token(&refresh)
        .send()
        .await
        .unwrap_err();
    assert!(e.as_service_error().unwrap().is_invalid_grant_exception());
    let stats = lab.sso_stats();
    assert_eq!(
        (stats.slow_downs, stats.too_fast, stats.refreshes),
        (1, 1, 1)
    );

    // The portal.
    let sso = sso(&lab);
    let accounts = sso
        .list_accounts()
        .access_token(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(
        accounts.account_list()[0].account_id(),
        Some(keyless_lab::ACCOUNT_ID)
    );
    let roles = sso
        .list_account_roles()
        .access_token(&access)
        .account_id(keyless_lab::ACCOUNT_ID)
        .send()
        .await
        .unwrap();
    assert!(roles
        .role_list()
        .iter()
        .any(|r| r.role_name() == Some(keyless_lab::SSO_ROLE_NAME)));
    let e = sso
        .get_role_credentials()
        .access_token("not-a-token")
        .account_id(keyless_lab::ACCOUNT_ID)
        .role_name(keyless_lab::SSO_ROLE_NAME)
        .send()
        .await
        .unwrap_err();
    assert!(e.as_service_error().unwrap().is_unauthorized_exception());
    let rc = sso
        .get_role_credentials()
        .access_token(&access)
        .account_id(keyless_lab::ACCOUNT_ID)
        .role_name(keyless_lab::SSO_ROLE_NAME)
        .send()
        .await
        .unwrap();
    let rc = rc.role_credentials().unwrap();
    let sso_creds = Credentials::new(
        rc.access_key_id().unwrap(),
        rc.secret_access_key().unwrap(),
        rc.session_token().map(str::to_string),
        None,
        "sso",
    );
    assert!(rc.expiration() > 0);

    // STS knows who signed.
    let me = sts(&lab, sso_creds.clone())
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert!(me
        .arn()
        .unwrap()
        .contains("assumed-role/AWSReservedSSO_AdminAccess_"));
    let me = sts(&lab, static_creds())
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.arn(), Some(keyless_lab::CALLER_ARN));

    // Issued credentials sign EC2 calls.
    let out = ec2(&lab, sso_creds)
        .describe_instances()
        .send()
        .await
        .unwrap();
    assert!(!out.reservations().is_empty());
}

#[tokio::test]
async fn assume_role_with_and_without_mfa() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let sts_static = sts(&lab, static_creds());
    let assume = |arn: &'static str, code: Option<&'static str>| {
        let mut req = sts_static
            .assume_role()
            .role_arn(arn)
            .role_session_name("t1");
        if let Some(c) = code {
            req = req.serial_number(keyless_lab::MFA_SERIAL).token_code(c);
        }
        req.send()
    };
    let out = assume(keyless_lab::OPS_ROLE_ARN, None).await.unwrap();
    assert_eq!(
        out.assumed_role_user().unwrap().arn(),
        "arn:aws:sts::123456789012:assumed-role/ops/t1"
    );
    let c = out.credentials().unwrap();
    let role_creds = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "role",
    );
    let me = sts(&lab, role_creds.clone())
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        me.arn(),
        Some("arn:aws:sts::123456789012:assumed-role/ops/t1")
    );
    assert!(ec2(&lab, role_creds)
        .describe_instances()
        .send()
        .await
        .is_ok());

    for code in [None, Some("000000")] {
        let e = assume(keyless_lab::OPS_MFA_ROLE_ARN, code)
            .await
            .unwrap_err();
        use aws_sdk_sts::error::ProvideErrorMetadata;
        assert_eq!(
            e.as_service_error().unwrap().code(),
            Some("AccessDenied"),
            "{e:?}"
        );
    }
    let out = assume(keyless_lab::OPS_MFA_ROLE_ARN, Some(keyless_lab::MFA_CODE))
        .await
        .unwrap();
    assert!(out.credentials().unwrap().expiration().secs() > 0);

    // An unknown key is still refused.
    let bogus = Credentials::new("ASIANOTISSUED0000000", "x", Some("t".into()), None, "bogus");
    let e = sts(&lab, bogus)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    use aws_sdk_sts::error::ProvideErrorMetadata;
    assert_eq!(
        e.as_service_error().unwrap().code(),
        Some("InvalidClientTokenId")
    );
}
