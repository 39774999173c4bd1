//! The instances the backend itself has seen AWS report, by AWS profile, region and id. The app
//! connects only to what it finds here (or what `DescribeInstances` returns at connect time), so
//! the webview names an instance but never supplies its address.

use crate::instance::Instance;
use crate::inventory::Inventory;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// `None`: the default credential chain.
pub type AwsProfileKey = Option<String>;

type Key = (AwsProfileKey, String, String);

#[derive(Default)]
pub struct KnownInstances {
    by_key: Mutex<HashMap<Key, Instance>>,
}

impl KnownInstances {
    /// Takes in a listing of `regions`: each region that answered replaces what was known of it
    /// (instances gone from AWS are forgotten); a region that failed keeps its last answer.
    pub fn record_listing(
        &self,
        aws_profile: &AwsProfileKey,
        regions: &[String],
        listed: &Inventory,
    ) {
        let failed = |r: &str| listed.errors.iter().any(|e| e.region == r);
        let mut map = self.lock();
        map.retain(|(p, region, _), _| {
            p != aws_profile || !regions.contains(region) || failed(region)
        });
        for instance in &listed.instances {
            map.insert(
                key(aws_profile, &instance.region, &instance.instance_id),
                instance.clone(),
            );
        }
    }

    /// Takes in instances from a lookup (e.g. a saved profile's target) without forgetting others.
    pub fn record(&self, aws_profile: &AwsProfileKey, found: &[Instance]) {
        let mut map = self.lock();
        for instance in found {
            map.insert(
                key(aws_profile, &instance.region, &instance.instance_id),
                instance.clone(),
            );
        }
    }

    pub fn get(
        &self,
        aws_profile: &AwsProfileKey,
        region: &str,
        instance_id: &str,
    ) -> Option<Instance> {
        self.lock()
            .get(&key(aws_profile, region, instance_id))
            .cloned()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Instance>> {
        self.by_key.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn key(aws_profile: &AwsProfileKey, region: &str, instance_id: &str) -> Key {
    (
        aws_profile.clone(),
        region.to_owned(),
        instance_id.to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::RegionError;

    fn at(region: &str, id: &str) -> Instance {
        Instance {
            region: region.into(),
            instance_id: id.into(),
            ..crate::instance::sample(None, Some("10.0.0.1"), None)
        }
    }

    #[test]
    fn a_listing_replaces_its_regions_and_keeps_failed_ones_and_other_profiles() {
        let known = KnownInstances::default();
        let work = Some("work".to_owned());
        let regions = vec!["eu-west-1".to_owned(), "us-east-1".to_owned()];
        let first = Inventory {
            instances: vec![
                at("eu-west-1", "i-0aaaaaaaaaaaaaaa1"),
                at("us-east-1", "i-0bbbbbbbbbbbbbbb1"),
            ],
            errors: vec![],
        };
        known.record_listing(&work, &regions, &first);
        known.record_listing(&None, &regions, &first);
        let second = Inventory {
            instances: vec![at("eu-west-1", "i-0aaaaaaaaaaaaaaa2")],
            errors: vec![RegionError {
                region: "us-east-1".into(),
                code: "Throttling".into(),
                message: "slow down".into(),
            }],
        };
        known.record_listing(&work, &regions, &second);
        // Gone from eu-west-1's answer: forgotten; us-east-1 failed: kept.
        assert!(known
            .get(&work, "eu-west-1", "i-0aaaaaaaaaaaaaaa1")
            .is_none());
        assert!(known
            .get(&work, "eu-west-1", "i-0aaaaaaaaaaaaaaa2")
            .is_some());
        assert!(known
            .get(&work, "us-east-1", "i-0bbbbbbbbbbbbbbb1")
            .is_some());
        // Keyed by AWS profile and region too.
        assert!(known
            .get(&None, "eu-west-1", "i-0aaaaaaaaaaaaaaa1")
            .is_some());
        assert!(known
            .get(&work, "us-east-1", "i-0aaaaaaaaaaaaaaa2")
            .is_none());
        assert!(known
            .get(&Some("other".into()), "eu-west-1", "i-0aaaaaaaaaaaaaaa2")
            .is_none());
    }
}
