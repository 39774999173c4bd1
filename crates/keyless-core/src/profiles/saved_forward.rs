//! A port forward saved with a profile: `local port → host:port`, run by the app on the pooled
//! connection (or by `keyless ssh @NAME -N`). Checked with the same rules as `-L`.

use crate::error::Result;
use crate::forward::LocalForwardSpec;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct SavedForward {
    /// The port on this machine (0: any free one).
    pub local_port: u16,
    /// The local address to listen on; `None`: 127.0.0.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    /// As sshd on the instance resolves it (a private DNS name, an IP in the VPC).
    pub host: String,
    pub port: u16,
}

impl SavedForward {
    /// The forward as a `-L` spec; an error says what is wrong, as `-L` would.
    pub fn spec(&self) -> Result<LocalForwardSpec> {
        self.to_string().parse()
    }

    /// The saved form of a spec (no `bind` for the default 127.0.0.1).
    pub fn from_spec(spec: &LocalForwardSpec) -> Self {
        let ip = spec.bind.ip();
        SavedForward {
            local_port: spec.bind.port(),
            bind: (ip != IpAddr::V4(Ipv4Addr::LOCALHOST)).then(|| ip.to_string()),
            host: spec.host.clone(),
            port: spec.port,
        }
    }
}

impl std::fmt::Display for SavedForward {
    /// `[bind:]local_port:host:port`, as `-L` takes it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let br = |s: &str| {
            if s.contains(':') {
                format!("[{s}]")
            } else {
                s.to_owned()
            }
        };
        if let Some(bind) = &self.bind {
            write!(f, "{}:", br(bind))?;
        }
        write!(f, "{}:{}:{}", self.local_port, br(&self.host), self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_forwards_round_trip_through_specs_and_are_checked_as_specs() {
        for text in [
            "5432:db.internal:5432",
            "[::1]:8080:[fd00::5]:80",
            "0.0.0.0:1:h:2",
        ] {
            let spec: LocalForwardSpec = text.parse().unwrap();
            let saved = SavedForward::from_spec(&spec);
            assert_eq!(saved.spec().unwrap(), spec, "{text}");
        }
        let saved = SavedForward::from_spec(&"5432:db:5432".parse().unwrap());
        assert_eq!(saved.bind, None);
        let bad = SavedForward {
            host: "db internal".into(),
            ..saved.clone()
        };
        assert!(bad
            .spec()
            .unwrap_err()
            .message
            .contains("is not a host name"));
        let bad = SavedForward {
            port: 0,
            ..saved.clone()
        };
        assert!(bad.spec().is_err());
        let bad = SavedForward {
            bind: Some("nowhere".into()),
            ..saved
        };
        assert!(bad
            .spec()
            .unwrap_err()
            .message
            .contains("is not a local address"));
    }
}
