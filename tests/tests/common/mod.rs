//! Helpers shared by the lab's integration tests: SigV4-signed raw requests (signed with the
//! real `aws-sigv4`), key generation, `ssh` runs and /proc checks.
#![allow(dead_code)] // each test file uses a different subset

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

pub mod sdk;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use keyless_lab::mini_http::{self, Response};
use keyless_lab::{Lab, ACCESS_KEY_ID, SECRET_ACCESS_KEY};

pub struct Creds<'a> {
    pub access_key: &'a str,
    pub secret: &'a str,
    pub time: SystemTime,
}

pub fn lab_creds() -> Creds<'static> {
    Creds {
        access_key: ACCESS_KEY_ID,
        secret: SECRET_ACCESS_KEY,
        time: SystemTime::now(),
    }
}

/// Signs `POST /` with `aws-sigv4` and returns all headers to send (host included).
pub fn signed_headers(
    addr: SocketAddr,
    region: &str,
    service: &str,
    mut headers: Vec<(String, String)>,
    body: &[u8],
    creds: &Creds,
) -> Vec<(String, String)> {
    headers.push(("host".into(), addr.to_string()));
    let identity = Credentials::new(creds.access_key, creds.secret, None, None, "lab-test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(creds.time)
        .settings(SigningSettings::default())
        .build()
        .expect("signing params")
        .into();
    let signable = SignableRequest::new(
        "POST",
        format!("http://{addr}/"),
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .expect("signable request");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    let (added, _) = instructions.into_parts();
    headers.extend(
        added
            .into_iter()
            .map(|h| (h.name().to_string(), h.value().to_string())),
    );
    headers
}

pub fn form(params: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        s.append_pair(k, v);
    }
    s.finish()
}

/// A signed Query-protocol call (EC2, STS): `POST /` with the form-encoded `params`.
pub fn query_with(
    lab: &Lab,
    region: &str,
    service: &str,
    params: &[(&str, &str)],
    creds: &Creds,
) -> Response {
    let body = form(params);
    let headers = vec![(
        "content-type".to_string(),
        "application/x-www-form-urlencoded".to_string(),
    )];
    let headers = signed_headers(
        lab.http_addr(),
        region,
        service,
        headers,
        body.as_bytes(),
        creds,
    );
    mini_http::request(lab.http_addr(), "POST", "/", &headers, body.as_bytes())
        .expect("Query request")
}

/// A signed EC2 Query call: `Action=…&Version=2016-11-15&params…`.
pub fn ec2_with(
    lab: &Lab,
    region: &str,
    action: &str,
    params: &[(&str, &str)],
    creds: &Creds,
) -> Response {
    let mut all = vec![("Action", action), ("Version", "2016-11-15")];
    all.extend_from_slice(params);
    query_with(lab, region, "ec2", &all, creds)
}

pub fn ec2(lab: &Lab, region: &str, action: &str, params: &[(&str, &str)]) -> Response {
    ec2_with(lab, region, action, params, &lab_creds())
}

/// A signed SendSSHPublicKey call with a raw JSON body.
pub fn push_raw(lab: &Lab, region: &str, body: &str, creds: &Creds) -> Response {
    let headers = vec![
        (
            "content-type".to_string(),
            "application/x-amz-json-1.1".to_string(),
        ),
        (
            "x-amz-target".to_string(),
            "AWSEC2InstanceConnectService.SendSSHPublicKey".to_string(),
        ),
    ];
    let headers = signed_headers(
        lab.http_addr(),
        region,
        "ec2-instance-connect",
        headers,
        body.as_bytes(),
        creds,
    );
    mini_http::request(lab.http_addr(), "POST", "/", &headers, body.as_bytes())
        .expect("EIC request")
}

pub fn push(lab: &Lab, region: &str, id: &str, user: &str, key: &str) -> Response {
    let body = serde_json::json!({ "InstanceId": id, "InstanceOSUser": user, "SSHPublicKey": key })
        .to_string();
    push_raw(lab, region, &body, &lab_creds())
}

/// `__type` of a JSON error reply.
pub fn json_error(r: &Response) -> String {
    serde_json::from_slice::<serde_json::Value>(&r.body)
        .ok()
        .and_then(|v| v["__type"].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Every `<tag>value</tag>` in document order (good enough for the lab's flat XML).
pub fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        out.push(after[..end].to_string());
        rest = &after[end + close.len()..];
    }
    out
}

pub fn xml_error_code(xml: &str) -> String {
    xml_values(xml, "Code")
        .into_iter()
        .next()
        .unwrap_or_default()
}

/// `ssh-keygen -t <kind>` into `dir/<name>`; returns (private key path, public key line).
pub fn keygen(dir: &Path, name: &str, args: &[&str]) -> (PathBuf, String) {
    let path = dir.join(name);
    let status = Command::new("ssh-keygen")
        .args(["-q", "-N", "", "-C", "", "-f"])
        .arg(&path)
        .args(args)
        .status()
        .expect("ssh-keygen");
    assert!(status.success());
    let line = std::fs::read_to_string(path.with_extension("pub")).expect("public key");
    (path, line.trim().to_string())
}

pub fn ed25519(dir: &Path, name: &str) -> (PathBuf, String) {
    keygen(dir, name, &["-t", "ed25519"])
}

/// OpenSSH's own client, deterministic: no agent, no config, no default identities.
/// `known_hosts`: `None` accepts any host key, `Some(file)` requires the key pinned there.
pub fn ssh_command_checked(
    key: &Path,
    port: u16,
    user: &str,
    ip: &str,
    remote: &str,
    known_hosts: Option<&Path>,
) -> Command {
    let (strict, file) = match known_hosts {
        None => ("no", "/dev/null".to_string()),
        Some(f) => ("yes", f.display().to_string()),
    };
    let mut c = Command::new("ssh");
    c.args(["-F", "/dev/null", "-i"])
        .arg(key)
        .args(["-o", &format!("StrictHostKeyChecking={strict}")])
        .args(["-o", &format!("UserKnownHostsFile={file}")])
        .args([
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "IdentityAgent=none",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=10",
            "-o",
            "LogLevel=ERROR",
            "-p",
        ])
        .arg(port.to_string())
        .arg(format!("{user}@{ip}"))
        .arg(remote);
    c
}

pub fn ssh_command(key: &Path, port: u16, user: &str, ip: &str, remote: &str) -> Command {
    ssh_command_checked(key, port, user, ip, remote, None)
}

pub fn ssh(key: &Path, port: u16, user: &str, ip: &str, remote: &str) -> Output {
    ssh_command(key, port, user, ip, remote)
        .output()
        .expect("running ssh")
}

/// Pids of live processes whose command line mentions `needle` (the lab's state dir).
pub fn processes_mentioning(needle: &str) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            String::from_utf8_lossy(&cmd).contains(needle) && pid_alive(*pid)
        })
        .collect()
}

/// sshd listeners of a lab. A freshly forked per-connection child (e.g. of a readiness probe)
/// still shows its parent's "[listener]" title until it re-execs, so count only the roots.
pub fn sshd_listeners(state_dir: &str) -> usize {
    let cmd = |pid: i32| {
        String::from_utf8_lossy(&std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default())
            .into_owned()
    };
    let listeners: Vec<i32> = processes_mentioning(state_dir)
        .into_iter()
        .filter(|p| cmd(*p).contains("[listener]"))
        .collect();
    listeners
        .iter()
        .filter(|p| !listeners.contains(&ppid(**p)))
        .count()
}

/// [`sshd_listeners`] once it is `expected`, or after 5 s whatever it is then. A listener's
/// "[listener]" title and its probe's forked child come and go around the readiness probe, so
/// one look may miss a listener for a moment (seen on CI: 10 of 11 right after start).
pub fn sshd_listeners_settled(state_dir: &str, expected: usize) -> usize {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let n = sshd_listeners(state_dir);
        if n == expected || std::time::Instant::now() > deadline {
            return n;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn ppid(pid: i32) -> i32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}

/// Exists and is not a zombie.
pub fn pid_alive(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .next()
        .unwrap_or("");
    state != "Z" && state != "X"
}

/// Running instances of every account (each has an sshd).
pub fn running_count(lab: &Lab) -> usize {
    lab.all_instances()
        .iter()
        .filter(|i| i.state == "running")
        .count()
}

/// Runs the `keyless-lab` binary with `--state-dir`.
pub fn cli(state_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keyless-lab"))
        .args(args)
        .arg(format!("--state-dir={}", state_dir.display()))
        .output()
        .unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs `keyless-lab down` when dropped, so a failing assertion does not leak a background lab.
pub struct DownOnDrop(pub PathBuf);

impl Drop for DownOnDrop {
    fn drop(&mut self) {
        let _ = cli(&self.0, &["down"]);
    }
}
