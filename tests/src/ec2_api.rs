//! EC2 Query API (2016-11-15): DescribeInstances and DescribeRegions, with AWS's validation
//! rules and error codes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::StatusCode;

use crate::catalogue::Instance;
use crate::core::Core;
use crate::ec2_filters::{self, matches_all};
use crate::ec2_xml;
use crate::identities::Caller;

type Reply = (StatusCode, String);

pub(crate) fn err(status: StatusCode, code: &str, message: &str, request_id: &str) -> Reply {
    (status, ec2_xml::error(code, message, request_id))
}

pub(crate) fn bad(code: &str, message: &str, request_id: &str) -> Reply {
    err(StatusCode::BAD_REQUEST, code, message, request_id)
}

pub(crate) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Answers one signed EC2 request of `caller` for `region`: each account sees its own instances.
pub fn handle(
    core: &Core,
    caller: &Caller,
    region: &str,
    params: &[(String, String)],
    request_id: &str,
) -> Reply {
    if !core.config.regions.iter().any(|r| r == region) {
        return err(
            StatusCode::UNAUTHORIZED,
            "OptInRequired",
            "You are not subscribed to this service. Please go to http://aws.amazon.com to subscribe.",
            request_id,
        );
    }
    match param(params, "Action") {
        Some("DescribeInstances") => describe_instances(core, caller, region, params, request_id),
        Some("DescribeInstanceConnectEndpoints") => {
            crate::eice_api::describe(core, caller, region, params, request_id)
        }
        Some("DescribeRegions") => (
            StatusCode::OK,
            ec2_xml::describe_regions(&core.config.regions, request_id),
        ),
        Some(other) => bad(
            "InvalidAction",
            &format!("The action {other} is not valid for this web service."),
            request_id,
        ),
        None => bad(
            "MissingAction",
            "The request must contain the parameter Action",
            request_id,
        ),
    }
}

/// `^i-[0-9a-f]{8}$` or `^i-[0-9a-f]{17}$`, what EC2 accepts as an instance id.
fn well_formed_id(id: &str) -> bool {
    id.strip_prefix("i-").is_some_and(|h| {
        (h.len() == 8 || h.len() == 17)
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Opaque to clients; tied to the region so a token cannot be replayed elsewhere.
fn encode_token(region: &str, offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("keyless-lab:{region}:{offset}"))
}

fn decode_token(token: &str, region: &str) -> Option<usize> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    let rest = raw
        .strip_prefix("keyless-lab:")?
        .strip_prefix(region)?
        .strip_prefix(':')?;
    rest.parse().ok()
}

fn describe_instances(
    core: &Core,
    caller: &Caller,
    region: &str,
    params: &[(String, String)],
    rid: &str,
) -> Reply {
    if core.state().policy.denied_regions.contains(region) {
        return err(
            StatusCode::FORBIDDEN,
            "UnauthorizedOperation",
            &format!(
                "You are not authorized to perform this operation. User: {} is not authorized to perform: \
                 ec2:DescribeInstances because no identity-based policy allows the ec2:DescribeInstances action",
                caller.arn
            ),
            rid,
        );
    }
    let ids = ec2_filters::numbered(params, "InstanceId");
    let max_results = match param(params, "MaxResults").map(str::parse::<usize>) {
        None => None,
        Some(Ok(n)) if (5..=1000).contains(&n) => Some(n),
        Some(Ok(n)) => {
            return bad(
                "InvalidParameterValue",
                &format!("Value ( {n} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000."),
                rid,
            )
        }
        Some(Err(_)) => return bad("InvalidParameterValue", "Invalid value for parameter maxResults", rid),
    };
    if !ids.is_empty() && max_results.is_some() {
        return bad(
            "InvalidParameterCombination",
            "The parameter instancesSet cannot be used with the parameter maxResults",
            rid,
        );
    }
    if let Some(bad_id) = ids.iter().find(|id| !well_formed_id(id)) {
        return bad(
            "InvalidInstanceID.Malformed",
            &format!("Invalid id: \"{bad_id}\""),
            rid,
        );
    }
    let filters = match ec2_filters::parse(params) {
        Ok(f) => f,
        Err(msg) => return bad("InvalidParameterValue", &msg, rid),
    };
    let offset = match param(params, "NextToken") {
        None | Some("") => 0,
        Some(t) => match decode_token(t, region) {
            Some(o) => o,
            None => {
                return bad(
                    "InvalidParameterValue",
                    &format!("Invalid value '{t}' for nextToken"),
                    rid,
                )
            }
        },
    };
    let dry_run = param(params, "DryRun").is_some_and(|v| v.eq_ignore_ascii_case("true"));

    let state = core.state();
    let in_region: Vec<&Instance> = state
        .instances
        .iter()
        .filter(|i| i.region == region && i.account == caller.account)
        .collect();
    let missing: Vec<&str> = ids
        .iter()
        .filter(|id| !in_region.iter().any(|i| &i.id == *id))
        .map(String::as_str)
        .collect();
    match missing.as_slice() {
        [] => {}
        [one] => {
            return bad(
                "InvalidInstanceID.NotFound",
                &format!("The instance ID '{one}' does not exist"),
                rid,
            )
        }
        many => {
            return bad(
                "InvalidInstanceID.NotFound",
                &format!("The instance IDs '{}' do not exist", many.join(", ")),
                rid,
            )
        }
    }
    if dry_run {
        return err(
            StatusCode::PRECONDITION_FAILED,
            "DryRunOperation",
            "Request would have succeeded, but DryRun flag is set.",
            rid,
        );
    }
    let selected: Vec<&Instance> = in_region
        .into_iter()
        .filter(|i| ids.is_empty() || ids.contains(&i.id))
        .filter(|i| matches_all(&filters, i))
        .collect();
    if offset > selected.len() {
        return bad("InvalidParameterValue", "Invalid value for nextToken", rid);
    }
    let page_size = if ids.is_empty() {
        max_results.unwrap_or(1000).min(core.config.max_page_size)
    } else {
        usize::MAX
    };
    let end = offset.saturating_add(page_size).min(selected.len());
    let next = (end < selected.len()).then(|| encode_token(region, end));
    (
        StatusCode::OK,
        ec2_xml::describe_instances(&selected[offset..end], next.as_deref(), rid),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_tokens() {
        assert!(well_formed_id("i-0123456789abcdef0"));
        assert!(well_formed_id("i-01234567"));
        assert!(!well_formed_id("i-0123456789ABCDEF0"));
        assert!(!well_formed_id("web"));
        let t = encode_token("us-east-1", 5);
        assert_eq!(decode_token(&t, "us-east-1"), Some(5));
        assert_eq!(decode_token(&t, "eu-west-1"), None);
        assert_eq!(decode_token("garbage!", "us-east-1"), None);
    }
}
