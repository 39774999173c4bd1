//! The instance model Keyless shows and connects to, made from one `DescribeInstances` item.

use aws_sdk_ec2::types::Instance as Ec2Instance;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Instance {
    pub instance_id: String,
    /// The Name tag. `None` when there is no such tag, `Some("")` when it is set to empty.
    pub name: Option<String>,
    pub state: String,
    pub region: String,
    pub availability_zone: Option<String>,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    pub ipv6: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub instance_type: Option<String>,
    /// `PlatformDetails`, e.g. "Linux/UNIX", "Windows", "Red Hat Enterprise Linux".
    pub platform: Option<String>,
    /// RFC 3339.
    pub launch_time: Option<String>,
    /// `MetadataOptions.HttpEndpoint`: "enabled" or "disabled". EC2 Instance Connect needs it on.
    pub metadata_endpoint: Option<String>,
    pub tags: BTreeMap<String, String>,
}

impl Instance {
    pub fn from_ec2(region: &str, i: &Ec2Instance) -> Self {
        let tags: BTreeMap<String, String> = i
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned())))
            .collect();
        Instance {
            instance_id: i.instance_id().unwrap_or_default().to_owned(),
            name: tags.get("Name").cloned(),
            state: i
                .state()
                .and_then(|s| s.name())
                .map(|n| n.as_str().to_owned())
                .unwrap_or_else(|| "unknown".into()),
            region: region.to_owned(),
            availability_zone: i
                .placement()
                .and_then(|p| p.availability_zone())
                .map(str::to_owned),
            private_ip: i.private_ip_address().map(str::to_owned),
            public_ip: i.public_ip_address().map(str::to_owned),
            ipv6: i.ipv6_address().map(str::to_owned),
            vpc_id: i.vpc_id().map(str::to_owned),
            subnet_id: i.subnet_id().map(str::to_owned),
            instance_type: i.instance_type().map(|t| t.as_str().to_owned()),
            platform: i.platform_details().map(str::to_owned),
            launch_time: i
                .launch_time()
                .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()),
            metadata_endpoint: i
                .metadata_options()
                .and_then(|m| m.http_endpoint())
                .map(|e| e.as_str().to_owned()),
            tags,
        }
    }

    pub fn is_running(&self) -> bool {
        self.state == "running"
    }

    /// `instance_not_running` (with the Start fix) unless it runs: nothing reaches it otherwise.
    pub fn ensure_running(&self) -> crate::error::Result<()> {
        if self.is_running() {
            return Ok(());
        }
        Err(crate::error::Error::new(
            crate::error::ErrorKind::InstanceNotRunning,
            format!("{} is {}, not running", self.label(), self.state),
        )
        .with_fix(crate::error::Fix::StartInstance))
    }

    /// The name to show: the Name tag, or a marker when there is none.
    pub fn display_name(&self) -> &str {
        match self.name.as_deref() {
            Some("") => "(empty name)",
            Some(n) => n,
            None => "(no name)",
        }
    }

    /// "i-0abc (web)" for messages.
    pub fn label(&self) -> String {
        match self.name.as_deref() {
            Some(n) if !n.is_empty() => format!("{} ({n})", self.instance_id),
            _ => self.instance_id.clone(),
        }
    }

    pub fn metadata_disabled(&self) -> bool {
        self.metadata_endpoint.as_deref() == Some("disabled")
    }
}

/// A running instance with the given addresses, for unit tests.
#[cfg(test)]
pub(crate) fn sample(name: Option<&str>, private: Option<&str>, public: Option<&str>) -> Instance {
    Instance {
        instance_id: "i-0123456789abcdef0".into(),
        name: name.map(Into::into),
        state: "running".into(),
        region: "us-east-1".into(),
        availability_zone: None,
        private_ip: private.map(Into::into),
        public_ip: public.map(Into::into),
        ipv6: None,
        vpc_id: None,
        subnet_id: None,
        instance_type: None,
        platform: None,
        launch_time: None,
        metadata_endpoint: None,
        tags: Default::default(),
    }
}
