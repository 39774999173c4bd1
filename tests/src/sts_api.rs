//! The one STS call a client makes against the lab endpoint: GetCallerIdentity (Query protocol).

use http::StatusCode;

use crate::ec2_xml::escape;
use crate::{ACCOUNT_ID, CALLER_ARN};

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

pub fn handle(params: &[(String, String)], request_id: &str) -> (StatusCode, String) {
    match params.iter().find(|(k, _)| k == "Action").map(|(_, v)| v.as_str()) {
        Some("GetCallerIdentity") => (
            StatusCode::OK,
            format!(
                "<GetCallerIdentityResponse xmlns=\"{XMLNS}\"><GetCallerIdentityResult><Arn>{CALLER_ARN}</Arn><UserId>AIDALABKEYLESS00000001</UserId><Account>{ACCOUNT_ID}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
            ),
        ),
        other => error(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            &format!("Could not find operation {} for version 2011-06-15", other.unwrap_or("")),
            request_id,
        ),
    }
}
