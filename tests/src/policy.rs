//! The IAM policy the seed account uses for SendSSHPublicKey, reduced to what matters:
//! instance ARN, `aws:SourceIp` and `ec2:osuser`; plus per-region DescribeInstances denials.
//! Every caller, in either account, holds the same policy.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

pub const PUSH_ACTION: &str = "ec2-instance-connect:SendSSHPublicKey";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: u32,
    prefix: u8,
}

impl Cidr {
    /// `a.b.c.d/n` or a bare address (/32).
    pub fn parse(s: &str) -> Option<Cidr> {
        let (ip, prefix) = match s.split_once('/') {
            Some((ip, p)) => (ip, p.parse::<u8>().ok().filter(|p| *p <= 32)?),
            None => (s, 32),
        };
        let ip: Ipv4Addr = ip.trim().parse().ok()?;
        Some(Cidr {
            net: u32::from(ip) & mask(prefix),
            prefix,
        })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let v4 = match ip {
            IpAddr::V4(v4) => v4,
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4,
                None => return false,
            },
        };
        u32::from(v4) & mask(self.prefix) == self.net
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    }
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub allowed_users: BTreeSet<String>,
    pub source: Cidr,
    pub denied_regions: BTreeSet<String>,
}

impl Policy {
    /// The lab OS user and `ghost` (allowed by IAM, absent on the machine).
    pub fn seed(os_user: &str) -> Policy {
        Policy {
            allowed_users: [os_user.to_string(), "ghost".to_string()].into(),
            source: Cidr::parse("127.0.0.0/8").expect("constant CIDR"),
            denied_regions: BTreeSet::new(),
        }
    }

    /// `Err(message)` in AWS's wording when the push is not allowed.
    pub fn check_push(
        &self,
        caller_arn: &str,
        arn: &str,
        arn_allowed: bool,
        user: &str,
        peer: IpAddr,
    ) -> Result<(), String> {
        if arn_allowed && self.source.contains(peer) && self.allowed_users.contains(user) {
            Ok(())
        } else {
            Err(format!(
                "User: {caller_arn} is not authorized to perform: {PUSH_ACTION} on resource: {arn} \
                 because no identity-based policy allows the {PUSH_ACTION} action"
            ))
        }
    }
}

/// The ARN a caller of `account` pushes to (always in the caller's own account, as on AWS).
pub fn instance_arn(region: &str, account: &str, id: &str) -> String {
    format!("arn:aws:ec2:{region}:{account}:instance/{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr() {
        let c = Cidr::parse("127.0.0.0/8").unwrap();
        assert!(c.contains("127.9.8.7".parse().unwrap()));
        assert!(!c.contains("10.0.0.1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(Cidr::parse("10.1.2.3")
            .unwrap()
            .contains("10.1.2.3".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("nonsense").is_none());
    }
}
