//! Where instances were seen running lately, so a connect can dial before its lookup answers
//! (see `speculate.rs`). Written by listings and by successful connects; one JSON file in the
//! cache directory holding, per AWS profile and region, instance ids, Name tags, addresses and
//! when they were seen — nothing secret. Entries older than [`LIFETIME`] are ignored. A wrong
//! entry costs only a wasted attempt: the host key is pinned by instance id.

use crate::error::{Error, ErrorKind, Result};
use crate::instance::Instance;
use crate::known_instances::AwsProfileKey;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Long enough for a working session's reconnects, short enough that addresses rarely move.
pub const LIFETIME: Duration = Duration::from_secs(15 * 60);
/// A bound on the file for very large fleets: the newest sightings are kept.
const MAX_ENTRIES: usize = 5000;
const FILE_NAME: &str = "recent-addresses.json";

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    aws_profile: AwsProfileKey,
    region: String,
    instance_id: String,
    name: Option<String>,
    private_ip: Option<String>,
    public_ip: Option<String>,
    ipv6: Option<String>,
    /// Unix seconds.
    seen: u64,
}

pub struct AddressCache {
    path: PathBuf,
}

impl AddressCache {
    /// `KEYLESS_CACHE_DIR`, else `$XDG_CACHE_HOME/keyless`.
    pub fn open_default() -> Result<Self> {
        Ok(Self::at(&crate::paths::cache_dir()?))
    }

    pub fn at(dir: &Path) -> Self {
        AddressCache {
            path: dir.join(FILE_NAME),
        }
    }

    /// The instance `target` (its id, or a Name tag only one instance had) was lately seen
    /// as, running in `region` under `aws_profile`.
    pub fn recent(
        &self,
        aws_profile: &AwsProfileKey,
        region: &str,
        target: &str,
    ) -> Option<Instance> {
        let now = now_secs();
        let by_id = crate::validate::looks_like_instance_id(target);
        let mut matches = self.read().entries.into_iter().filter(|e| {
            &e.aws_profile == aws_profile
                && e.region == region
                && fresh(e, now)
                && if by_id {
                    e.instance_id == target
                } else {
                    e.name.as_deref() == Some(target)
                }
        });
        let found = matches.next()?;
        // A name several instances had is no guess to dial.
        matches.next().is_none().then(|| found.into_instance())
    }

    /// Takes in instances just seen under `aws_profile`: running ones are (re)recorded, any other
    /// state forgets the id.
    pub fn record(&self, aws_profile: &AwsProfileKey, seen: &[Instance]) -> Result<()> {
        let now = now_secs();
        let mut file = self.read();
        file.entries.retain(|e| {
            fresh(e, now)
                && !seen.iter().any(|i| {
                    &e.aws_profile == aws_profile
                        && i.region == e.region
                        && i.instance_id == e.instance_id
                })
        });
        let running = seen.iter().filter(|i| i.is_running());
        file.entries
            .extend(running.map(|i| Entry::of(aws_profile, i, now)));
        if file.entries.len() > MAX_ENTRIES {
            file.entries.sort_by_key(|e| std::cmp::Reverse(e.seen));
            file.entries.truncate(MAX_ENTRIES);
        }
        self.write(&file)
    }

    /// A missing or unreadable file is an empty cache: it only ever saves time.
    fn read(&self) -> CacheFile {
        std::fs::read(&self.path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    fn write(&self, file: &CacheFile) -> Result<()> {
        let io = |what: &str, e: std::io::Error| {
            Error::new(
                ErrorKind::Io,
                format!("cannot {what} {}: {e}", self.path.display()),
            )
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| io("create the folder of", e))?;
        let text = serde_json::to_vec(file)
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot encode the cache: {e}")))?;
        // Written aside and renamed, so a reader never sees half a file.
        let tmp = dir.join(format!(".{FILE_NAME}.{}", std::process::id()));
        std::fs::write(&tmp, text).map_err(|e| io("write", e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io("write", e)
        })
    }
}

impl Entry {
    fn of(aws_profile: &AwsProfileKey, i: &Instance, now: u64) -> Entry {
        Entry {
            aws_profile: aws_profile.clone(),
            region: i.region.clone(),
            instance_id: i.instance_id.clone(),
            name: i.name.clone(),
            private_ip: i.private_ip.clone(),
            public_ip: i.public_ip.clone(),
            ipv6: i.ipv6.clone(),
            seen: now,
        }
    }

    /// Only what a speculative dial needs; the lookup supplies the rest.
    fn into_instance(self) -> Instance {
        Instance {
            instance_id: self.instance_id,
            name: self.name,
            state: "running".into(),
            region: self.region,
            availability_zone: None,
            private_ip: self.private_ip,
            public_ip: self.public_ip,
            ipv6: self.ipv6,
            vpc_id: None,
            subnet_id: None,
            instance_type: None,
            platform: None,
            launch_time: None,
            metadata_endpoint: None,
            tags: Default::default(),
        }
    }
}

fn fresh(e: &Entry, now: u64) -> bool {
    e.seen <= now && now - e.seen < LIFETIME.as_secs()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(id: &str, name: &str, ip: &str, state: &str) -> Instance {
        Instance {
            instance_id: id.into(),
            state: state.into(),
            ..crate::instance::sample(Some(name), Some(ip), None)
        }
    }

    #[test]
    fn finds_recent_sightings_by_id_or_unique_name_per_profile_and_region() {
        let dir = tempfile::tempdir().unwrap();
        let cache = AddressCache::at(dir.path());
        let work = Some("work".to_owned());
        let (a, b) = ("i-0aaaaaaaaaaaaaaa1", "i-0bbbbbbbbbbbbbbb2");
        cache
            .record(
                &work,
                &[
                    seen(a, "web", "10.0.0.1", "running"),
                    seen(b, "db", "10.0.0.2", "running"),
                ],
            )
            .unwrap();
        let web = cache.recent(&work, "us-east-1", "web").unwrap();
        assert_eq!(
            (web.instance_id.as_str(), web.private_ip.as_deref()),
            (a, Some("10.0.0.1"))
        );
        assert_eq!(
            cache.recent(&work, "us-east-1", b).unwrap().name.as_deref(),
            Some("db")
        );
        assert!(cache.recent(&None, "us-east-1", "web").is_none());
        assert!(cache.recent(&work, "eu-west-1", "web").is_none());
        // Stopped since: forgotten. A name two instances share: no guess.
        cache
            .record(&work, &[seen(b, "db", "10.0.0.2", "stopped")])
            .unwrap();
        assert!(cache.recent(&work, "us-east-1", b).is_none());
        let c = "i-0ccccccccccccccc3";
        cache
            .record(&work, &[seen(c, "web", "10.0.0.3", "running")])
            .unwrap();
        assert!(cache.recent(&work, "us-east-1", "web").is_none());
        assert!(cache.recent(&work, "us-east-1", a).is_some());
    }

    #[test]
    fn old_entries_and_broken_files_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = AddressCache::at(dir.path());
        std::fs::write(dir.path().join(FILE_NAME), "{not json").unwrap();
        assert!(cache.recent(&None, "us-east-1", "web").is_none());
        let id = "i-0aaaaaaaaaaaaaaa1";
        cache
            .record(&None, &[seen(id, "web", "10.0.0.1", "running")])
            .unwrap();
        let mut file = cache.read();
        file.entries[0].seen -= LIFETIME.as_secs();
        cache.write(&file).unwrap();
        assert!(cache.recent(&None, "us-east-1", id).is_none());
    }
}
