//! JSON export and import. Export: `{"schema_version": 1, "profiles": [...]}`. Import merges by
//! name: new names are added, known names take the imported settings (keeping the later
//! `last_used`), identical ones are left alone, and invalid entries are rejected one by one with
//! the reason; the rest still go in.

use super::model::Profile;
use super::store::{ProfileStore, SCHEMA_VERSION};
use crate::error::{Error, Result};
use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportReport {
    pub added: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
    pub rejected: Vec<Rejected>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Rejected {
    /// The entry's name, or `#N` (1-based) when it has none.
    pub entry: String,
    pub reason: String,
}

#[derive(Serialize)]
struct Export<'a> {
    schema_version: i64,
    profiles: &'a [Profile],
}

impl ProfileStore {
    pub fn export_json(&self) -> Result<String> {
        let profiles = self.list()?;
        let out = serde_json::to_string_pretty(&Export {
            schema_version: SCHEMA_VERSION,
            profiles: &profiles,
        })
        .map_err(|e| Error::invalid(format!("cannot export: {e}")))?;
        Ok(out + "\n")
    }

    /// Merges `json` (an export, or a bare array of profiles) by name, in one locked write.
    pub fn import_json(&self, json: &str) -> Result<ImportReport> {
        let entries = parse_entries(json)?;
        self.rewrite(|profiles| {
            let mut report = ImportReport::default();
            let mut seen = std::collections::HashSet::new();
            for (i, entry) in entries.into_iter().enumerate() {
                let label = entry
                    .get("name")
                    .and_then(|n| n.as_str())
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("#{}", i + 1));
                let reject = |reason: String| Rejected {
                    entry: label.clone(),
                    reason,
                };
                let incoming: Profile = match serde_json::from_value(entry) {
                    Ok(p) => p,
                    Err(e) => {
                        report.rejected.push(reject(e.to_string()));
                        continue;
                    }
                };
                if let Err(e) = incoming.validate() {
                    report.rejected.push(reject(e.message));
                    continue;
                }
                if !seen.insert(incoming.name.clone()) {
                    report
                        .rejected
                        .push(reject("the name appears twice in the import".into()));
                    continue;
                }
                match profiles.iter_mut().find(|p| p.name == incoming.name) {
                    None => {
                        report.added.push(incoming.name.clone());
                        profiles.push(incoming);
                    }
                    Some(existing) if existing.same_settings(&incoming) => {
                        if incoming.last_used > existing.last_used {
                            existing.last_used = incoming.last_used;
                        }
                        report.unchanged.push(incoming.name);
                    }
                    Some(existing) => {
                        let last_used = existing.last_used.clone().max(incoming.last_used.clone());
                        report.updated.push(incoming.name.clone());
                        *existing = Profile {
                            last_used,
                            ..incoming
                        };
                    }
                }
            }
            Ok(report)
        })
    }
}

fn parse_entries(json: &str) -> Result<Vec<serde_json::Value>> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
        Error::invalid(format!(
            "the import is not valid JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        ))
        .with_hint("Import a file made by Keyless's profile export.")
    })?;
    let wrong_shape = || {
        Error::invalid("the import has no \"profiles\" array")
            .with_hint("Import a file made by Keyless's profile export.")
    };
    match value {
        serde_json::Value::Array(items) => Ok(items),
        serde_json::Value::Object(mut map) => {
            if let Some(v) = map.get("schema_version").and_then(|v| v.as_i64()) {
                if v > SCHEMA_VERSION {
                    return Err(Error::invalid(format!(
                        "the import has schema_version {v}; this Keyless reads {SCHEMA_VERSION}"
                    ))
                    .with_hint("Upgrade Keyless to import it."));
                }
            }
            match map.remove("profiles") {
                Some(serde_json::Value::Array(items)) => Ok(items),
                _ => Err(wrong_shape()),
            }
        }
        _ => Err(wrong_shape()),
    }
}
