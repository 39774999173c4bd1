//! Instance filters. State and tag filters go to `DescribeInstances` so AWS does the work and
//! fewer pages come back; the free-text search runs locally on the results.

use crate::error::{Error, Result};
use crate::instance::Instance;
use aws_sdk_ec2::types::Filter;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceFilter {
    /// `instance-state-name` values, e.g. "running".
    pub states: Vec<String>,
    /// `tag:KEY=VALUE`; `*` and `?` are wildcards, as in AWS.
    pub tags: Vec<(String, String)>,
    /// Case-insensitive substring of the name, id, or any IP address.
    pub text: Option<String>,
}

const STATES: [&str; 6] = [
    "pending",
    "running",
    "shutting-down",
    "terminated",
    "stopping",
    "stopped",
];

impl InstanceFilter {
    pub fn add_state(&mut self, state: &str) -> Result<()> {
        if !STATES.contains(&state) {
            return Err(
                Error::invalid(format!("'{state}' is not an instance state"))
                    .with_hint(format!("Use one of: {}.", STATES.join(", "))),
            );
        }
        self.states.push(state.to_owned());
        Ok(())
    }

    /// Parses `KEY=VALUE` (the value may be empty or use wildcards).
    pub fn add_tag(&mut self, spec: &str) -> Result<()> {
        match spec.split_once('=') {
            Some((key, value)) if !key.is_empty() => {
                self.tags.push((key.to_owned(), value.to_owned()));
                Ok(())
            }
            _ => Err(
                Error::invalid(format!("'{spec}' is not a KEY=VALUE tag filter"))
                    .with_hint("For example --filter Env=prod or --filter Name=web-*."),
            ),
        }
    }

    pub(crate) fn server_filters(&self) -> Vec<Filter> {
        let mut out = Vec::new();
        if !self.states.is_empty() {
            out.push(
                Filter::builder()
                    .name("instance-state-name")
                    .set_values(Some(self.states.clone()))
                    .build(),
            );
        }
        for (key, value) in &self.tags {
            out.push(
                Filter::builder()
                    .name(format!("tag:{key}"))
                    .values(value)
                    .build(),
            );
        }
        out
    }

    pub fn matches_text(&self, instance: &Instance) -> bool {
        let Some(needle) = self.text.as_deref().map(str::to_lowercase) else {
            return true;
        };
        let fields = [
            Some(instance.instance_id.as_str()),
            instance.name.as_deref(),
            instance.private_ip.as_deref(),
            instance.public_ip.as_deref(),
            instance.ipv6.as_deref(),
        ];
        fields
            .into_iter()
            .flatten()
            .any(|f| f.to_lowercase().contains(&needle))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(id: &str, name: Option<&str>, ip: &str) -> Instance {
        Instance {
            instance_id: id.into(),
            ..crate::instance::sample(name, Some(ip), None)
        }
    }

    #[test]
    fn text_matches_name_id_and_ip_case_insensitively() {
        let f = InstanceFilter {
            text: Some("WEB".into()),
            ..Default::default()
        };
        assert!(f.matches_text(&instance("i-01", Some("web-1"), "10.0.0.1")));
        assert!(!f.matches_text(&instance("i-02", None, "10.0.0.2")));
        let by_ip = InstanceFilter {
            text: Some("10.0.0.2".into()),
            ..Default::default()
        };
        assert!(by_ip.matches_text(&instance("i-02", None, "10.0.0.2")));
        let by_name = InstanceFilter {
            text: Some("café".into()),
            ..Default::default()
        };
        assert!(by_name.matches_text(&instance("i-03", Some("Café-α"), "10.0.0.3")));
    }

    #[test]
    fn bad_filters_are_rejected_with_the_value() {
        let mut f = InstanceFilter::default();
        assert!(f
            .add_state("runing")
            .unwrap_err()
            .message
            .contains("'runing'"));
        assert!(f.add_tag("Env").unwrap_err().message.contains("'Env'"));
        assert!(f.add_tag("=x").is_err());
        f.add_tag("Env=").unwrap();
        f.add_tag("Name=web-*").unwrap();
        f.add_state("running").unwrap();
        assert_eq!(f.server_filters().len(), 3);
    }
}
