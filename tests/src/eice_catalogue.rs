//! The lab's EC2 Instance Connect Endpoints: one in the main account's first-region VPC (in the
//! subnet of `web`), one in the staging account's first-region VPC, none in the second region's
//! VPCs (so "no endpoint in this VPC" can be tested). Ids are random per new lab and kept in
//! the identity file.

use std::time::{Duration, SystemTime};

use crate::catalogue::Instance;
use crate::{accounts, random};

/// States in which AWS lets a tunnel open (and which a client must accept as usable).
pub const USABLE_STATES: [&str; 3] = ["create-complete", "update-complete", "update-in-progress"];
/// The state every lab endpoint starts in, and the one the "not ready" fault shows.
pub const READY_STATE: &str = "create-complete";
pub const NOT_READY_STATE: &str = "create-in-progress";
/// AWS's quota (not adjustable): concurrent tunnels per endpoint.
pub const MAX_TUNNELS: usize = 20;

#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `eice-` + 17 hex digits (the first `0`), as AWS's ids.
    pub id: String,
    pub account: &'static str,
    pub region: String,
    pub vpc_id: String,
    pub subnet_id: String,
    pub az: String,
    /// The 8-hex label AWS puts between the id and the service in the DNS name.
    pub dns_label: String,
    pub network_interface_id: String,
    pub security_group_id: String,
    pub created_at: SystemTime,
    pub tags: Vec<(String, String)>,
}

impl Endpoint {
    pub fn dns_name(&self) -> String {
        format!(
            "{}.{}.ec2-instance-connect-endpoint.{}.amazonaws.com",
            self.id, self.dns_label, self.region
        )
    }

    pub fn fips_dns_name(&self) -> String {
        format!(
            "{}.{}.fips.ec2-instance-connect-endpoint.{}.amazonaws.com",
            self.id, self.dns_label, self.region
        )
    }

    pub fn arn(&self) -> String {
        format!(
            "arn:aws:ec2:{}:{}:instance-connect-endpoint/{}",
            self.region, self.account, self.id
        )
    }
}

fn id(prefix: &str) -> String {
    format!("{prefix}-0{}", random::hex(16))
}

/// The endpoints of a freshly built inventory: placed next to the first-region instance named
/// `web` (main account) and `staging-web` (staging).
pub fn build(instances: &[Instance], regions: &[String]) -> Vec<Endpoint> {
    let Some(first) = regions.first() else {
        return Vec::new();
    };
    let anchors = [
        (accounts::ACCOUNT_ID, "web", "prod"),
        (accounts::STAGING_ACCOUNT_ID, crate::STAGING_WEB, "staging"),
    ];
    let now = SystemTime::now();
    anchors
        .iter()
        .filter_map(|(account, name, env)| {
            let anchor = instances.iter().find(|i| {
                i.account == *account && &i.region == first && i.name.as_deref() == Some(name)
            })?;
            Some((anchor, env))
        })
        .map(|(anchor, env)| Endpoint {
            id: id("eice"),
            account: anchor.account,
            region: anchor.region.clone(),
            vpc_id: anchor.vpc_id.clone(),
            subnet_id: anchor.subnet_id.clone(),
            az: anchor.az.clone(),
            dns_label: random::hex(8),
            network_interface_id: id("eni"),
            security_group_id: id("sg"),
            created_at: now - Duration::from_secs(random::range(86400, 200 * 86400)),
            tags: vec![
                ("Name".into(), format!("{env}-eice")),
                ("Env".into(), env.to_string()),
            ],
        })
        .collect()
}
