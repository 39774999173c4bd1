//! A lab's identity: what must not change when the same lab is started again in the same state
//! dir (instance ids, names, addresses, launch times, sshd host keys, the SSH port when free),
//! as real instances keep theirs. It lives in `<state>/identity/` (0700): `lab.json` (0600) and
//! one `<id>/ssh_host_ed25519_key` pair per instance. Mutable state (instance states, pushes,
//! sign-ins) is not kept. Labs in a fresh temp dir get a fresh identity, so tests stay random.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write;
use std::net::Ipv4Addr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::catalogue::Instance;
use crate::eice_catalogue::Endpoint;
use crate::LabError;

/// 2: `private-db`, its address behind the endpoint, and the EC2 Instance Connect Endpoints.
const VERSION: u32 = 2;

/// Where a lab's identity lives in its state dir.
pub fn dir(state_dir: &Path) -> PathBuf {
    state_dir.join("identity")
}

fn file(state_dir: &Path) -> PathBuf {
    dir(state_dir).join("lab.json")
}

/// Removes the identity of the lab in `state_dir` (its next start gets a new world).
pub fn forget(state_dir: &Path) -> Result<(), LabError> {
    match fs::remove_dir_all(dir(state_dir)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(LabError::io(format!(
            "removing {}",
            dir(state_dir).display()
        ))(e)),
        _ => Ok(()),
    }
}

/// How a lab got its identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityStatus {
    /// The state dir had none: a new world, now saved.
    Created,
    /// The identity of an earlier run in this state dir: same ids, addresses and host keys.
    Reused,
    /// The state dir had one that could not be used (the reason); a new world replaced it.
    Replaced(String),
}

impl std::fmt::Display for IdentityStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdentityStatus::Created => f.write_str("new lab identity"),
            IdentityStatus::Reused => f.write_str("reused the lab identity of the last run"),
            IdentityStatus::Replaced(why) => write!(
                f,
                "{why}; started a fresh lab (new instance ids, addresses and host keys)"
            ),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Saved {
    version: u32,
    /// The options that shape the catalogue; other options may change between runs.
    regions: Vec<String>,
    extra_instances: usize,
    /// `127.A.B.0/24`.
    block: (u8, u8),
    pub ssh_port: u16,
    instances: Vec<SavedInstance>,
    endpoints: Vec<SavedEndpoint>,
}

/// An EC2 Instance Connect Endpoint; its VPC and subnet follow from the instances.
#[derive(Debug, Serialize, Deserialize)]
struct SavedEndpoint {
    id: String,
    account: String,
    region: String,
    dns_label: String,
    network_interface_id: String,
    security_group_id: String,
    /// Seconds since the Unix epoch.
    created_at: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct SavedInstance {
    id: String,
    account: String,
    name: Option<String>,
    region: String,
    reservation_id: String,
    image_id: String,
    vpc_id: String,
    subnet_id: String,
    private_ip: Ipv4Addr,
    public_ip: Option<Ipv4Addr>,
    behind_endpoint_ip: Option<Ipv4Addr>,
    ipv6: Option<String>,
    /// Seconds since the Unix epoch.
    launch_time: u64,
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// `i-` + hex: also a directory name in the state dir, so nothing else gets through.
fn valid_id(id: &str) -> bool {
    valid_hex_id(id, "i-")
}

fn valid_hex_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .is_some_and(|h| (8..=30).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl Saved {
    pub fn of(
        regions: &[String],
        extra: usize,
        block: (u8, u8),
        port: u16,
        inv: &[Instance],
        endpoints: &[Endpoint],
    ) -> Saved {
        Saved {
            version: VERSION,
            regions: regions.to_vec(),
            extra_instances: extra,
            block,
            ssh_port: port,
            instances: inv
                .iter()
                .map(|i| SavedInstance {
                    id: i.id.clone(),
                    account: i.account.to_string(),
                    name: i.name.clone(),
                    region: i.region.clone(),
                    reservation_id: i.reservation_id.clone(),
                    image_id: i.image_id.clone(),
                    vpc_id: i.vpc_id.clone(),
                    subnet_id: i.subnet_id.clone(),
                    private_ip: i.private_ip,
                    public_ip: i.public_ip,
                    behind_endpoint_ip: i.behind_endpoint_ip,
                    ipv6: i.ipv6.clone(),
                    launch_time: unix(i.launch_time),
                })
                .collect(),
            endpoints: endpoints
                .iter()
                .map(|e| SavedEndpoint {
                    id: e.id.clone(),
                    account: e.account.to_string(),
                    region: e.region.clone(),
                    dns_label: e.dns_label.clone(),
                    network_interface_id: e.network_interface_id.clone(),
                    security_group_id: e.security_group_id.clone(),
                    created_at: unix(e.created_at),
                })
                .collect(),
        }
    }

    /// The identity saved in `state_dir`: `Ok(None)` when there is none, `Err(reason)` when it
    /// cannot be used for a lab of these options.
    pub fn load(
        state_dir: &Path,
        regions: &[String],
        extra: usize,
    ) -> Result<Option<Saved>, String> {
        let path = file(state_dir);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let saved: Saved = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{} is unreadable ({e})", path.display()))?;
        if saved.version != VERSION {
            return Err(format!(
                "{} has format version {}, this lab writes {VERSION}",
                path.display(),
                saved.version
            ));
        }
        if saved.regions != regions || saved.extra_instances != extra {
            return Err(format!(
                "the saved lab identity is for --regions {} --instances {}, not --regions {} --instances {extra}",
                saved.regions.join(","),
                saved.extra_instances,
                regions.join(",")
            ));
        }
        let mut ids = std::collections::HashSet::new();
        if !saved
            .instances
            .iter()
            .all(|i| valid_id(&i.id) && ids.insert(i.id.as_str()))
        {
            return Err(format!(
                "{} has invalid or duplicate instance ids",
                path.display()
            ));
        }
        Ok(Some(saved))
    }

    pub fn block(&self) -> (u8, u8) {
        self.block
    }

    /// Gives the freshly built catalogue `inv` (same options) the saved ids, addresses and
    /// launch times. Fails, changing nothing, when the catalogue no longer has the saved shape.
    pub fn apply(&self, inv: &mut [Instance]) -> Result<(), String> {
        let same_shape = inv.len() == self.instances.len()
            && inv
                .iter()
                .zip(&self.instances)
                .all(|(i, s)| i.account == s.account && i.name == s.name && i.region == s.region);
        if !same_shape {
            return Err("the lab's catalogue changed since the identity was saved".into());
        }
        for (i, s) in inv.iter_mut().zip(&self.instances) {
            i.id = s.id.clone();
            i.reservation_id = s.reservation_id.clone();
            i.image_id = s.image_id.clone();
            i.vpc_id = s.vpc_id.clone();
            i.subnet_id = s.subnet_id.clone();
            i.private_ip = s.private_ip;
            i.public_ip = s.public_ip;
            i.behind_endpoint_ip = s.behind_endpoint_ip;
            i.ipv6 = s.ipv6.clone();
            i.launch_time = UNIX_EPOCH + Duration::from_secs(s.launch_time);
        }
        Ok(())
    }

    /// Gives the endpoints built for the (already applied) inventory their saved ids. Fails,
    /// changing nothing, when the endpoint catalogue no longer has the saved shape.
    pub fn apply_endpoints(&self, endpoints: &mut [Endpoint]) -> Result<(), String> {
        let same_shape = endpoints.len() == self.endpoints.len()
            && endpoints
                .iter()
                .zip(&self.endpoints)
                .all(|(e, s)| e.account == s.account && e.region == s.region);
        let valid = self.endpoints.iter().all(|s| valid_hex_id(&s.id, "eice-"));
        if !same_shape || !valid {
            return Err("the lab's endpoints changed since the identity was saved".into());
        }
        for (e, s) in endpoints.iter_mut().zip(&self.endpoints) {
            e.id = s.id.clone();
            e.dns_label = s.dns_label.clone();
            e.network_interface_id = s.network_interface_id.clone();
            e.security_group_id = s.security_group_id.clone();
            e.created_at = UNIX_EPOCH + Duration::from_secs(s.created_at);
        }
        Ok(())
    }

    /// Writes `<state>/identity/lab.json` (0600, in a 0700 dir), atomically.
    pub fn save(&self, state_dir: &Path) -> Result<(), LabError> {
        let d = dir(state_dir);
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&d)
            .map_err(LabError::io(format!("creating {}", d.display())))?;
        let path = file(state_dir);
        let tmp = d.join("lab.json.tmp");
        let _ = fs::remove_file(&tmp);
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| LabError::Setup(format!("encoding the lab identity: {e}")))?;
        let write = || -> std::io::Result<()> {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)
        };
        write().map_err(LabError::io(format!("writing {}", path.display())))
    }
}
