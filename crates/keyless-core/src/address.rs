//! Which address of an instance to dial, and how to reach it. Private is the default: the seed's
//! instances live in private subnets reached over Direct Connect/VPN. `eice` reaches a private
//! address through the VPC's EC2 Instance Connect Endpoint; `auto` picks for the user.

use crate::error::{Error, ErrorKind, Fix, Result};
use crate::instance::Instance;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Via {
    #[default]
    Private,
    Public,
    /// Through the VPC's EC2 Instance Connect Endpoint: private IPv4, else IPv6.
    Eice,
    /// Public IPv4 if the instance has one; else the private address directly, raced against
    /// the VPC's endpoint (if it has one) after a short head start.
    Auto,
}

impl FromStr for Via {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "private" => Ok(Via::Private),
            "public" => Ok(Via::Public),
            "eice" => Ok(Via::Eice),
            "auto" => Ok(Via::Auto),
            other => Err(Error::invalid(format!(
                "'{}' is not an address choice",
                other.escape_debug()
            ))
            .with_hint("Use private, public, eice or auto.")),
        }
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Via::Private => "private",
            Via::Public => "public",
            Via::Eice => "eice",
            Via::Auto => "auto",
        })
    }
}

/// How to reach an instance: every address is an IP literal AWS reported, never a name to resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoutePlan {
    /// Dial this address.
    Direct(IpAddr),
    /// Through the VPC's endpoint, to this address.
    Tunnel(IpAddr),
    /// Dial `direct`, and race a tunnel to `tunnel` when the VPC has an endpoint.
    Race { direct: IpAddr, tunnel: IpAddr },
}

impl RoutePlan {
    /// The instance's address this plan reaches first (what errors and status lines name).
    pub fn address(&self) -> IpAddr {
        match *self {
            RoutePlan::Direct(a) | RoutePlan::Tunnel(a) => a,
            RoutePlan::Race { direct, .. } => direct,
        }
    }
}

/// The route for `via`. `eice` tunnels to the private IPv4 address, else the IPv6 one (what the
/// AWS CLI does); `auto` dials a public IPv4 address directly, else races the private address
/// directly against a tunnel to it, else dials IPv6.
pub fn plan_route(instance: &Instance, via: Via) -> Result<RoutePlan> {
    match via {
        Via::Private | Via::Public => choose_address(instance, via).map(RoutePlan::Direct),
        Via::Eice => match ip(instance, instance.private_ip.as_deref())? {
            Some(private) => Ok(RoutePlan::Tunnel(private)),
            None => ip(instance, instance.ipv6.as_deref())?
                .map(RoutePlan::Tunnel)
                .ok_or_else(|| no_address(instance, "private IPv4 or IPv6 address to tunnel to")),
        },
        Via::Auto => {
            if let Some(public) = ip(instance, instance.public_ip.as_deref())? {
                return Ok(RoutePlan::Direct(public));
            }
            if let Some(private) = ip(instance, instance.private_ip.as_deref())? {
                return Ok(RoutePlan::Race {
                    direct: private,
                    tunnel: private,
                });
            }
            ip(instance, instance.ipv6.as_deref())?
                .map(RoutePlan::Direct)
                .ok_or_else(|| no_address(instance, "address at all"))
        }
    }
}

fn ip(instance: &Instance, text: Option<&str>) -> Result<Option<IpAddr>> {
    text.map(|t| parse_ip(instance, t)).transpose()
}

fn no_address(instance: &Instance, what: &str) -> Error {
    Error::new(
        ErrorKind::NoAddress,
        format!("{} has no {what}", instance.label()),
    )
    .with_hint("Is the instance running and attached to a network?")
}

/// The address to dial for `private` or `public`, as an IP literal: never a name to resolve, so
/// what is dialled is exactly what AWS reported for the instance. `eice` and `auto` take the
/// private address here (see [`plan_route`] for how they reach it).
pub fn choose_address(instance: &Instance, via: Via) -> Result<IpAddr> {
    let private = instance.private_ip.as_deref();
    let public = instance.public_ip.as_deref();
    let chosen = match via {
        Via::Private | Via::Eice => private,
        Via::Public => public,
        Via::Auto => public.or(private),
    };
    let text = chosen.ok_or_else(|| {
        let what = match via {
            Via::Private | Via::Eice => "private IPv4 address",
            Via::Public => "public IPv4 address",
            Via::Auto => "IPv4 address at all",
        };
        let e = Error::new(
            ErrorKind::NoAddress,
            format!("{} has no {what}", instance.label()),
        );
        match via {
            Via::Private if instance.public_ip.is_some() => e
                .with_hint("It has a public address.")
                .with_fix(Fix::UseAddress { via: Via::Public }),
            Via::Public if instance.private_ip.is_some() => e
                .with_hint(
                    "It has a private address: reached over VPN or Direct Connect, or through the \
                     VPC's EC2 Instance Connect Endpoint.",
                )
                .with_fix(Fix::UseAddress { via: Via::Auto }),
            _ => e.with_hint("Is the instance running and attached to a network?"),
        }
    })?;
    parse_ip(instance, text)
}

fn parse_ip(instance: &Instance, text: &str) -> Result<IpAddr> {
    text.parse().map_err(|_| {
        Error::new(
            ErrorKind::Service,
            format!(
                "AWS reported '{}' as the address of {}, which is not an IP address",
                text.escape_debug(),
                instance.label()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(private: Option<&str>, public: Option<&str>) -> Instance {
        crate::instance::sample(Some("web"), private, public)
    }

    #[test]
    fn picks_the_requested_address() {
        let both = instance(Some("10.0.0.5"), Some("3.3.3.3"));
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(choose_address(&both, Via::Private).unwrap(), ip("10.0.0.5"));
        assert_eq!(choose_address(&both, Via::Public).unwrap(), ip("3.3.3.3"));
        assert_eq!(choose_address(&both, Via::Auto).unwrap(), ip("3.3.3.3"));
        let private_only = instance(Some("10.0.0.5"), None);
        assert_eq!(
            choose_address(&private_only, Via::Auto).unwrap(),
            ip("10.0.0.5")
        );
    }

    #[test]
    fn a_name_is_never_dialled() {
        let named = instance(Some("evil.example.com"), None);
        let e = choose_address(&named, Via::Private).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Service);
        assert!(e.message.contains("not an IP address"), "{e:?}");
    }

    #[test]
    fn a_missing_address_says_which_and_what_to_try() {
        let e = choose_address(&instance(Some("10.0.0.5"), None), Via::Public).unwrap_err();
        assert_eq!(e.kind, ErrorKind::NoAddress);
        assert!(e.message.contains("public"), "{e:?}");
        assert_eq!(e.fix, Some(Fix::UseAddress { via: Via::Auto }));
        let e = choose_address(&instance(None, Some("3.3.3.3")), Via::Private).unwrap_err();
        assert_eq!(e.fix, Some(Fix::UseAddress { via: Via::Public }));
        // The hint names no CLI flag: the app shows it too.
        assert!(!e.hint.unwrap().contains("--"));
        // Nothing else to use: no fix to offer.
        let none = choose_address(&instance(None, None), Via::Auto).unwrap_err();
        assert_eq!(none.fix, None);
        assert_eq!("eice".parse::<Via>().unwrap(), Via::Eice);
        assert!("sideways"
            .parse::<Via>()
            .unwrap_err()
            .message
            .contains("sideways"));
    }

    #[test]
    fn routes_follow_what_aws_tools_do() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let both = instance(Some("10.0.0.5"), Some("3.3.3.3"));
        let private_only = instance(Some("10.0.0.5"), None);
        assert_eq!(
            plan_route(&both, Via::Auto).unwrap(),
            RoutePlan::Direct(ip("3.3.3.3"))
        );
        assert_eq!(
            plan_route(&private_only, Via::Auto).unwrap(),
            RoutePlan::Race {
                direct: ip("10.0.0.5"),
                tunnel: ip("10.0.0.5")
            }
        );
        assert_eq!(
            plan_route(&both, Via::Eice).unwrap(),
            RoutePlan::Tunnel(ip("10.0.0.5"))
        );
        let mut v6_only = instance(None, None);
        v6_only.ipv6 = Some("2600:1f18::5".into());
        assert_eq!(
            plan_route(&v6_only, Via::Eice).unwrap(),
            RoutePlan::Tunnel(ip("2600:1f18::5"))
        );
        assert_eq!(
            plan_route(&v6_only, Via::Auto).unwrap(),
            RoutePlan::Direct(ip("2600:1f18::5"))
        );
        let e = plan_route(&instance(None, None), Via::Eice).unwrap_err();
        assert_eq!(e.kind, ErrorKind::NoAddress);
        // A name in an address field is never dialled, whatever the route.
        let named = instance(Some("evil.example.com"), None);
        assert_eq!(
            plan_route(&named, Via::Eice).unwrap_err().kind,
            ErrorKind::Service
        );
    }
}
