//! EC2 `DescribeInstanceConnectEndpoints` (Query protocol): the caller's endpoints in the
//! request's region, with AWS's paging (`MaxResults` 1–50), ids and filters. The XML uses the
//! element names aws-sdk-ec2 reads (`shape_describe_instance_connect_endpoints.rs`,
//! `shape_ec2_instance_connect_endpoint.rs`).

use std::fmt::Write;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::StatusCode;

use crate::core::Core;
use crate::ec2_api::{bad, param};
use crate::ec2_filters::{self, Filter};
use crate::ec2_xml::escape;
use crate::eice_catalogue::Endpoint;
use crate::identities::Caller;
use crate::timefmt::iso8601;

const XMLNS: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";
const MAX_RESULTS: usize = 50;

fn known(name: &str) -> bool {
    matches!(
        name,
        "vpc-id" | "subnet-id" | "state" | "instance-connect-endpoint-id" | "tag-key"
    ) || name.strip_prefix("tag:").is_some_and(|k| !k.is_empty())
}

fn matches(f: &Filter, e: &Endpoint, state: &str) -> bool {
    let candidates: Vec<String> = match f.name.as_str() {
        "vpc-id" => vec![e.vpc_id.clone()],
        "subnet-id" => vec![e.subnet_id.clone()],
        "state" => vec![state.to_string()],
        "instance-connect-endpoint-id" => vec![e.id.clone()],
        "tag-key" => e.tags.iter().map(|(k, _)| k.clone()).collect(),
        name => ec2_filters::tag_values(&e.tags, name),
    };
    ec2_filters::any_matches(f, &candidates)
}

fn encode_token(region: &str, offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("keyless-lab-eice:{region}:{offset}"))
}

fn decode_token(token: &str, region: &str) -> Option<usize> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    raw.strip_prefix("keyless-lab-eice:")?
        .strip_prefix(region)?
        .strip_prefix(':')?
        .parse()
        .ok()
}

fn well_formed_id(id: &str) -> bool {
    id.strip_prefix("eice-").is_some_and(|h| {
        h.len() == 17
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

pub fn describe(
    core: &Core,
    caller: &Caller,
    region: &str,
    params: &[(String, String)],
    rid: &str,
) -> (StatusCode, String) {
    let page_size = match param(params, "MaxResults").map(str::parse::<usize>) {
        None => MAX_RESULTS,
        Some(Ok(n)) if (1..=MAX_RESULTS).contains(&n) => n,
        Some(_) => {
            return bad(
                "InvalidParameterValue",
                &format!(
                    "Value ( {} ) for parameter maxResults is invalid. Expecting a value between 1 and {MAX_RESULTS}.",
                    param(params, "MaxResults").unwrap_or_default()
                ),
                rid,
            )
        }
    };
    let ids = ec2_filters::numbered(params, "InstanceConnectEndpointId");
    if let Some(bad_id) = ids.iter().find(|id| !well_formed_id(id)) {
        return bad(
            "InvalidInstanceConnectEndpointId.Malformed",
            &format!("Invalid id: \"{bad_id}\""),
            rid,
        );
    }
    let filters = match ec2_filters::parse_with(params, known) {
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
    let st = core.state();
    let state = st.endpoint_state();
    let mine: Vec<&Endpoint> = st
        .endpoints
        .iter()
        .filter(|e| e.region == region && e.account == caller.account)
        .collect();
    if let Some(missing) = ids.iter().find(|id| !mine.iter().any(|e| &e.id == *id)) {
        return bad(
            "InvalidInstanceConnectEndpointId.NotFound",
            &format!("The instance connect endpoint ID '{missing}' does not exist"),
            rid,
        );
    }
    let selected: Vec<&Endpoint> = mine
        .into_iter()
        .filter(|e| ids.is_empty() || ids.contains(&e.id))
        .filter(|e| filters.iter().all(|f| matches(f, e, state)))
        .collect();
    if offset > selected.len() {
        return bad("InvalidParameterValue", "Invalid value for nextToken", rid);
    }
    let end = offset.saturating_add(page_size).min(selected.len());
    let next = (end < selected.len()).then(|| encode_token(region, end));
    (
        StatusCode::OK,
        xml(&selected[offset..end], state, next.as_deref(), rid),
    )
}

fn xml(endpoints: &[&Endpoint], state: &str, next: Option<&str>, rid: &str) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeInstanceConnectEndpointsResponse xmlns=\"{XMLNS}\"><requestId>{rid}</requestId><instanceConnectEndpointSet>"
    );
    let el = |out: &mut String, name: &str, value: &str| {
        let _ = write!(out, "<{name}>{}</{name}>", escape(value));
    };
    for e in endpoints {
        out.push_str("<item>");
        el(&mut out, "ownerId", e.account);
        el(&mut out, "instanceConnectEndpointId", &e.id);
        el(&mut out, "instanceConnectEndpointArn", &e.arn());
        el(&mut out, "state", state);
        el(&mut out, "stateMessage", "");
        el(&mut out, "dnsName", &e.dns_name());
        el(&mut out, "fipsDnsName", &e.fips_dns_name());
        out.push_str("<networkInterfaceIdSet>");
        el(&mut out, "item", &e.network_interface_id);
        out.push_str("</networkInterfaceIdSet>");
        el(&mut out, "vpcId", &e.vpc_id);
        el(&mut out, "availabilityZone", &e.az);
        el(&mut out, "createdAt", &iso8601(e.created_at));
        el(&mut out, "subnetId", &e.subnet_id);
        el(&mut out, "preserveClientIp", "false");
        out.push_str("<securityGroupIdSet>");
        el(&mut out, "item", &e.security_group_id);
        out.push_str("</securityGroupIdSet>");
        if !e.tags.is_empty() {
            out.push_str("<tagSet>");
            for (k, v) in &e.tags {
                out.push_str("<item>");
                el(&mut out, "key", k);
                el(&mut out, "value", v);
                out.push_str("</item>");
            }
            out.push_str("</tagSet>");
        }
        out.push_str("</item>");
    }
    out.push_str("</instanceConnectEndpointSet>");
    if let Some(t) = next {
        el(&mut out, "nextToken", t);
    }
    out.push_str("</DescribeInstanceConnectEndpointsResponse>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_tokens() {
        assert!(well_formed_id("eice-0123456789abcdef0"));
        assert!(!well_formed_id("eice-0123"));
        assert!(!well_formed_id("i-0123456789abcdef0"));
        let t = encode_token("us-east-1", 3);
        assert_eq!(decode_token(&t, "us-east-1"), Some(3));
        assert_eq!(decode_token(&t, "eu-west-1"), None);
    }
}
