//! A profile's target to the one running instance it means, before any key is pushed, so a
//! profile whose instance is gone or stopped says so first.

use super::model::Profile;
use super::target::Target;
use crate::aws::{AwsContext, AwsFailure};
use crate::error::{Error, ErrorKind, Fix, Result};
use crate::filter::InstanceFilter;
use crate::instance::Instance;

/// The region a profile connects in: its own, else the context's default.
pub fn profile_region(aws: &AwsContext, profile: &Profile) -> Result<String> {
    match &profile.region {
        Some(r) => Ok(r.clone()),
        None => aws.default_region(),
    }
}

/// The instances a target may mean: for an id, that instance (an error unless it is running);
/// for a selector, every running instance whose tags all match (server-side `tag:` filters, then
/// the same wildcard rules applied here).
pub async fn find_candidates(
    aws: &AwsContext,
    region: &str,
    target: &Target,
) -> Result<Vec<Instance>> {
    match target {
        Target::InstanceId(id) => {
            let instance = crate::inventory::resolve_target(aws, region, id).await?;
            if !instance.is_running() {
                return Err(Error::new(
                    ErrorKind::InstanceNotRunning,
                    format!("{} is {}, not running", instance.label(), instance.state),
                )
                .with_fix(Fix::StartInstance));
            }
            Ok(vec![instance])
        }
        Target::Tags(tags) => {
            let mut filter = InstanceFilter {
                tags: tags.clone(),
                ..Default::default()
            };
            filter.add_state("running")?;
            let mut pages = aws
                .ec2(region)
                .describe_instances()
                .set_filters(Some(filter.server_filters()))
                .into_paginator()
                .send();
            let mut found = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| AwsFailure::from_sdk(&e).into_lookup_error(region))?;
                for reservation in page.reservations() {
                    for i in reservation.instances() {
                        let instance = Instance::from_ec2(region, i);
                        if instance.is_running() && target.matches_tags(&instance.tags) {
                            found.push(instance);
                        }
                    }
                }
            }
            found.sort_by(|a, b| {
                (a.name.as_deref(), &a.instance_id).cmp(&(b.name.as_deref(), &b.instance_id))
            });
            Ok(found)
        }
    }
}

/// The running instances a target may mean, never none: no match is `instance_not_found`, a
/// stopped instance `instance_not_running`. Several are for the caller to choose from.
pub async fn running_candidates(
    aws: &AwsContext,
    region: &str,
    target: &Target,
) -> Result<Vec<Instance>> {
    let found = find_candidates(aws, region, target).await?;
    if found.is_empty() {
        return Err(none_running(target, region));
    }
    Ok(found)
}

/// [`running_candidates`] of a saved profile, in its region, after checking every field.
pub async fn profile_candidates(aws: &AwsContext, profile: &Profile) -> Result<Vec<Instance>> {
    profile.validate()?;
    let target = profile.parsed_target()?;
    let region = profile_region(aws, profile)?;
    running_candidates(aws, &region, &target).await
}

/// The one running instance of a profile, or `instance_not_found` / `ambiguous_target` (with the
/// candidates) / `instance_not_running`.
pub async fn resolve_profile_target(aws: &AwsContext, profile: &Profile) -> Result<Instance> {
    let mut found = profile_candidates(aws, profile).await?;
    if found.len() > 1 {
        let region = profile_region(aws, profile)?;
        return Err(ambiguous_error(&profile.parsed_target()?, &region, &found));
    }
    Ok(found.remove(0))
}

pub fn none_running(target: &Target, region: &str) -> Error {
    Error::new(
        ErrorKind::InstanceNotFound,
        format!("no running instance matches '{target}' in {region}"),
    )
    .with_hint(
        "Check the tags, the region and the AWS profile; listing the instances with the same tags \
         shows what this profile can see (stopped instances never match).",
    )
}

/// Several instances match: the error lists them (id, name, private IP, zone).
pub fn ambiguous_error(target: &Target, region: &str, candidates: &[Instance]) -> Error {
    let lines: Vec<String> = candidates.iter().map(candidate_line).collect();
    Error::new(
        ErrorKind::AmbiguousTarget,
        format!(
            "'{target}' matches {} running instances in {region}:\n{}",
            candidates.len(),
            lines.join("\n")
        ),
    )
    .with_hint("Make the selector narrower (add a tag), or save the instance id in the profile.")
}

/// `  i-0abc  web  10.0.0.5  us-east-1a` for lists of candidates.
pub fn candidate_line(i: &Instance) -> String {
    format!(
        "  {}  {}  {}  {}",
        i.instance_id,
        i.display_name(),
        i.private_ip.as_deref().unwrap_or("-"),
        i.availability_zone.as_deref().unwrap_or("-")
    )
}
