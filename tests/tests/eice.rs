//! The EC2 Instance Connect Endpoint emulator against real sshd: DescribeInstanceConnectEndpoints
//! through aws-sdk-ec2, and `openTunnel` WebSockets presigned with the real `aws-sigv4` and
//! opened with tokio-tungstenite, as a client would.

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::Filter;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use futures::{SinkExt, StreamExt};
use keyless_lab::{
    Lab, LabEndpoint, LabOptions, TunnelOutcome, TunnelRecord, ACCESS_KEY_ID, CLOSE_BY_ENDPOINT,
    CLOSE_MAX_DURATION, CLOSE_UNREACHABLE, FAULT_TEXT, MAX_TUNNELS, PRIVATE_DB, SECRET_ACCESS_KEY,
};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How a test presigns: whose key, for which service and region, when, for how long.
struct Sign<'a> {
    access_key: &'a str,
    secret: &'a str,
    token: Option<&'a str>,
    service: &'a str,
    region: &'a str,
    time: SystemTime,
    expires: Duration,
}

fn lab_sign(region: &str) -> Sign<'_> {
    Sign {
        access_key: ACCESS_KEY_ID,
        secret: SECRET_ACCESS_KEY,
        token: None,
        service: "ec2-instance-connect",
        region,
        time: SystemTime::now(),
        expires: Duration::from_secs(60),
    }
}

/// `ws://…/openTunnel?<params>` presigned with aws-sigv4's query signing (host signed, empty
/// payload), as the AWS CLI's eicesigner does.
fn presign(lab: &Lab, params: &[(&str, &str)], s: &Sign) -> String {
    let base = lab.eice_url();
    let host = base.trim_start_matches("ws://").to_string();
    let query = common::form(params);
    let url = format!("http://{host}/openTunnel?{query}");
    let identity = Credentials::new(
        s.access_key,
        s.secret,
        s.token.map(str::to_string),
        None,
        "eice-test",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(s.expires);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(s.region)
        .name(s.service)
        .time(s.time)
        .settings(settings)
        .build()
        .expect("signing params")
        .into();
    let signable = SignableRequest::new(
        "GET",
        url,
        [("host", host.as_str())].into_iter(),
        SignableBody::Bytes(b""),
    )
    .expect("signable request");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    let (_, added) = instructions.into_parts();
    let mut signed = form_urlencoded::Serializer::new(query);
    for (k, v) in added {
        signed.append_pair(k, &v);
    }
    format!("{base}/openTunnel?{}", signed.finish())
}

fn main_endpoint(lab: &Lab) -> LabEndpoint {
    let region = &lab.regions()[0];
    lab.endpoints()
        .into_iter()
        .find(|e| e.account == keyless_lab::ACCOUNT_ID && &e.region == region)
        .expect("the main account's endpoint")
}

fn tunnel_params<'a>(endpoint: &'a str, ip: &'a str, port: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("instanceConnectEndpointId", endpoint),
        ("remotePort", port),
        ("privateIpAddress", ip),
    ]
}

async fn open(url: &str) -> Result<Ws, (u16, serde_json::Value)> {
    match tokio_tungstenite::connect_async(url).await {
        Ok((ws, _)) => Ok(ws),
        Err(WsError::Http(resp)) => {
            let body = resp.body().clone().unwrap_or_default();
            let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
            Err((resp.status().as_u16(), json))
        }
        Err(e) => panic!("openTunnel failed below HTTP: {e}"),
    }
}

async fn refused(url: &str) -> (u16, String, String) {
    match open(url).await {
        Ok(_) => panic!("the tunnel opened: {url}"),
        Err((status, json)) => (
            status,
            json["ErrorCode"].as_str().unwrap_or_default().to_string(),
            json["Message"].as_str().unwrap_or_default().to_string(),
        ),
    }
}

/// Reads binary frames until `want` shows up in what the instance sent.
async fn read_until(ws: &mut Ws, want: &str) -> String {
    let mut got = Vec::new();
    while !String::from_utf8_lossy(&got).contains(want) {
        match ws.next().await {
            Some(Ok(Message::Binary(b))) => got.extend_from_slice(&b),
            other => panic!("expected binary frames with {want:?}, got {other:?}"),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// The close frame the endpoint sends (binary frames before it are skipped).
async fn close_frame(ws: &mut Ws) -> Option<CloseFrame> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Close(f))) => return f,
            Some(Ok(Message::Binary(_))) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

fn last_tunnel(lab: &Lab) -> TunnelRecord {
    lab.tunnels().pop().expect("a tunnel record")
}

fn refused_with(t: &TunnelRecord, want_status: u16, want_code: &str) {
    assert_eq!(
        t.outcome,
        TunnelOutcome::Refused {
            status: want_status,
            code: want_code.to_string()
        },
        "{t:?}"
    );
}

/// Waits until the lab has logged the tunnel as closed (the relay records it after the close
/// handshake, which the client may see first).
async fn closed_record(lab: &Lab, index: usize) -> TunnelRecord {
    loop {
        let t = lab.tunnels()[index].clone();
        if t.closed_at.is_some() {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn describe_instance_connect_endpoints_through_the_sdk() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let ep = main_endpoint(&lab);
    let web = lab
        .instances()
        .into_iter()
        .find(|i| i.name.as_deref() == Some("web") && i.public_ip.is_some())
        .unwrap();
    let db = lab.instance_named(PRIVATE_DB);
    assert_eq!(db.vpc_id, web.vpc_id);
    assert_eq!(
        (ep.vpc_id.as_str(), ep.subnet_id.as_str()),
        (web.vpc_id.as_str(), web.subnet_id.as_str())
    );
    assert!(
        ep.id.starts_with("eice-0") && ep.id.len() == 22,
        "{}",
        ep.id
    );

    let client = common::sdk::ec2(&lab, "us-east-1", common::sdk::static_creds());
    let out = client
        .describe_instance_connect_endpoints()
        .filters(Filter::builder().name("vpc-id").values(&db.vpc_id).build())
        .send()
        .await
        .unwrap();
    let [got] = out.instance_connect_endpoints() else {
        panic!("{out:?}")
    };
    assert_eq!(got.instance_connect_endpoint_id(), Some(ep.id.as_str()));
    assert_eq!(got.owner_id(), Some(keyless_lab::ACCOUNT_ID));
    assert_eq!(got.state().map(|s| s.as_str()), Some("create-complete"));
    assert_eq!(got.subnet_id(), Some(web.subnet_id.as_str()));
    let dns = got.dns_name().unwrap();
    assert!(
        dns.starts_with(&format!("{}.", ep.id))
            && dns.ends_with(".ec2-instance-connect-endpoint.us-east-1.amazonaws.com"),
        "{dns}"
    );
    assert!(got
        .fips_dns_name()
        .unwrap()
        .contains(".fips.ec2-instance-connect-endpoint."));
    assert!(got.created_at().is_some());
    assert_eq!(got.network_interface_ids().len(), 1);
    assert!(got
        .instance_connect_endpoint_arn()
        .unwrap()
        .ends_with(&format!(
            ":123456789012:instance-connect-endpoint/{}",
            ep.id
        )));

    // The second region's VPC has none.
    let eu = common::sdk::ec2(&lab, "eu-west-1", common::sdk::static_creds());
    let none = eu
        .describe_instance_connect_endpoints()
        .send()
        .await
        .unwrap();
    assert!(none.instance_connect_endpoints().is_empty(), "{none:?}");

    for bad in [0, 51] {
        let e = client
            .describe_instance_connect_endpoints()
            .max_results(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some("InvalidParameterValue"), "{e:?}");
    }
    let e = client
        .describe_instance_connect_endpoints()
        .instance_connect_endpoint_ids("eice-0000000000000000f")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        Some("InvalidInstanceConnectEndpointId.NotFound"),
        "{e:?}"
    );

    lab.set_endpoint_not_ready(true);
    let out = client
        .describe_instance_connect_endpoints()
        .filters(
            Filter::builder()
                .name("state")
                .values("create-complete")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(out.instance_connect_endpoints().is_empty());
    let out = client
        .describe_instance_connect_endpoints()
        .instance_connect_endpoint_ids(&ep.id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.instance_connect_endpoints()[0]
            .state()
            .map(|s| s.as_str()),
        Some("create-in-progress")
    );
    let env = lab.env();
    assert!(env.contains(&("KEYLESS_EICE_ENDPOINT_URL".to_string(), lab.eice_url())));
}

#[tokio::test]
async fn a_tunnel_reaches_private_db_and_nothing_else_does() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let db = lab.instance_named(PRIVATE_DB);
    assert!(db.public_ip.is_none());
    let direct = TcpStream::connect(SocketAddr::from((db.private_ip, lab.ssh_port()))).await;
    assert_eq!(
        direct.map(|_| ()).unwrap_err().kind(),
        std::io::ErrorKind::ConnectionRefused
    );
    assert_eq!(lab.ssh_connections(&db.id), 0);

    let ep = main_endpoint(&lab);
    let ip = db.private_ip.to_string();
    let url = presign(
        &lab,
        &tunnel_params(&ep.id, &ip, "22"),
        &lab_sign("us-east-1"),
    );
    let mut ws = open(&url).await.expect("tunnel opens");
    let banner = read_until(&mut ws, "\r\n").await;
    assert!(banner.starts_with("SSH-2.0-OpenSSH"), "{banner:?}");
    ws.send(Message::Binary(b"SSH-2.0-lab-test\r\n".to_vec().into()))
        .await
        .unwrap();
    ws.close(None).await.unwrap();
    while ws.next().await.is_some() {}

    let t = closed_record(&lab, 0).await;
    assert_eq!(t.outcome, TunnelOutcome::Opened);
    assert_eq!(t.endpoint_id, ep.id);
    assert_eq!(t.account.as_deref(), Some(keyless_lab::ACCOUNT_ID));
    assert_eq!(t.instance_id.as_deref(), Some(db.id.as_str()));
    assert_eq!(
        (t.private_ip.as_str(), t.remote_port),
        (ip.as_str(), Some(22))
    );
    assert_eq!(t.max_duration_secs, Some(3600));
    assert_eq!(t.bytes_to_instance, 18);
    assert!(t.bytes_from_instance >= banner.len() as u64, "{t:?}");
    assert_eq!(t.closed_by.as_deref(), Some("client"));
    assert_eq!(lab.ssh_connections(&db.id), 1);
    assert_eq!(
        keyless_lab::control::fetch_tunnels(lab.http_addr()).unwrap(),
        lab.tunnels()
    );
    assert_eq!(
        keyless_lab::control::fetch_ssh_connections(lab.http_addr(), &db.id).unwrap(),
        1
    );

    // Another instance of the VPC: the tunnel goes to its private address.
    let web = lab.instance_named("db-primary");
    let ip = web.private_ip.to_string();
    let url = presign(
        &lab,
        &tunnel_params(&ep.id, &ip, "22"),
        &lab_sign("us-east-1"),
    );
    let mut ws = open(&url).await.expect("tunnel opens");
    read_until(&mut ws, "SSH-2.0-OpenSSH").await;
    assert_eq!(
        lab.tunnels()[1].instance_id.as_deref(),
        Some(web.id.as_str())
    );
}

#[tokio::test]
async fn the_presign_is_checked() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let ep = main_endpoint(&lab);
    let ip = lab.instance_named(PRIVATE_DB).private_ip.to_string();
    let params = tunnel_params(&ep.id, &ip, "22");

    let good = presign(&lab, &params, &lab_sign("us-east-1"));
    let tampered = format!(
        "{}0",
        good.trim_end_matches(|c: char| c.is_ascii_hexdigit())
    );
    let (status, code, msg) = refused(&tampered).await;
    assert_eq!(
        (status, code.as_str()),
        (403, "InvalidSignatureException"),
        "{msg}"
    );

    let expired = Sign {
        time: SystemTime::now() - Duration::from_secs(120),
        ..lab_sign("us-east-1")
    };
    let (status, code, msg) = refused(&presign(&lab, &params, &expired)).await;
    assert_eq!((status, code.as_str()), (403, "InvalidSignatureException"));
    assert!(msg.contains("expired"), "{msg}");

    let too_long = Sign {
        expires: Duration::from_secs(61),
        ..lab_sign("us-east-1")
    };
    let (_, code, msg) = refused(&presign(&lab, &params, &too_long)).await;
    assert_eq!(code, "InvalidSignatureException");
    assert!(msg.contains("between 1 and 60"), "{msg}");

    let wrong_service = Sign {
        service: "ec2",
        ..lab_sign("us-east-1")
    };
    let (_, _, msg) = refused(&presign(&lab, &params, &wrong_service)).await;
    assert!(msg.contains("'ec2-instance-connect'"), "{msg}");

    let stranger = Sign {
        access_key: "AKIAUNKNOWN000000000",
        ..lab_sign("us-east-1")
    };
    let (_, code, _) = refused(&presign(&lab, &params, &stranger)).await;
    assert_eq!(code, "UnrecognizedClientException");

    // The endpoint is the region's: signed for eu-west-1 it does not exist there.
    let (status, code, _) = refused(&presign(&lab, &params, &lab_sign("eu-west-1"))).await;
    assert_eq!(
        (status, code.as_str()),
        (404, "InvalidInstanceConnectEndpointId.NotFound")
    );

    let unsigned = format!("{}/openTunnel?{}", lab.eice_url(), common::form(&params));
    let (status, code, _) = refused(&unsigned).await;
    assert_eq!(
        (status, code.as_str()),
        (403, "MissingAuthenticationTokenException")
    );

    let log = lab.tunnels();
    assert_eq!(log.len(), 7);
    assert!(log
        .iter()
        .all(|t| matches!(t.outcome, TunnelOutcome::Refused { .. })));
    assert_eq!(log[0].account, None);
    assert_eq!(log[5].account.as_deref(), Some(keyless_lab::ACCOUNT_ID));
    assert_eq!(lab.ssh_connections(&lab.instance_named(PRIVATE_DB).id), 0);
}

#[tokio::test]
async fn issued_credentials_need_their_session_token() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let sts = common::sdk::sts(&lab, common::sdk::static_creds());
    let out = sts
        .assume_role()
        .role_arn(keyless_lab::OPS_ROLE_ARN)
        .role_session_name("eice")
        .send()
        .await
        .unwrap();
    let c = out.credentials().unwrap();
    let ep = main_endpoint(&lab);
    let ip = lab.instance_named(PRIVATE_DB).private_ip.to_string();
    let params = tunnel_params(&ep.id, &ip, "22");
    let issued = Sign {
        access_key: c.access_key_id(),
        secret: c.secret_access_key(),
        token: Some(c.session_token()),
        ..lab_sign("us-east-1")
    };
    let mut ws = open(&presign(&lab, &params, &issued)).await.expect("opens");
    read_until(&mut ws, "SSH-2.0-OpenSSH").await;
    let without = Sign {
        token: None,
        ..issued
    };
    let (_, code, _) = refused(&presign(&lab, &params, &without)).await;
    assert_eq!(code, "UnrecognizedClientException");
}

#[tokio::test]
async fn ports_addresses_and_durations_are_checked() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let ep = main_endpoint(&lab);
    let db = lab.instance_named(PRIVATE_DB);
    let ip = db.private_ip.to_string();
    let sign = || lab_sign("us-east-1");

    let (status, code, msg) =
        refused(&presign(&lab, &tunnel_params(&ep.id, &ip, "2222"), &sign())).await;
    assert_eq!((status, code.as_str()), (400, "InvalidParameter"));
    assert!(msg.contains("Specify either 22 or 3389"), "{msg}");
    assert_eq!(last_tunnel(&lab).remote_port, Some(2222));

    // 3389 is allowed; nothing listens there, so the endpoint closes with its reason.
    let mut ws = open(&presign(&lab, &tunnel_params(&ep.id, &ip, "3389"), &sign()))
        .await
        .expect("3389 opens");
    let f = close_frame(&mut ws).await.expect("a close frame");
    assert_eq!((u16::from(f.code), f.reason.as_str()), CLOSE_UNREACHABLE);

    for outside in [
        lab.instance_named("eu-web").private_ip,
        lab.instance_named(keyless_lab::STAGING_WEB).private_ip,
        Ipv4Addr::new(10, 0, 0, 1),
    ] {
        let o = outside.to_string();
        let (status, code, msg) =
            refused(&presign(&lab, &tunnel_params(&ep.id, &o, "22"), &sign())).await;
        assert_eq!((status, code.as_str()), (400, "InvalidParameter"), "{o}");
        assert!(msg.contains(&db.vpc_id) && msg.contains(&o), "{msg}");
    }
    for bad in ["0", "3601", "soon"] {
        let mut p = tunnel_params(&ep.id, &ip, "22");
        p.push(("maxTunnelDuration", bad));
        let (_, code, msg) = refused(&presign(&lab, &p, &sign())).await;
        assert_eq!(code, "InvalidParameter");
        assert!(msg.contains("MaxTunnelDuration"), "{msg}");
    }
    let (status, code, _) = refused(&presign(
        &lab,
        &tunnel_params("eice-0000000000000000f", &ip, "22"),
        &sign(),
    ))
    .await;
    assert_eq!(
        (status, code.as_str()),
        (404, "InvalidInstanceConnectEndpointId.NotFound")
    );
    let (_, code, msg) = refused(&presign(
        &lab,
        &[
            ("instanceConnectEndpointId", ep.id.as_str()),
            ("remotePort", "22"),
        ],
        &sign(),
    ))
    .await;
    assert_eq!(code, "InvalidParameter");
    assert!(msg.contains("privateIpAddress"), "{msg}");
}

#[tokio::test]
async fn max_tunnel_duration_closes_the_tunnel() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let ep = main_endpoint(&lab);
    let ip = lab.instance_named(PRIVATE_DB).private_ip.to_string();
    let mut p = tunnel_params(&ep.id, &ip, "22");
    p.push(("maxTunnelDuration", "2"));
    let mut ws = open(&presign(&lab, &p, &lab_sign("us-east-1")))
        .await
        .expect("opens");
    let f = close_frame(&mut ws).await.expect("a close frame");
    assert_eq!((u16::from(f.code), f.reason.as_str()), CLOSE_MAX_DURATION);
    let t = closed_record(&lab, 0).await;
    assert_eq!(t.max_duration_secs, Some(2));
    assert_eq!(t.close_code, Some(CLOSE_MAX_DURATION.0));
    assert_eq!(t.closed_by.as_deref(), Some("endpoint"));
    let lived = t.closed_at.unwrap().duration_since(t.opened_at).unwrap();
    assert!(lived >= Duration::from_secs(2), "{lived:?}");
}

#[tokio::test]
async fn fault_switches() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let ep = main_endpoint(&lab);
    let ip = lab.instance_named(PRIVATE_DB).private_ip.to_string();
    let url = || {
        presign(
            &lab,
            &tunnel_params(&ep.id, &ip, "22"),
            &lab_sign("us-east-1"),
        )
    };

    lab.deny_open_tunnel(true);
    let (status, code, msg) = refused(&url()).await;
    assert_eq!((status, code.as_str()), (403, "AccessDeniedException"));
    assert_eq!(
        msg,
        format!(
            "User: {} is not authorized to perform: ec2-instance-connect:OpenTunnel on resource: \
             arn:aws:ec2:us-east-1:123456789012:instance-connect-endpoint/{} because no \
             identity-based policy allows the ec2-instance-connect:OpenTunnel action",
            keyless_lab::CALLER_ARN,
            ep.id
        )
    );
    lab.deny_open_tunnel(false);

    keyless_lab::control::send_fault(
        lab.http_addr(),
        &keyless_lab::Fault::EndpointNotReady {
            switch: keyless_lab::Switch::On,
        },
    )
    .unwrap();
    let (status, code, msg) = refused(&url()).await;
    assert_eq!((status, code.as_str()), (409, "IncorrectState"));
    assert!(msg.contains("create-in-progress"), "{msg}");
    lab.set_endpoint_not_ready(false);

    lab.set_tunnel_cap_reached(true);
    let (status, code, msg) = refused(&url()).await;
    assert_eq!(
        (status, code.as_str()),
        (429, "ServiceQuotaExceededException")
    );
    assert!(msg.contains("limit of 20"), "{msg}");
    lab.set_tunnel_cap_reached(false);

    let mut a = open(&url()).await.expect("opens");
    let mut b = open(&url()).await.expect("opens");
    read_until(&mut a, "SSH-2.0").await;
    read_until(&mut b, "SSH-2.0").await;
    lab.close_open_tunnels().await;
    for ws in [&mut a, &mut b] {
        let f = close_frame(ws).await.expect("a close frame");
        assert_eq!((u16::from(f.code), f.reason.as_str()), CLOSE_BY_ENDPOINT);
    }

    let mut c = open(&url()).await.expect("opens");
    read_until(&mut c, "SSH-2.0").await;
    lab.send_text_on_open_tunnels().await;
    match c.next().await {
        Some(Ok(Message::Text(t))) => assert_eq!(t.as_str(), FAULT_TEXT),
        other => panic!("expected the text frame, got {other:?}"),
    }
    let f = close_frame(&mut c).await.expect("a close frame");
    assert_eq!(u16::from(f.code), CLOSE_BY_ENDPOINT.0);

    // A text frame from the client is an error too.
    let mut d = open(&url()).await.expect("opens");
    d.send(Message::Text("hello".into())).await.unwrap();
    let f = close_frame(&mut d).await.expect("a close frame");
    assert_eq!(u16::from(f.code), keyless_lab::CLOSE_TEXT_FROM_CLIENT.0);

    let log = lab.tunnels();
    refused_with(&log[0], 403, "AccessDeniedException");
    refused_with(&log[1], 409, "IncorrectState");
    refused_with(&log[2], 429, "ServiceQuotaExceededException");
    for i in [3, 4] {
        let t = closed_record(&lab, i).await;
        assert_eq!(t.close_code, Some(CLOSE_BY_ENDPOINT.0), "{t:?}");
    }
}

#[tokio::test]
async fn twenty_tunnels_per_endpoint() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let ep = main_endpoint(&lab);
    // Spread over the VPC's running instances, so no sshd sees more than a few unauthenticated
    // connections (MaxStartups would start dropping them).
    let targets: Vec<String> = lab
        .instances()
        .into_iter()
        .filter(|i| i.vpc_id == ep.vpc_id && i.state == "running")
        .map(|i| i.private_ip.to_string())
        .collect();
    assert!(targets.len() >= 7, "{targets:?}");
    let mut open_ones = Vec::new();
    for n in 0..MAX_TUNNELS {
        let ip = &targets[n % targets.len()];
        let url = presign(
            &lab,
            &tunnel_params(&ep.id, ip, "22"),
            &lab_sign("us-east-1"),
        );
        let mut ws = open(&url).await.expect("one of the first 20");
        read_until(&mut ws, "SSH-2.0").await;
        open_ones.push(ws);
    }
    assert_eq!(main_endpoint(&lab).open_tunnels, MAX_TUNNELS);
    let url = presign(
        &lab,
        &tunnel_params(&ep.id, &targets[0], "22"),
        &lab_sign("us-east-1"),
    );
    let (status, code, _) = refused(&url).await;
    assert_eq!(
        (status, code.as_str()),
        (429, "ServiceQuotaExceededException")
    );

    // One closes: there is room again.
    let mut first = open_ones.remove(0);
    first.close(None).await.unwrap();
    while first.next().await.is_some() {}
    closed_record(&lab, 0).await;
    let mut again = open(&url).await.expect("room for one more");
    read_until(&mut again, "SSH-2.0").await;
}
