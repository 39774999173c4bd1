//! DescribeInstances request parameters: `Filter.N.Name` / `Filter.N.Value.M` and `InstanceId.N`,
//! and how a filter matches an instance (values ORed, filters ANDed, `*`/`?` wildcards).

use std::collections::BTreeMap;

use crate::catalogue::{Instance, InstanceState};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub name: String,
    pub values: Vec<String>,
}

/// Collects `Prefix.N` values in N order.
pub fn numbered(params: &[(String, String)], prefix: &str) -> Vec<String> {
    let mut by_n: BTreeMap<u32, String> = BTreeMap::new();
    for (k, v) in params {
        if let Some(n) = k
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('.'))
            .and_then(|n| n.parse().ok())
        {
            by_n.insert(n, v.clone());
        }
    }
    by_n.into_values().collect()
}

/// Collects DescribeInstances filters; `Err(message)` for an unknown filter name.
pub fn parse(params: &[(String, String)]) -> Result<Vec<Filter>, String> {
    parse_with(params, known)
}

/// Collects filters of an action whose filter names `known` accepts.
pub fn parse_with(
    params: &[(String, String)],
    known: fn(&str) -> bool,
) -> Result<Vec<Filter>, String> {
    let mut by_n: BTreeMap<u32, Filter> = BTreeMap::new();
    for (k, v) in params {
        let Some(rest) = k.strip_prefix("Filter.") else {
            continue;
        };
        let Some((n, field)) = rest.split_once('.') else {
            continue;
        };
        let Ok(n) = n.parse::<u32>() else { continue };
        let f = by_n.entry(n).or_insert_with(|| Filter {
            name: String::new(),
            values: Vec::new(),
        });
        if field == "Name" {
            f.name = v.clone();
        } else if field.starts_with("Value.") {
            f.values.push(v.clone());
        }
    }
    let filters: Vec<Filter> = by_n.into_values().collect();
    for f in &filters {
        if !known(&f.name) {
            return Err(format!("The filter '{}' is invalid", f.name));
        }
    }
    Ok(filters)
}

fn known(name: &str) -> bool {
    matches!(
        name,
        "instance-state-name"
            | "instance-id"
            | "tag-key"
            | "private-ip-address"
            | "ip-address"
            | "availability-zone"
            | "vpc-id"
            | "subnet-id"
            | "instance-type"
    ) || name.strip_prefix("tag:").is_some_and(|k| !k.is_empty())
}

pub fn matches_all(filters: &[Filter], i: &Instance) -> bool {
    filters.iter().all(|f| matches(f, i))
}

fn matches(f: &Filter, i: &Instance) -> bool {
    let candidates: Vec<String> = match f.name.as_str() {
        "instance-state-name" => vec![i.state.name().into()],
        "instance-id" => vec![i.id.clone()],
        "tag-key" => i.tags.iter().map(|(k, _)| k.clone()).collect(),
        "private-ip-address" => vec![i.private_ip.to_string()],
        "ip-address" => i
            .public_ip
            .filter(|_| i.state == InstanceState::Running)
            .map(|ip| ip.to_string())
            .into_iter()
            .collect(),
        "availability-zone" => vec![i.az.clone()],
        "vpc-id" => vec![i.vpc_id.clone()],
        "subnet-id" => vec![i.subnet_id.clone()],
        "instance-type" => vec![i.instance_type.into()],
        name => tag_values(&i.tags, name),
    };
    any_matches(f, &candidates)
}

/// For a `tag:KEY` filter name: the values of KEY among `tags` (none for any other name).
pub(crate) fn tag_values(tags: &[(String, String)], filter_name: &str) -> Vec<String> {
    match filter_name.strip_prefix("tag:") {
        Some(key) => tags
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect(),
        None => Vec::new(),
    }
}

/// True when one of the filter's values (with `*`/`?` wildcards) matches one candidate.
pub(crate) fn any_matches(f: &Filter, candidates: &[String]) -> bool {
    f.values
        .iter()
        .any(|pat| candidates.iter().any(|c| wildcard(pat, c)))
}

/// `*` = any run of characters, `?` = exactly one; everything else literal.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard("web", "web"));
        assert!(wildcard("w*", "web"));
        assert!(wildcard("*", ""));
        assert!(wildcard("c?fé-*", "café-α"));
        assert!(!wildcard("web", "web2"));
        assert!(!wildcard("?", ""));
        assert!(wildcard("*-primary", "db-primary"));
    }

    #[test]
    fn parses_filters() {
        let p = |k: &str, v: &str| (k.to_string(), v.to_string());
        let params = vec![
            p("Filter.2.Name", "tag:Env"),
            p("Filter.2.Value.1", "prod"),
            p("Filter.1.Name", "instance-state-name"),
            p("Filter.1.Value.1", "running"),
        ];
        let f = parse(&params).unwrap();
        assert_eq!(f[0].name, "instance-state-name");
        assert_eq!(f[1].values, vec!["prod"]);
        assert!(parse(&[p("Filter.1.Name", "bogus")]).is_err());
    }
}
