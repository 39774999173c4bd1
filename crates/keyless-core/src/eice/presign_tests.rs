//! The presigned URL checked against SigV4 recomputed here from the AWS documentation's algorithm
//! (canonical request → string to sign → HMAC-SHA256 key chain), with an HMAC of our own.

use super::*;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::UNIX_EPOCH;

const TOKEN: &str = "IQoJb3JpZ2luX2Vj/EXAMPLE+token==";

fn credentials(token: Option<&str>) -> Credentials {
    Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        token.map(str::to_owned),
        None,
        "test",
    )
}

/// 2026-11-30T12:00:00Z
fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_796_040_000)
}

fn endpoint() -> Endpoint {
    Endpoint {
        id: "eice-0123456789abcdef0".into(),
        vpc_id: "vpc-1".into(),
        subnet_id: None,
        dns_name:
            "eice-0123456789abcdef0.12345678.ec2-instance-connect-endpoint.eu-west-1.amazonaws.com"
                .into(),
        fips_dns_name: None,
        state: "create-complete".into(),
    }
}

fn query(max: Option<u64>) -> TunnelQuery<'static> {
    TunnelQuery {
        region: "eu-west-1",
        endpoint_id: "eice-0123456789abcdef0",
        address: "10.0.1.5".parse().unwrap(),
        remote_port: 22,
        max_duration: max.map(Duration::from_secs),
    }
}

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

fn aws_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

/// The decoded query of `path_and_query`; each name appears once.
fn params(path_and_query: &str) -> BTreeMap<String, String> {
    let (_, q) = path_and_query.split_once('?').unwrap();
    let mut out = BTreeMap::new();
    for pair in q.split('&') {
        let (k, v) = pair.split_once('=').unwrap();
        assert!(out.insert(decode(k), decode(v)).is_none(), "{k} twice");
    }
    out
}

/// The signature SigV4 gives this request, computed from the documented algorithm.
fn expected_signature(
    path: &str,
    params: &BTreeMap<String, String>,
    host: &str,
    secret: &str,
) -> String {
    let canonical_query = params
        .iter()
        .filter(|(k, _)| k.as_str() != "X-Amz-Signature")
        .map(|(k, v)| format!("{}={}", aws_encode(k), aws_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let empty_hash = hex::encode(Sha256::digest(b""));
    let canonical_request =
        format!("GET\n{path}\n{canonical_query}\nhost:{host}\n\nhost\n{empty_hash}");
    let date_time = &params["X-Amz-Date"];
    let date = &date_time[..8];
    let scope = format!("{date}/eu-west-1/ec2-instance-connect/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{date_time}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, b"eu-west-1");
    let k_service = hmac(&k_region, b"ec2-instance-connect");
    let k_signing = hmac(&k_service, b"aws4_request");
    hex::encode(hmac(&k_signing, string_to_sign.as_bytes()))
}

#[test]
fn the_hmac_of_this_test_is_rfc_4231s() {
    assert_eq!(
        hex::encode(hmac(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[test]
fn the_url_is_presigned_for_the_endpoints_host_with_the_token_signed() {
    let target = Target::of(&endpoint(), None).unwrap();
    assert!(target.tls);
    assert_eq!(target.port, 443);
    let path = presigned_path(
        &target,
        &query(Some(1800)),
        &credentials(Some(TOKEN)),
        now(),
    )
    .unwrap();
    assert!(path.starts_with("/openTunnel?instanceConnectEndpointId=eice-0123456789abcdef0&remotePort=22&privateIpAddress=10.0.1.5&maxTunnelDuration=1800&"), "{path}");
    let p = params(&path);
    assert_eq!(p["X-Amz-Algorithm"], "AWS4-HMAC-SHA256");
    assert_eq!(
        p["X-Amz-Credential"],
        "AKIDEXAMPLE/20261130/eu-west-1/ec2-instance-connect/aws4_request"
    );
    assert_eq!(p["X-Amz-Date"], "20261130T120000Z");
    assert_eq!(p["X-Amz-Expires"], "60");
    assert_eq!(p["X-Amz-SignedHeaders"], "host");
    assert_eq!(p["X-Amz-Security-Token"], TOKEN);
    let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    assert_eq!(
        p["X-Amz-Signature"],
        expected_signature("/openTunnel", &p, &endpoint().dns_name, secret)
    );
    // The token is part of what is signed: without it the signature would differ.
    let mut unsigned_token = p.clone();
    unsigned_token.remove("X-Amz-Security-Token");
    assert_ne!(
        p["X-Amz-Signature"],
        expected_signature("/openTunnel", &unsigned_token, &endpoint().dns_name, secret)
    );
}

#[test]
fn the_labs_override_is_signed_for_its_own_host_and_port() {
    let target = Target::of(&endpoint(), Some("ws://127.0.0.1:8443")).unwrap();
    assert_eq!(
        (target.tls, target.host.as_str(), target.port),
        (false, "127.0.0.1", 8443)
    );
    assert_eq!(target.host_header, "127.0.0.1:8443");
    let mut q = query(None);
    q.address = "fd00::5".parse().unwrap();
    let path = presigned_path(&target, &q, &credentials(None), now()).unwrap();
    let p = params(&path);
    assert_eq!(p["privateIpAddress"], "fd00::5");
    assert!(path.contains("privateIpAddress=fd00%3A%3A5"), "{path}");
    assert!(!p.contains_key("maxTunnelDuration"));
    assert!(
        !p.contains_key("X-Amz-Security-Token"),
        "no token, none sent"
    );
    assert_eq!(
        p["X-Amz-Signature"],
        expected_signature(
            "/openTunnel",
            &p,
            "127.0.0.1:8443",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        )
    );
}

#[test]
fn overrides_keep_their_path_and_drop_default_ports() {
    let t = Target::of(&endpoint(), Some("wss://lab.example/eice/")).unwrap();
    assert_eq!(
        (t.tls, t.port, t.host_header.as_str(), t.base_path.as_str()),
        (true, 443, "lab.example", "/eice")
    );
    let t = Target::of(&endpoint(), Some("ws://[::1]:9000")).unwrap();
    assert_eq!(
        (t.host.as_str(), t.host_header.as_str()),
        ("::1", "[::1]:9000")
    );
}

#[test]
fn only_ws_urls_override_and_a_dns_name_cannot_smuggle_a_scheme() {
    for bad in [
        "http://127.0.0.1:80",
        "127.0.0.1:80",
        "ws://u:p@127.0.0.1:1",
        "ws://127.0.0.1:1/?a=b",
    ] {
        let e = Target::of(&endpoint(), Some(bad)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput, "{bad}");
    }
    let mut e = endpoint();
    e.dns_name = "ws://127.0.0.1:80".into();
    assert_eq!(Target::of(&e, None).unwrap_err().kind, ErrorKind::Service);
}

#[test]
fn each_url_is_new_a_second_later() {
    let target = Target::of(&endpoint(), None).unwrap();
    let creds = credentials(Some(TOKEN));
    let a = presigned_path(&target, &query(None), &creds, now()).unwrap();
    let b = presigned_path(
        &target,
        &query(None),
        &creds,
        now() + Duration::from_secs(1),
    )
    .unwrap();
    assert_ne!(params(&a)["X-Amz-Signature"], params(&b)["X-Amz-Signature"]);
}
