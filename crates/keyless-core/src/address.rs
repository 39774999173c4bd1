//! Which address of an instance to dial. Private is the default: the seed's instances live in
//! private subnets reached over Direct Connect/VPN.

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
    /// Public IPv4 if the instance has one, else private IPv4 (what mssh does).
    Auto,
}

impl FromStr for Via {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "private" => Ok(Via::Private),
            "public" => Ok(Via::Public),
            "auto" => Ok(Via::Auto),
            other => Err(
                Error::invalid(format!("'{other}' is not an address choice"))
                    .with_hint("Use private, public or auto."),
            ),
        }
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Via::Private => "private",
            Via::Public => "public",
            Via::Auto => "auto",
        })
    }
}

/// The address to dial, as an IP literal: never a name to resolve, so what is dialled is exactly
/// what AWS reported for the instance.
pub fn choose_address(instance: &Instance, via: Via) -> Result<IpAddr> {
    let private = instance.private_ip.as_deref();
    let public = instance.public_ip.as_deref();
    let chosen = match via {
        Via::Private => private,
        Via::Public => public,
        Via::Auto => public.or(private),
    };
    let text = chosen.ok_or_else(|| {
        let what = match via {
            Via::Private => "private IPv4 address",
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
                .with_hint("It has a private address (reached over VPN or Direct Connect).")
                .with_fix(Fix::UseAddress { via: Via::Private }),
            _ => e.with_hint("Is the instance running and attached to a network?"),
        }
    })?;
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
        assert_eq!(e.fix, Some(Fix::UseAddress { via: Via::Private }));
        let e = choose_address(&instance(None, Some("3.3.3.3")), Via::Private).unwrap_err();
        assert_eq!(e.fix, Some(Fix::UseAddress { via: Via::Public }));
        // The hint names no CLI flag: the app shows it too.
        assert!(!e.hint.unwrap().contains("--"));
        // Nothing else to use: no fix to offer.
        let none = choose_address(&instance(None, None), Via::Auto).unwrap_err();
        assert_eq!(none.fix, None);
        assert!("sideways"
            .parse::<Via>()
            .unwrap_err()
            .message
            .contains("sideways"));
    }
}
