//! The lab's inventory: a fixed set of named instances that exercise Keyless's edge cases
//! (duplicate names, no/empty Name tag, non-ASCII, stopped, IMDS off, outside the push policy),
//! plus optional stopped filler, all in the main account; and a small catalogue of the staging
//! account (see `accounts.rs`). Ids and addresses are random per lab.

use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use crate::accounts::{self, Account};
use crate::addrs::Block;
use crate::random;

/// The staging account's instances (Env=staging): running in the first region, running in the
/// second region (the first when the lab has one), and stopped.
pub const STAGING_WEB: &str = "staging-web";
pub const STAGING_API: &str = "staging-api";
pub const STAGING_OLD: &str = "staging-old";
pub const STAGING_INSTANCES: [&str; 3] = [STAGING_WEB, STAGING_API, STAGING_OLD];

/// The main account's instance in the first region that only the EC2 Instance Connect Endpoint
/// reaches: nothing listens on its private address.
pub const PRIVATE_DB: &str = "private-db";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceState {
    Pending,
    Running,
    Stopping,
    Stopped,
}

impl InstanceState {
    pub fn name(self) -> &'static str {
        match self {
            InstanceState::Pending => "pending",
            InstanceState::Running => "running",
            InstanceState::Stopping => "stopping",
            InstanceState::Stopped => "stopped",
        }
    }

    /// EC2's numeric state code.
    pub fn code(self) -> u8 {
        match self {
            InstanceState::Pending => 0,
            InstanceState::Running => 16,
            InstanceState::Stopping => 64,
            InstanceState::Stopped => 80,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Instance {
    pub id: String,
    /// The account that owns it (and alone sees it).
    pub account: &'static str,
    pub reservation_id: String,
    /// `None`: no Name tag at all; `Some("")`: a Name tag with an empty value.
    pub name: Option<String>,
    pub tags: Vec<(String, String)>,
    pub region: String,
    pub az: String,
    pub state: InstanceState,
    pub instance_type: &'static str,
    pub architecture: &'static str,
    pub image_id: String,
    pub vpc_id: String,
    pub subnet_id: String,
    pub private_ip: Ipv4Addr,
    /// Kept across stop/start so tests can rely on it.
    pub public_ip: Option<Ipv4Addr>,
    /// Set for an instance only the EC2 Instance Connect Endpoint reaches (`private-db`): its
    /// sshd listens here, and nothing on `private_ip`.
    pub behind_endpoint_ip: Option<Ipv4Addr>,
    pub ipv6: Option<String>,
    pub launch_time: SystemTime,
    pub imds_enabled: bool,
    /// False for `restricted`: its ARN is outside the push policy.
    pub in_push_policy: bool,
    /// Filler gets a host key only when first started.
    pub filler: bool,
    pub host_public_key: String,
}

impl Instance {
    /// Where its sshd listens: the address behind the endpoint instead of the private one when
    /// it has one, and the public one.
    pub fn listen_addrs(&self) -> Vec<Ipv4Addr> {
        [
            Some(self.behind_endpoint_ip.unwrap_or(self.private_ip)),
            self.public_ip,
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Where an EICE tunnel to its private address really goes.
    pub fn tunnel_target(&self) -> Ipv4Addr {
        self.behind_endpoint_ip.unwrap_or(self.private_ip)
    }
}

/// One VPC per region with a subnet per AZ, like a small real account.
struct RegionNet {
    vpc: String,
    subnets: [String; 2],
}

struct Spec {
    name: Option<&'static str>,
    tags: &'static [(&'static str, &'static str)],
    state: InstanceState,
    public: bool,
    ipv6: bool,
    imds: bool,
    in_policy: bool,
    behind_endpoint: bool,
    az_b: bool,
    instance_type: &'static str,
    arm: bool,
    age_days: u64,
}

const fn spec(name: Option<&'static str>, tags: &'static [(&'static str, &'static str)]) -> Spec {
    Spec {
        name,
        tags,
        state: InstanceState::Running,
        public: false,
        ipv6: false,
        imds: true,
        in_policy: true,
        behind_endpoint: false,
        az_b: false,
        instance_type: "t3.micro",
        arm: false,
        age_days: 30,
    }
}

fn main_region_specs() -> Vec<Spec> {
    use InstanceState::Stopped;
    vec![
        Spec {
            public: true,
            ipv6: true,
            age_days: 412,
            ..spec(Some("web"), &[("Env", "prod"), ("Role", "web")])
        },
        Spec {
            az_b: true,
            instance_type: "t3.small",
            ..spec(Some("web"), &[("Env", "staging"), ("Role", "web")])
        },
        Spec {
            instance_type: "r6g.large",
            arm: true,
            age_days: 800,
            ..spec(Some("db-primary"), &[("Env", "prod"), ("Role", "db")])
        },
        Spec {
            ipv6: true,
            az_b: true,
            ..spec(None, &[("Env", "dev")])
        },
        Spec {
            state: Stopped,
            ..spec(Some(""), &[("Env", "dev")])
        },
        Spec {
            instance_type: "t3.nano",
            ..spec(Some("café-α"), &[("Env", "dev"), ("Owner", "zoë")])
        },
        Spec {
            state: Stopped,
            instance_type: "c6i.xlarge",
            ..spec(Some("batch"), &[("Env", "prod"), ("Role", "batch")])
        },
        Spec {
            imds: false,
            ..spec(Some("no-imds"), &[("Env", "dev")])
        },
        Spec {
            in_policy: false,
            az_b: true,
            ..spec(Some("restricted"), &[("Env", "prod"), ("Role", "vault")])
        },
        Spec {
            behind_endpoint: true,
            instance_type: "r6i.large",
            age_days: 95,
            ..spec(Some(PRIVATE_DB), &[("Env", "prod"), ("Role", "db")])
        },
    ]
}

fn second_region_specs() -> Vec<Spec> {
    vec![
        Spec {
            public: true,
            ..spec(Some("eu-web"), &[("Env", "prod"), ("Role", "web")])
        },
        Spec {
            state: InstanceState::Stopped,
            az_b: true,
            ..spec(Some("eu-stopped"), &[("Env", "prod")])
        },
    ]
}

/// Region 0 gets `first`, region 1 (region 0 in a one-region lab) gets `second`.
fn staging_specs() -> (Vec<Spec>, Vec<Spec>) {
    let first = vec![
        Spec {
            public: true,
            age_days: 12,
            ..spec(Some(STAGING_WEB), &[("Env", "staging"), ("Role", "web")])
        },
        Spec {
            state: InstanceState::Stopped,
            az_b: true,
            age_days: 1200,
            ..spec(Some(STAGING_OLD), &[("Env", "staging"), ("Role", "legacy")])
        },
    ];
    let second = vec![Spec {
        instance_type: "t3.small",
        age_days: 5,
        ..spec(Some(STAGING_API), &[("Env", "staging"), ("Role", "api")])
    }];
    (first, second)
}

/// Named instances of every account (what `build` places before the filler).
pub fn named_count() -> usize {
    let (a, b) = staging_specs();
    main_region_specs().len() + second_region_specs().len() + a.len() + b.len()
}

fn id(prefix: &str) -> String {
    format!("{prefix}-0{}", random::hex(16))
}

/// Builds the inventory. Addresses come from `block`; instance `n` gets host `.10 + n` (filler
/// that does not fit spills into the block's overflow /24s).
pub fn build(regions: &[String], extra: usize, block: &Block) -> Vec<Instance> {
    // Each account has its own VPCs.
    let region_nets = || -> Vec<RegionNet> {
        regions
            .iter()
            .map(|_| RegionNet {
                vpc: id("vpc"),
                subnets: [id("subnet"), id("subnet")],
            })
            .collect()
    };
    let (nets, staging_nets) = (region_nets(), region_nets());
    let main = 0;
    let second = regions.len().saturating_sub(1).min(1);
    let (staging_first, staging_second) = staging_specs();
    let groups: [(&Account, &[RegionNet], usize, Vec<Spec>); 4] = [
        (&accounts::MAIN, &nets, main, main_region_specs()),
        (&accounts::MAIN, &nets, second, second_region_specs()),
        (&accounts::STAGING, &staging_nets, main, staging_first),
        (&accounts::STAGING, &staging_nets, second, staging_second),
    ];
    let placed = groups
        .into_iter()
        .flat_map(|(a, nets, r, specs)| specs.into_iter().map(move |s| (a, nets, r, s)));

    let now = SystemTime::now();
    let mut out = Vec::new();
    for (n, (account, nets, r, s)) in placed.enumerate() {
        let mut tags: Vec<(String, String)> = Vec::new();
        if let Some(name) = s.name {
            tags.push(("Name".into(), name.into()));
        }
        tags.extend(s.tags.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        out.push(Instance {
            id: id("i"),
            account: account.id,
            reservation_id: id("r"),
            name: s.name.map(str::to_string),
            tags,
            region: regions[r].clone(),
            az: format!("{}{}", regions[r], if s.az_b { 'b' } else { 'a' }),
            state: s.state,
            instance_type: s.instance_type,
            architecture: if s.arm { "arm64" } else { "x86_64" },
            image_id: id("ami"),
            vpc_id: nets[r].vpc.clone(),
            subnet_id: nets[r].subnets[usize::from(s.az_b)].clone(),
            private_ip: block.private(n),
            public_ip: s.public.then(|| block.public(n)),
            behind_endpoint_ip: s.behind_endpoint.then(|| block.behind_endpoint(n)),
            ipv6: s.ipv6.then(|| {
                format!(
                    "2600:1f18:{:x}:{:x}::{:x}",
                    random::range(1, 0xfff),
                    n + 1,
                    random::range(1, 0xffff)
                )
            }),
            launch_time: now - Duration::from_secs(s.age_days * 86400 + random::range(0, 86399)),
            imds_enabled: s.imds,
            in_push_policy: s.in_policy,
            filler: false,
            host_public_key: String::new(),
        });
    }
    let named = out.len();
    for k in 0..extra {
        let r = k % regions.len();
        let n = named + k;
        let role = ["web", "worker", "db"][k % 3];
        let env = ["prod", "staging", "dev"][k % 3 / 2 + k % 2];
        out.push(Instance {
            id: id("i"),
            account: accounts::ACCOUNT_ID,
            reservation_id: id("r"),
            name: Some(format!("filler-{:05}", k + 1)),
            tags: vec![
                ("Name".into(), format!("filler-{:05}", k + 1)),
                ("Env".into(), env.into()),
                ("Role".into(), role.into()),
            ],
            region: regions[r].clone(),
            az: format!("{}{}", regions[r], if k % 2 == 0 { 'a' } else { 'b' }),
            state: InstanceState::Stopped,
            instance_type: "t3.micro",
            architecture: "x86_64",
            image_id: id("ami"),
            vpc_id: nets[r].vpc.clone(),
            subnet_id: nets[r].subnets[k % 2].clone(),
            private_ip: block.private(n),
            public_ip: None,
            behind_endpoint_ip: None,
            ipv6: None,
            launch_time: now - Duration::from_secs(random::range(86400, 900 * 86400)),
            imds_enabled: true,
            in_push_policy: true,
            filler: true,
            host_public_key: String::new(),
        });
    }
    out
}
