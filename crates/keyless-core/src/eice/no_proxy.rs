//! `NO_PROXY`: the hosts a proxy is not used for, as curl and the AWS CLI read it — a comma (or
//! space) separated list of `*`, domain names that also match their subdomains (a leading dot is
//! optional), exact hosts, IP addresses and CIDR ranges; an entry may end in `:port`.

use std::net::IpAddr;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NoProxy {
    all: bool,
    rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    /// `example.com` or `.example.com`: the domain and its subdomains.
    Domain {
        name: String,
        port: Option<u16>,
    },
    Ip {
        ip: IpAddr,
        port: Option<u16>,
    },
    Cidr {
        net: IpAddr,
        bits: u8,
    },
}

impl NoProxy {
    pub fn parse(text: &str) -> Self {
        let mut out = NoProxy::default();
        for entry in text
            .split([',', ' '])
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            if entry == "*" {
                out.all = true;
            } else if let Some(rule) = Rule::parse(entry) {
                out.rules.push(rule);
            }
        }
        out
    }

    /// True when a connection to `host:port` goes around the proxy.
    pub fn bypasses(&self, host: &str, port: u16) -> bool {
        if self.all {
            return true;
        }
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let ip = host.parse::<IpAddr>().ok();
        self.rules.iter().any(|rule| rule.matches(&host, ip, port))
    }
}

impl Rule {
    fn parse(entry: &str) -> Option<Rule> {
        let entry = entry.to_ascii_lowercase();
        if let Some((net, bits)) = entry.split_once('/') {
            let net: IpAddr = net
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse()
                .ok()?;
            let bits: u8 = bits.parse().ok()?;
            let max = if net.is_ipv4() { 32 } else { 128 };
            return (bits <= max).then_some(Rule::Cidr { net, bits });
        }
        if let Ok(ip) = entry
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            return Some(Rule::Ip { ip, port: None });
        }
        let (host, port) = split_port(&entry);
        if let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            return Some(Rule::Ip { ip, port });
        }
        let name = host
            .trim_start_matches("*.")
            .trim_start_matches('.')
            .trim_end_matches('.');
        (!name.is_empty()).then(|| Rule::Domain {
            name: name.to_owned(),
            port,
        })
    }

    fn matches(&self, host: &str, ip: Option<IpAddr>, port: u16) -> bool {
        match self {
            Rule::Domain { name, port: p } => {
                let name_ok = host == name
                    || host
                        .strip_suffix(name.as_str())
                        .is_some_and(|rest| rest.ends_with('.'));
                name_ok && p.is_none_or(|p| p == port)
            }
            Rule::Ip { ip: rule, port: p } => {
                ip.is_some_and(|ip| ip == *rule) && p.is_none_or(|p| p == port)
            }
            Rule::Cidr { net, bits } => ip.is_some_and(|ip| in_cidr(ip, *net, *bits)),
        }
    }
}

/// `host:port` → (host, Some(port)); a bare IPv6 address is not split.
fn split_port(entry: &str) -> (&str, Option<u16>) {
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') || host.ends_with(']') => match port.parse() {
            Ok(p) => (host, Some(p)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_match_themselves_and_their_subdomains_only() {
        let np = NoProxy::parse("example.com, .corp.internal");
        assert!(np.bypasses("example.com", 443));
        assert!(np.bypasses("eice-1.Example.COM", 443));
        assert!(np.bypasses("a.b.corp.internal", 443));
        assert!(np.bypasses("corp.internal", 443));
        assert!(
            !np.bypasses("badexample.com", 443),
            "a suffix is not a subdomain"
        );
        assert!(!np.bypasses("example.com.evil.net", 443));
        assert!(!np.bypasses("amazonaws.com", 443));
    }

    #[test]
    fn a_star_bypasses_everything_and_an_empty_list_nothing() {
        assert!(NoProxy::parse("*").bypasses("anything.example", 1));
        assert!(NoProxy::parse("foo, *").bypasses("10.1.2.3", 1));
        assert!(!NoProxy::parse("").bypasses("localhost", 1));
        assert!(!NoProxy::parse(" , ").bypasses("localhost", 1));
    }

    #[test]
    fn ips_ports_and_cidr_ranges() {
        let np =
            NoProxy::parse("127.0.0.1,::1,10.0.0.0/8,fd00::/8,internal.example:8443,[fe80::1]:22");
        assert!(np.bypasses("127.0.0.1", 9));
        assert!(np.bypasses("[::1]", 9));
        assert!(np.bypasses("10.200.3.4", 443));
        assert!(!np.bypasses("11.0.0.1", 443));
        assert!(np.bypasses("fd12::5", 443));
        assert!(!np.bypasses("fe12::5", 443));
        assert!(np.bypasses("internal.example", 8443));
        assert!(
            !np.bypasses("internal.example", 443),
            "the port is part of the rule"
        );
        assert!(np.bypasses("fe80::1", 22));
        assert!(!np.bypasses("127.0.0.2", 9));
        assert!(
            !np.bypasses("localhost", 9),
            "a name is not resolved to match an IP"
        );
    }

    #[test]
    fn a_zero_bit_range_is_every_address_of_its_family() {
        let np = NoProxy::parse("0.0.0.0/0");
        assert!(np.bypasses("203.0.113.9", 1));
        assert!(!np.bypasses("2001:db8::1", 1));
    }
}
