//! The real aws-sdk-ssooidc / aws-sdk-sso / aws-sdk-sts clients against the lab's IAM Identity
//! Center and STS: every reply and error parses, the device flow answers authorization_pending
//! and slow_down, refresh tokens rotate, MFA is checked, issued credentials sign EC2 calls, and a
//! sign-in ends with the portal's Logout or an administrator's revocation.

mod common;

use aws_sdk_ec2::config::Credentials;
use common::sdk::{
    device_token, oidc, refresh_token, region, sso, sso_sign_in_full, start_device, static_creds,
    sts, Registration,
};
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
    let auth = start_device(&oidc, id, secret).send().await.unwrap();
    assert_eq!(auth.interval(), 1);
    assert!(auth.expires_in() > 60);
    let code = auth.user_code().unwrap().to_string();
    assert!(auth
        .verification_uri_complete()
        .unwrap()
        .ends_with(&format!("user_code={code}")));
    let poll = || device_token(&oidc, id, secret, auth.device_code().unwrap()).send();
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
    let refresh_with = || {
        oidc.create_token()
            .client_id(id)
            .client_secret(secret)
            .grant_type("refresh_token")
            .refresh_token(&refresh)
            .send()
    };
    let refreshed = refresh_with().await.unwrap();
    assert_ne!(refreshed.access_token().unwrap(), access);
    let e = refresh_with().await.unwrap_err();
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

/// True when the portal answers UnauthorizedException to this token.
async fn portal_refuses(lab: &Lab, access_token: &str) -> bool {
    match sso(lab)
        .list_accounts()
        .access_token(access_token)
        .send()
        .await
    {
        Ok(_) => false,
        Err(e) => e
            .as_service_error()
            .unwrap_or_else(|| panic!("not a service error: {e:?}"))
            .is_unauthorized_exception(),
    }
}

#[tokio::test]
async fn logout_and_revocation_end_a_sign_in() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let (a, b) = (
        sso_sign_in_full(&lab, Registration::Session).await,
        sso_sign_in_full(&lab, Registration::Session).await,
    );
    assert!(!portal_refuses(&lab, &a.access_token).await);

    // Logout ends that sign-in only: its access token and the refresh token issued with it.
    sso(&lab)
        .logout()
        .access_token(&a.access_token)
        .send()
        .await
        .expect("Logout");
    assert_eq!(lab.sso_stats().logouts, 1);
    assert!(portal_refuses(&lab, &a.access_token).await);
    let e = refresh_token(&oidc(&lab), &a).send().await.unwrap_err();
    assert!(
        e.as_service_error().unwrap().is_invalid_grant_exception(),
        "{e:?}"
    );
    assert!(!portal_refuses(&lab, &b.access_token).await);
    // A second Logout with the same token: UnauthorizedException, nothing counted.
    let e = sso(&lab)
        .logout()
        .access_token(&a.access_token)
        .send()
        .await
        .unwrap_err();
    assert!(
        e.as_service_error().unwrap().is_unauthorized_exception(),
        "{e:?}"
    );
    assert_eq!(lab.sso_stats().logouts, 1);

    // Revocation (over the control route, as `keyless-lab fault sso-revoke` sends it) ends the rest.
    keyless_lab::control::send_fault(lab.http_addr(), &Fault::SsoRevoke).unwrap();
    assert!(portal_refuses(&lab, &b.access_token).await);
    let e = refresh_token(&oidc(&lab), &b).send().await.unwrap_err();
    assert!(
        e.as_service_error().unwrap().is_invalid_grant_exception(),
        "{e:?}"
    );
    let stats = lab.sso_stats();
    assert_eq!((stats.refresh_calls, stats.refreshes), (2, 0), "{stats:?}");
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

/// `name="value"` of the first element carrying `attr` in `html` (good enough for the lab's page).
fn attr<'a>(html: &'a str, anchor: &str, attr: &str) -> &'a str {
    let from = &html[html
        .find(anchor)
        .unwrap_or_else(|| panic!("no {anchor} in {html}"))..];
    let at = from.find(&format!("{attr}=\"")).unwrap() + attr.len() + 2;
    &from[at..at + from[at..].find('"').unwrap()]
}

fn post_form(lab: &Lab, path: &str, body: &str) -> keyless_lab::mini_http::Response {
    let headers = [(
        "content-type".to_string(),
        "application/x-www-form-urlencoded".to_string(),
    )];
    keyless_lab::mini_http::request(lab.http_addr(), "POST", path, &headers, body.as_bytes())
        .unwrap()
}

fn get(lab: &Lab, path: &str) -> keyless_lab::mini_http::Response {
    keyless_lab::mini_http::request(lab.http_addr(), "GET", path, &[], b"").unwrap()
}

/// The verification page a person sees: an HTML authorization page whose "Allow" and "Deny"
/// are real form POSTs; the real SDK's CreateToken then gets a token, or AccessDenied.
#[tokio::test]
async fn device_page_allow_and_deny_with_a_browser_form() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let oidc = oidc(&lab);
    let reg = oidc
        .register_client()
        .client_name("Keyless <desktop> & \"co\"")
        .client_type("public")
        .send()
        .await
        .unwrap();
    let (id, secret) = (reg.client_id().unwrap(), reg.client_secret().unwrap());
    let start = || async { start_device(&oidc, id, secret).send().await.unwrap() };
    let token = |device: String| device_token(&oidc, id, secret, &device).send();
    let (allowed, denied) = (start().await, start().await);

    // What the browser opens.
    let url = allowed.verification_uri_complete().unwrap();
    let path = &url[url.find("/_lab/").unwrap()..];
    let page = get(&lab, path);
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    let html = page.text();
    let code = allowed.user_code().unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        html.contains(&format!("<div class=\"code\">{code}</div>")),
        "{html}"
    );
    assert!(
        html.contains("Keyless &lt;desktop&gt; &amp; &quot;co&quot;"),
        "the client is named, escaped: {html}"
    );
    assert!(!html.contains("<desktop>"));
    assert!(
        !html.contains("src=") && !html.contains("<link") && !html.contains("<script"),
        "self-contained: {html}"
    );
    assert_eq!(attr(&html, "<form", "method"), "post");
    let action = attr(&html, "<form", "action");
    assert_eq!(action, "/_lab/sso/device/approve");
    assert_eq!(attr(&html, "name=\"user_code\"", "value"), code);
    let deny_action = attr(&html, ">Allow</button>", "formaction");

    // Not allowed yet.
    let e = token(allowed.device_code().unwrap().into())
        .await
        .unwrap_err();
    assert!(e
        .as_service_error()
        .unwrap()
        .is_authorization_pending_exception());

    // "Allow", as the browser submits the form.
    let done = post_form(&lab, action, &format!("user_code={code}"));
    assert_eq!(done.status, 200, "{}", done.text());
    assert!(done.text().contains("You can close this tab"));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let tok = token(allowed.device_code().unwrap().into()).await.unwrap();
    assert!(tok.access_token().is_some_and(|t| !t.is_empty()));
    // Reloading the page now says it is done, and offers no form.
    let again = get(&lab, path).text();
    assert!(
        again.contains("approved") && !again.contains("<form"),
        "{again}"
    );

    // "Deny" on the other request: CreateToken answers AccessDenied, and it cannot be allowed later.
    let dcode = denied.user_code().unwrap();
    let no = post_form(&lab, deny_action, &format!("user_code={dcode}"));
    assert_eq!(no.status, 200, "{}", no.text());
    assert!(no.text().contains("denied"));
    let e = token(denied.device_code().unwrap().into())
        .await
        .unwrap_err();
    assert!(
        e.as_service_error().unwrap().is_access_denied_exception(),
        "{e:?}"
    );
    assert!(!lab.approve_sso(dcode));
    assert_eq!(
        post_form(&lab, action, &format!("user_code={dcode}")).status,
        409
    );

    // An unknown code, echoed back escaped.
    let bad = "<script>alert(1)</script>";
    let query: String = form_urlencoded::byte_serialize(bad.as_bytes()).collect();
    let page = get(&lab, &format!("/_lab/sso/device?user_code={query}"));
    assert_eq!(page.status, 404);
    assert!(page
        .text()
        .contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.text().contains(bad));
    let post = post_form(&lab, action, &format!("user_code={query}"));
    assert_eq!(post.status, 404);
    assert!(post.text().contains("Request not found") && !post.text().contains(bad));

    // Without a code: a form to type it in.
    let blank = get(&lab, "/_lab/sso/device");
    assert_eq!(blank.status, 200);
    assert!(blank.text().contains("<input name=\"user_code\""));
}
