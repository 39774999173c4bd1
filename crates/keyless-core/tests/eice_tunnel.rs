//! The EICE tunnel client against real sockets on loopback: a tokio-tungstenite server standing in
//! for the endpoint (reached through the lab's `ws://` override), raw HTTP servers for refused
//! upgrades, an HTTP CONNECT proxy written here, and an endpoint that never answers.

use futures::{SinkExt, StreamExt};
use keyless_core::eice::{
    open_tunnel, Endpoint, ProxySettings, Tunnel, TunnelRequest, TunnelSettings, MAX_FRAME,
};
use keyless_core::{AwsContext, AwsSelection, Error, ErrorKind};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

const LIMIT: Duration = Duration::from_secs(10);
const MB: usize = 1024 * 1024;

async fn aws() -> AwsContext {
    let creds = aws_credential_types::Credentials::new(
        "AKIDTEST",
        "secret",
        Some("token".into()),
        None,
        "test",
    );
    let selection = AwsSelection {
        profile: None,
        region: Some("eu-west-1".into()),
        endpoint_url: None,
    };
    AwsContext::with_credentials(&selection, creds)
        .await
        .unwrap()
}

fn endpoint() -> Endpoint {
    Endpoint {
        id: "eice-0testtesttest0".into(),
        vpc_id: "vpc-1".into(),
        subnet_id: None,
        dns_name: "eice-0testtesttest0.ec2-instance-connect-endpoint.eu-west-1.amazonaws.com"
            .into(),
        fips_dns_name: None,
        state: "create-complete".into(),
    }
}

async fn open(port: u16, proxy: ProxySettings) -> keyless_core::Result<Tunnel> {
    let endpoint = endpoint();
    let req = TunnelRequest {
        region: "eu-west-1",
        endpoint: &endpoint,
        address: "10.0.1.5".parse().unwrap(),
        remote_port: 22,
        max_duration: None,
    };
    let settings = TunnelSettings::direct()
        .with_endpoint_url(format!("ws://127.0.0.1:{port}"))
        .with_proxy(proxy);
    open_tunnel(&aws().await, &req, &settings, LIMIT).await
}

/// What the endpoint saw of the upgrade request.
#[derive(Debug, Clone, Default)]
struct Seen {
    uri: String,
    host: String,
}

/// A WebSocket endpoint for one tunnel, running `serve` on it; its task returns what it saw and
/// what `serve` returned.
async fn endpoint_server<F, Fut, T>(serve: F) -> (u16, tokio::task::JoinHandle<(Seen, T)>)
where
    F: FnOnce(WebSocketStream<TcpStream>) -> Fut + Send + 'static,
    Fut: Future<Output = T> + Send,
    T: Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let record = seen.clone();
        // tungstenite's callback type, not ours: its error is an HTTP response.
        #[allow(clippy::result_large_err)]
        let ws = tokio_tungstenite::accept_hdr_async(tcp, move |req: &Request, resp: Response| {
            let mut s = record.lock().unwrap();
            s.uri = req.uri().to_string();
            s.host = req.headers()["host"].to_str().unwrap().to_owned();
            Ok(resp)
        })
        .await
        .unwrap();
        let out = serve(ws).await;
        let seen = seen.lock().unwrap().clone();
        (seen, out)
    });
    (port, task)
}

fn random(n: usize) -> Vec<u8> {
    (0..n).map(|_| rand::random::<u8>()).collect()
}

fn keyless_error(e: &std::io::Error) -> Error {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<Error>())
        .unwrap_or_else(|| panic!("not a Keyless error inside: {e}"))
        .clone()
}

#[tokio::test]
async fn a_megabyte_each_way_arrives_exactly_in_frames_of_at_most_65000_bytes() {
    let from_server = random(MB);
    let expected_from_server = from_server.clone();
    let (port, server) = endpoint_server(move |ws| async move {
        let (mut sink, mut stream) = ws.split();
        let reading = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut largest = 0;
            while got.len() < MB {
                match stream.next().await.unwrap().unwrap() {
                    Message::Binary(b) => {
                        largest = largest.max(b.len());
                        got.extend_from_slice(&b);
                    }
                    Message::Text(_) => panic!("the client sent a text frame"),
                    _ => {}
                }
            }
            (got, largest)
        });
        // Frames of uneven sizes, some larger than the client's.
        let mut rest = &from_server[..];
        let mut size = 1;
        while !rest.is_empty() {
            let n = size.min(rest.len());
            sink.send(Message::Binary(rest[..n].to_vec().into()))
                .await
                .unwrap();
            rest = &rest[n..];
            size = (size * 7 + 13) % 150_000 + 1;
        }
        let received = reading.await.unwrap();
        sink.send(Message::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        })))
        .await
        .unwrap();
        received
    })
    .await;

    let tunnel = open(port, ProxySettings::none()).await.unwrap();
    assert_eq!(tunnel.endpoint_id(), "eice-0testtesttest0");
    let end = tunnel.end();
    let (mut reader, mut writer) = tokio::io::split(tunnel);
    let to_server = random(MB);
    let sent = to_server.clone();
    let writing = tokio::spawn(async move {
        // Writes larger than a frame, and small ones.
        for chunk in sent.chunks(200_000) {
            let (big, small) = chunk.split_at(chunk.len() - 10);
            writer.write_all(big).await.unwrap();
            writer.write_all(small).await.unwrap();
        }
        writer.flush().await.unwrap();
        writer
    });
    let mut got = Vec::new();
    reader.read_to_end(&mut got).await.unwrap();
    let _writer = writing.await.unwrap();
    assert!(
        got == expected_from_server,
        "the server's bytes arrived changed ({} bytes)",
        got.len()
    );

    let (seen, (received, largest)) = server.await.unwrap();
    assert!(received == to_server, "the client's bytes arrived changed");
    assert_eq!(
        largest, MAX_FRAME,
        "writes are cut into frames of at most 65,000 bytes"
    );
    assert!(end.has_ended());
    assert_eq!(end.reason(), None, "close 1000 is a clean end");

    // The request carried the presigned query and was signed for the override's host.
    assert_eq!(seen.host, format!("127.0.0.1:{port}"));
    assert!(seen.uri.starts_with("/openTunnel?instanceConnectEndpointId=eice-0testtesttest0&remotePort=22&privateIpAddress=10.0.1.5&"), "{}", seen.uri);
    for part in [
        "X-Amz-Expires=60",
        "X-Amz-SignedHeaders=host",
        "X-Amz-Security-Token=token",
        "X-Amz-Signature=",
    ] {
        assert!(seen.uri.contains(part), "{part} in {}", seen.uri);
    }
}

#[tokio::test]
async fn a_text_frame_ends_the_tunnel_with_its_text_escaped() {
    let (port, server) = endpoint_server(|mut ws| async move {
        ws.send(Message::Binary(b"hello".to_vec().into()))
            .await
            .unwrap();
        ws.send(Message::text("tunnel quota \x1b[31mexceeded"))
            .await
            .unwrap();
        // Keep the connection until the client is done with it.
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    let mut tunnel = open(port, ProxySettings::none()).await.unwrap();
    let mut hello = [0u8; 5];
    tunnel.read_exact(&mut hello).await.unwrap();
    assert_eq!(
        &hello, b"hello",
        "bytes before the text frame are delivered"
    );
    let e = keyless_error(&tunnel.read(&mut [0u8; 16]).await.unwrap_err());
    assert_eq!(e.kind, ErrorKind::TunnelClosed);
    assert!(
        e.message.contains("tunnel quota \\x1b[31mexceeded"),
        "{}",
        e.message
    );
    let reason = tunnel.end().reason().unwrap();
    assert_eq!(reason, e);
    // It stays failed.
    assert_eq!(
        keyless_error(&tunnel.read(&mut [0u8; 16]).await.unwrap_err()),
        e
    );
    drop(tunnel);
    server.await.unwrap();
}

#[tokio::test]
async fn a_close_code_other_than_1000_names_the_code_and_reason() {
    let (port, server) = endpoint_server(|mut ws| async move {
        let frame = CloseFrame {
            code: CloseCode::Error,
            reason: "backend gone".into(),
        };
        ws.send(Message::Close(Some(frame))).await.unwrap();
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    let mut tunnel = open(port, ProxySettings::none()).await.unwrap();
    let e = keyless_error(&tunnel.read(&mut [0u8; 16]).await.unwrap_err());
    assert_eq!(e.kind, ErrorKind::TunnelClosed);
    assert!(
        e.message.contains("code 1011: backend gone"),
        "{}",
        e.message
    );
    assert_eq!(tunnel.end().reason(), Some(e));
    drop(tunnel);
    server.await.unwrap();
}

#[tokio::test]
async fn pings_are_answered_and_shutdown_sends_close_1000() {
    let (port, server) = endpoint_server(|mut ws| async move {
        ws.send(Message::Ping(b"are you there".to_vec().into()))
            .await
            .unwrap();
        let pong = loop {
            match ws.next().await.unwrap().unwrap() {
                Message::Pong(p) => break p,
                Message::Binary(_) => panic!("no data expected before the pong"),
                _ => {}
            }
        };
        ws.send(Message::Binary(b"after the pong".to_vec().into()))
            .await
            .unwrap();
        let close = loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => break frame,
                Some(Ok(_)) => {}
                other => panic!("expected a close frame, got {other:?}"),
            }
        };
        (pong, close)
    })
    .await;
    let mut tunnel = open(port, ProxySettings::none()).await.unwrap();
    let mut buf = [0u8; 14];
    tunnel.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"after the pong");
    tunnel.shutdown().await.unwrap();
    let (_, (pong, close)) = server.await.unwrap();
    assert_eq!(&pong[..], b"are you there");
    assert_eq!(close.map(|f| f.code), Some(CloseCode::Normal));
}

/// An endpoint that refuses the upgrade with `status` and `body`, the body sent after the head.
async fn refusing_endpoint(status: u16, body: &'static str, chunked: bool) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        read_request_head(&mut tcp).await;
        let framing = if chunked {
            "Transfer-Encoding: chunked".to_owned()
        } else {
            format!("Content-Length: {}", body.len())
        };
        let head = format!(
            "HTTP/1.1 {status} Refused\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        tcp.flush().await.unwrap();
        let body = if chunked {
            let (a, b) = body.split_at(body.len() / 2);
            format!("{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n", a.len(), b.len())
        } else {
            body.to_owned()
        };
        tcp.write_all(body.as_bytes()).await.unwrap();
        // Keep-alive: the connection stays open, as a real server's would.
        let _ = tcp.read(&mut [0u8; 1]).await;
    });
    port
}

async fn read_request_head(tcp: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            tcp.read(&mut byte).await.unwrap(),
            1,
            "the request ended early"
        );
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

#[tokio::test]
async fn refused_upgrades_become_typed_errors_with_hints() {
    let cases: [(u16, &str, bool, ErrorKind, &[&str]); 7] = [
        (
            403,
            r#"{"ErrorCode":"AccessDenied","Message":"User is not authorized to perform: ec2-instance-connect:OpenTunnel"}"#,
            false,
            ErrorKind::TunnelDenied,
            &[
                "ec2-instance-connect:OpenTunnel",
                "remotePort",
                "privateIpAddress",
                "maxTunnelDuration",
                "instance-connect-endpoint/eice-0testtesttest0",
            ],
        ),
        (
            400,
            r#"{"ErrorCode":"InvalidParameter","Message":"Invalid remote port. Specify either 22 or 3389."}"#,
            true,
            ErrorKind::TunnelRefused,
            &["22 and 3389"],
        ),
        (
            429,
            r#"{"ErrorCode":"TooManyRequests","Message":"Maximum number of connections reached"}"#,
            false,
            ErrorKind::TunnelLimit,
            &["20 concurrent connections"],
        ),
        (
            400,
            r#"{"ErrorCode":"ConnectionLimitExceeded","Message":"limit reached"}"#,
            false,
            ErrorKind::TunnelLimit,
            &["shared by everyone"],
        ),
        (
            404,
            r#"{"ErrorCode":"InvalidInstanceConnectEndpointId.NotFound","Message":"gone"}"#,
            false,
            ErrorKind::NoEndpoint,
            &[],
        ),
        (
            401,
            r#"{"ErrorCode":"SignatureDoesNotMatch","Message":"The request signature we calculated does not match"}"#,
            false,
            ErrorKind::Credentials,
            &["clock"],
        ),
        (503, "", false, ErrorKind::Service, &[]),
    ];
    for (status, body, chunked, kind, hint_words) in cases {
        let port = refusing_endpoint(status, body, chunked).await;
        let e = match open(port, ProxySettings::none()).await {
            Ok(_) => panic!("HTTP {status} opened a tunnel"),
            Err(e) => e,
        };
        assert_eq!(e.kind, kind, "HTTP {status} {body}: {e:?}");
        if let Some(code) = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["ErrorCode"].as_str().map(str::to_owned))
        {
            assert!(
                e.message.contains(&code),
                "the code is named: {}",
                e.message
            );
        }
        let hint = e.hint.clone().unwrap_or_default();
        for word in hint_words {
            assert!(
                hint.contains(word),
                "{word} in the hint of HTTP {status}: {hint}"
            );
        }
    }
}

/// An HTTP CONNECT proxy that records each request head and answers `status`; on 200 it relays.
async fn proxy(status: u16) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let record = heads.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            let head = read_request_head(&mut client).await;
            record.lock().unwrap().push(head.clone());
            if status != 200 {
                let answer = format!("HTTP/1.1 {status} No\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n");
                client.write_all(answer.as_bytes()).await.unwrap();
                continue;
            }
            let target = head.split(' ').nth(1).unwrap().to_owned();
            tokio::spawn(async move {
                let mut upstream = TcpStream::connect(target).await.unwrap();
                client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .unwrap();
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (port, heads)
}

async fn echo_once(mut ws: WebSocketStream<TcpStream>) {
    if let Some(Ok(Message::Binary(b))) = ws.next().await {
        ws.send(Message::Binary(b)).await.unwrap();
    }
    let _ = ws.close(None).await;
}

async fn round_trip(tunnel: &mut Tunnel) {
    tunnel.write_all(b"SSH-2.0-probe\r\n").await.unwrap();
    tunnel.flush().await.unwrap();
    let mut back = [0u8; 15];
    tunnel.read_exact(&mut back).await.unwrap();
    assert_eq!(&back, b"SSH-2.0-probe\r\n");
}

#[tokio::test]
async fn the_proxy_is_asked_to_connect_with_basic_auth() {
    let (port, server) = endpoint_server(echo_once).await;
    let (proxy_port, heads) = proxy(200).await;
    let settings =
        ProxySettings::via(&format!("http://alice:pa%20ss@127.0.0.1:{proxy_port}")).unwrap();
    let mut tunnel = open(port, settings).await.unwrap();
    round_trip(&mut tunnel).await;
    drop(tunnel);
    server.await.unwrap();
    let heads = heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 1);
    let mut lines = heads[0].lines();
    assert_eq!(
        lines.next(),
        Some(format!("CONNECT 127.0.0.1:{port} HTTP/1.1").as_str())
    );
    use base64::Engine;
    let auth = format!(
        "Proxy-Authorization: Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice:pa ss")
    );
    assert!(heads[0].lines().any(|l| l == auth), "{}", heads[0]);
}

#[tokio::test]
async fn no_proxy_hosts_go_around_the_proxy() {
    let (port, server) = endpoint_server(echo_once).await;
    // A proxy that refuses everything: a tunnel that used it would fail.
    let (proxy_port, heads) = proxy(403).await;
    let settings = ProxySettings::via(&format!("http://127.0.0.1:{proxy_port}"))
        .unwrap()
        .with_no_proxy("example.com, 127.0.0.0/8");
    let mut tunnel = open(port, settings).await.unwrap();
    round_trip(&mut tunnel).await;
    drop(tunnel);
    server.await.unwrap();
    assert!(heads.lock().unwrap().is_empty(), "the proxy was not asked");
}

#[tokio::test]
async fn a_proxy_that_refuses_is_named_without_its_credentials() {
    let (proxy_port, heads) = proxy(407).await;
    let settings =
        ProxySettings::via(&format!("http://bob:hunter2@127.0.0.1:{proxy_port}")).unwrap();
    // Nothing listens behind the proxy: it refuses before that matters.
    let e = match open(9, settings).await {
        Ok(_) => panic!("a refusing proxy opened a tunnel"),
        Err(e) => e,
    };
    assert_eq!(e.kind, ErrorKind::Network);
    assert!(
        e.message.contains(&format!("127.0.0.1:{proxy_port}")),
        "{}",
        e.message
    );
    assert!(e.message.contains("407"), "{}", e.message);
    assert!(!format!("{e:?}").contains("hunter2"));
    assert_eq!(heads.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn an_endpoint_that_never_answers_the_upgrade_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (accepted_tx, accepted) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        read_request_head(&mut tcp).await;
        let _ = accepted_tx.send(());
        // Hold the connection, say nothing.
        let _ = tcp.read(&mut [0u8; 1]).await;
    });
    let endpoint = endpoint();
    let req = TunnelRequest {
        region: "eu-west-1",
        endpoint: &endpoint,
        address: "10.0.1.5".parse().unwrap(),
        remote_port: 22,
        max_duration: Some(Duration::from_secs(900)),
    };
    let settings = TunnelSettings::direct().with_endpoint_url(format!("ws://127.0.0.1:{port}"));
    let e = match open_tunnel(&aws().await, &req, &settings, Duration::from_millis(300)).await {
        Ok(_) => panic!("a silent endpoint opened a tunnel"),
        Err(e) => e,
    };
    accepted.await.expect("the request reached the endpoint");
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert!(
        e.message
            .contains("opening the EICE tunnel through eice-0testtesttest0"),
        "{}",
        e.message
    );
    assert!(e.message.contains("10.0.1.5:22"), "{}", e.message);
}

// --- Finding the endpoint: DescribeInstanceConnectEndpoints against a stand-in EC2 API on loopback.

/// The EC2 query API's answer for one page of endpoints `(id, vpc, subnet, state)`.
fn endpoints_page(items: &[(&str, &str, &str, &str)], next: Option<&str>) -> String {
    let items: String = items
        .iter()
        .map(|(id, vpc, subnet, state)| {
            format!(
                "<item><instanceConnectEndpointId>{id}</instanceConnectEndpointId>\
                 <state>{state}</state><dnsName>{id}.eice.example</dnsName>\
                 <vpcId>{vpc}</vpcId><subnetId>{subnet}</subnetId></item>"
            )
        })
        .collect();
    let next = next
        .map(|t| format!("<nextToken>{t}</nextToken>"))
        .unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <DescribeInstanceConnectEndpointsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\
         <requestId>r-1</requestId><instanceConnectEndpointSet>{items}</instanceConnectEndpointSet>{next}\
         </DescribeInstanceConnectEndpointsResponse>"
    )
}

/// A stand-in EC2 API that answers DescribeInstanceConnectEndpoints per VPC and records each
/// request's form fields.
async fn ec2_api() -> (
    String,
    Arc<Mutex<Vec<std::collections::HashMap<String, String>>>>,
) {
    use axum::http::StatusCode;
    let calls: Arc<Mutex<Vec<std::collections::HashMap<String, String>>>> = Default::default();
    let record = calls.clone();
    let app = axum::Router::new().route(
        "/",
        axum::routing::post(move |body: String| {
            let record = record.clone();
            async move {
                let form: std::collections::HashMap<String, String> =
                    url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
                record.lock().unwrap().push(form.clone());
                let vpc = form.get("Filter.1.Value.1").cloned().unwrap_or_default();
                let next = form.get("NextToken").map(String::as_str);
                let xml = match (vpc.as_str(), next) {
                    ("vpc-a", None) => endpoints_page(&[("eice-a1", "vpc-a", "subnet-x", "create-complete")], Some("page-2")),
                    ("vpc-a", Some("page-2")) => endpoints_page(&[("eice-a2", "vpc-a", "subnet-y", "update-complete")], None),
                    ("vpc-creating", _) => endpoints_page(&[("eice-c", "vpc-creating", "subnet-c", "create-in-progress")], None),
                    ("vpc-denied", _) => {
                        let error = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error>\
                            <Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message>\
                            </Error></Errors><RequestID>r-2</RequestID></Response>";
                        return (StatusCode::FORBIDDEN, error.to_owned());
                    }
                    _ => endpoints_page(&[], None),
                };
                (StatusCode::OK, xml)
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, calls)
}

async fn aws_at(endpoint_url: &str) -> AwsContext {
    let creds = aws_credential_types::Credentials::new("AKIDTEST", "secret", None, None, "test");
    let selection = AwsSelection {
        profile: None,
        region: Some("eu-west-1".into()),
        endpoint_url: Some(endpoint_url.into()),
    };
    AwsContext::with_credentials(&selection, creds)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_endpoint_is_found_across_pages_in_the_instances_subnet_and_asked_once() {
    use keyless_core::eice::endpoint_for;
    let (url, calls) = ec2_api().await;
    let aws = aws_at(&url).await;
    let e = endpoint_for(&aws, "eu-west-1", "vpc-a", Some("subnet-y"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (e.id.as_str(), e.state.as_str()),
        ("eice-a2", "update-complete")
    );
    assert_eq!(e.dns_name, "eice-a2.eice.example");
    {
        let calls = calls.lock().unwrap();
        assert_eq!(calls.len(), 2, "two pages");
        assert_eq!(calls[0]["Action"], "DescribeInstanceConnectEndpoints");
        assert_eq!(calls[0]["Filter.1.Name"], "vpc-id");
        assert_eq!(calls[0]["MaxResults"], "50");
        assert_eq!(calls[1]["NextToken"], "page-2");
    }
    // A clone of the context shares the answer; another subnet picks from the same answer.
    let again = endpoint_for(&aws.clone(), "eu-west-1", "vpc-a", Some("subnet-x"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.id, "eice-a1");
    assert_eq!(
        endpoint_for(&aws, "eu-west-1", "vpc-none", None)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        endpoint_for(&aws, "eu-west-1", "vpc-none", None)
            .await
            .unwrap(),
        None
    );
    assert_eq!(calls.lock().unwrap().len(), 3, "each VPC is asked once");
}

#[tokio::test]
async fn an_endpoint_not_ready_is_an_error_asked_again_and_a_denial_names_the_permission() {
    use keyless_core::eice::endpoint_for;
    let (url, calls) = ec2_api().await;
    let aws = aws_at(&url).await;
    for _ in 0..2 {
        let e = endpoint_for(&aws, "eu-west-1", "vpc-creating", None)
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::EndpointNotReady);
        assert!(
            e.message.contains("eice-c") && e.message.contains("create-in-progress"),
            "{}",
            e.message
        );
    }
    assert_eq!(
        calls.lock().unwrap().len(),
        2,
        "not cached until it is ready"
    );
    let e = endpoint_for(&aws, "eu-west-1", "vpc-denied", None)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::AccessDenied);
    assert!(e
        .hint
        .unwrap()
        .contains("ec2:DescribeInstanceConnectEndpoints"));
}

#[tokio::test]
async fn an_end_at_the_maximum_duration_says_so() {
    const MAX: Duration = Duration::from_secs(2);
    // Like AWS: the endpoint closes the tunnel (cleanly) when its maximum duration has passed.
    let (port, server) = endpoint_server(|mut ws| async move {
        tokio::time::sleep(MAX).await;
        let frame = CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        };
        ws.send(Message::Close(Some(frame))).await.unwrap();
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    let endpoint = endpoint();
    let req = TunnelRequest {
        region: "eu-west-1",
        endpoint: &endpoint,
        address: "10.0.1.5".parse().unwrap(),
        remote_port: 22,
        max_duration: Some(MAX),
    };
    let settings = TunnelSettings::direct().with_endpoint_url(format!("ws://127.0.0.1:{port}"));
    let mut tunnel = open_tunnel(&aws().await, &req, &settings, LIMIT)
        .await
        .unwrap();
    let end = tunnel.end();
    assert_eq!(end.reason(), None, "open: no reason yet");
    assert_eq!(
        tunnel.read(&mut [0u8; 8]).await.unwrap(),
        0,
        "a clean end of stream"
    );
    drop(tunnel);
    let (seen, ()) = server.await.unwrap();
    assert!(seen.uri.contains("&maxTunnelDuration=2&"), "{}", seen.uri);
    let reason = end.reason().expect("a reason once ended at the limit");
    assert_eq!(reason.kind, ErrorKind::TunnelClosed);
    assert!(
        reason.message.contains("maximum duration of 2 s"),
        "{}",
        reason.message
    );
}

#[tokio::test]
async fn wss_speaks_tls_and_a_peer_without_it_is_a_network_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut first = [0u8; 1];
        tcp.read_exact(&mut first).await.unwrap();
        tcp.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await
            .unwrap();
        first[0]
    });
    let endpoint = endpoint();
    let req = TunnelRequest {
        region: "eu-west-1",
        endpoint: &endpoint,
        address: "10.0.1.5".parse().unwrap(),
        remote_port: 22,
        max_duration: None,
    };
    let settings = TunnelSettings::direct().with_endpoint_url(format!("wss://127.0.0.1:{port}"));
    let e = match open_tunnel(&aws().await, &req, &settings, LIMIT).await {
        Ok(_) => panic!("a plain-HTTP peer passed for TLS"),
        Err(e) => e,
    };
    assert_eq!(e.kind, ErrorKind::Network, "{e:?}");
    assert!(e.message.contains("TLS"), "{}", e.message);
    // 0x16: a TLS handshake record, the ClientHello, came first.
    assert_eq!(server.await.unwrap(), 0x16);
}
