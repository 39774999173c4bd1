//! STS (Query protocol): GetCallerIdentity (who signed: the static key, a role session, an SSO
//! role) and AssumeRole (with MFA for the `ops-mfa` role).

use http::StatusCode;

use crate::core::Core;
use crate::ec2_xml::escape;
use crate::identities::{Caller, MFA_CODE, MFA_SERIAL, OPS_MFA_ROLE_ARN, OPS_ROLE_ARN};
use crate::timefmt::iso8601;
use crate::ACCOUNT_ID;

const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

pub fn error(
    status: StatusCode,
    code: &str,
    message: &str,
    request_id: &str,
) -> (StatusCode, String) {
    (
        status,
        format!(
            "<ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
            escape(code),
            escape(message)
        ),
    )
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `caller_key`: the access key that signed the request (its identity is who is calling).
pub fn handle(
    core: &Core,
    caller_key: &str,
    params: &[(String, String)],
    request_id: &str,
) -> (StatusCode, String) {
    match param(params, "Action") {
        Some("GetCallerIdentity") => {
            let c = core.ids().caller(caller_key);
            (
                StatusCode::OK,
                format!(
                    "<GetCallerIdentityResponse xmlns=\"{XMLNS}\"><GetCallerIdentityResult><Arn>{}</Arn><UserId>{}</UserId><Account>{}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
                    escape(&c.arn),
                    escape(&c.user_id),
                    escape(&c.account)
                ),
            )
        }
        Some("AssumeRole") => assume_role(core, caller_key, params, request_id),
        other => error(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            &format!(
                "Could not find operation {} for version 2011-06-15",
                other.unwrap_or("")
            ),
            request_id,
        ),
    }
}

/// Roles `ops` and `ops-mfa` of the lab account; `ops-mfa` wants `SerialNumber` = the lab's MFA
/// device and `TokenCode` = [`MFA_CODE`].
fn assume_role(
    core: &Core,
    caller_key: &str,
    params: &[(String, String)],
    request_id: &str,
) -> (StatusCode, String) {
    let role_arn = param(params, "RoleArn").unwrap_or("");
    let session = param(params, "RoleSessionName").unwrap_or("");
    let caller = core.ids().caller(caller_key);
    let denied = |why: &str| {
        error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            &format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}{why}",
                caller.arn
            ),
            request_id,
        )
    };
    if session.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            "RoleSessionName is required",
            request_id,
        );
    }
    if role_arn != OPS_ROLE_ARN && role_arn != OPS_MFA_ROLE_ARN {
        return denied("");
    }
    let serial = param(params, "SerialNumber");
    let code = param(params, "TokenCode");
    if role_arn == OPS_MFA_ROLE_ARN {
        match (serial, code) {
            (Some(MFA_SERIAL), Some(MFA_CODE)) => {}
            (Some(MFA_SERIAL), Some(_)) => {
                return error(
                    StatusCode::FORBIDDEN,
                    "AccessDenied",
                    "MultiFactorAuthentication failed with invalid MFA one time pass code.",
                    request_id,
                )
            }
            _ => return denied(" (MFA required)"),
        }
    }
    let role_name = role_arn.rsplit('/').next().unwrap_or("");
    let role_id = format!("AROALAB{}", role_name.to_ascii_uppercase().replace('-', ""));
    let new_caller = Caller {
        arn: format!("arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role_name}/{session}"),
        user_id: format!("{role_id}:{session}"),
        account: ACCOUNT_ID.to_string(),
    };
    let (ak, c) = core.ids().issue(new_caller.clone());
    (
        StatusCode::OK,
        format!(
            "<AssumeRoleResponse xmlns=\"{XMLNS}\"><AssumeRoleResult><Credentials><AccessKeyId>{ak}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey><SessionToken>{}</SessionToken><Expiration>{}</Expiration></Credentials><AssumedRoleUser><Arn>{}</Arn><AssumedRoleId>{}</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></AssumeRoleResponse>",
            c.secret,
            c.session_token,
            iso8601(c.expires),
            escape(&new_caller.arn),
            escape(&new_caller.user_id)
        ),
    )
}
