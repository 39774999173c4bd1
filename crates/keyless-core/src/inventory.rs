//! Listing instances: `DescribeInstances` through the paginator, several regions at once (bounded),
//! each region's failure reported on its own so one denied region never hides the others.

use crate::aws::{AwsContext, AwsFailure};
use crate::error::{Error, ErrorKind, Fix, Result};
use crate::filter::InstanceFilter;
use crate::instance::Instance;
use futures::stream::{self, StreamExt};
use serde::Serialize;

/// How many regions are asked at once: enough to hide latency, few enough not to be throttled.
const REGION_CONCURRENCY: usize = 8;
/// The largest page AWS serves; fewer round trips for big fleets.
const PAGE_SIZE: i32 = 1000;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RegionError {
    pub region: String,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Inventory {
    pub instances: Vec<Instance>,
    pub errors: Vec<RegionError>,
}

/// Lists the instances of every region in `regions`, sorted by region, name, then id.
pub async fn list_instances(
    aws: &AwsContext,
    regions: &[String],
    filter: &InstanceFilter,
) -> Inventory {
    let results: Vec<(String, Result<Vec<Instance>, RegionError>)> =
        stream::iter(regions.iter().cloned())
            .map(|region| async move {
                let result = list_region(aws, &region, filter).await;
                (region, result)
            })
            .buffer_unordered(REGION_CONCURRENCY)
            .collect()
            .await;

    let mut inventory = Inventory::default();
    for (_, result) in results {
        match result {
            Ok(mut instances) => inventory.instances.append(&mut instances),
            Err(e) => inventory.errors.push(e),
        }
    }
    inventory.instances.retain(|i| filter.matches_text(i));
    inventory.instances.sort_by(|a, b| {
        (&a.region, a.name.as_deref(), &a.instance_id).cmp(&(
            &b.region,
            b.name.as_deref(),
            &b.instance_id,
        ))
    });
    inventory.errors.sort_by(|a, b| a.region.cmp(&b.region));
    inventory
}

async fn list_region(
    aws: &AwsContext,
    region: &str,
    filter: &InstanceFilter,
) -> Result<Vec<Instance>, RegionError> {
    let client = aws.ec2(region);
    let mut pages = client
        .describe_instances()
        .set_filters(Some(filter.server_filters()))
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            let failure = AwsFailure::from_sdk(&e);
            RegionError {
                region: region.to_owned(),
                code: failure.code.clone().unwrap_or_else(|| {
                    if failure.unreachable {
                        "Unreachable"
                    } else {
                        "Error"
                    }
                    .into()
                }),
                message: failure.message,
            }
        })?;
        for reservation in page.reservations() {
            for instance in reservation.instances() {
                out.push(Instance::from_ec2(region, instance));
            }
        }
    }
    Ok(out)
}

/// The regions enabled for the account (`DescribeRegions`), for "all regions".
pub async fn enabled_regions(aws: &AwsContext) -> Result<Vec<String>> {
    let region = aws.default_region()?;
    let out = aws
        .ec2(&region)
        .describe_regions()
        .send()
        .await
        .map_err(|e| AwsFailure::from_sdk(&e).into_generic_error("listing regions"))?;
    let mut regions: Vec<String> = out
        .regions()
        .iter()
        .filter_map(|r| r.region_name().map(str::to_owned))
        .collect();
    regions.sort();
    Ok(regions)
}

/// Finds the one instance a target names in a region: by id, or by exact Name tag.
/// Terminated instances never match a name; several matches list the candidates.
pub async fn resolve_target(aws: &AwsContext, region: &str, target: &str) -> Result<Instance> {
    crate::validate::target(target)?;
    let by_id = crate::validate::looks_like_instance_id(target);
    let mut filter = InstanceFilter::default();
    let request = aws.ec2(region).describe_instances();
    let request = if by_id {
        request.instance_ids(target)
    } else {
        // The server treats * and ? as wildcards, so the exact comparison happens below.
        filter.tags.push(("Name".into(), target.into()));
        request.set_filters(Some(filter.server_filters()))
    };
    let mut pages = request.into_paginator().send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| target_lookup_error(AwsFailure::from_sdk(&e), region, target))?;
        for reservation in page.reservations() {
            for i in reservation.instances() {
                let instance = Instance::from_ec2(region, i);
                let matches = if by_id {
                    instance.instance_id == target
                } else {
                    instance.name.as_deref() == Some(target) && instance.state != "terminated"
                };
                if matches {
                    found.push(instance);
                }
            }
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(not_found(region, target, by_id)),
        n => {
            let candidates: Vec<String> = found
                .iter()
                .map(|i| {
                    format!(
                        "  {}  {}  {}",
                        i.instance_id,
                        i.state,
                        i.private_ip.as_deref().unwrap_or("-")
                    )
                })
                .collect();
            Err(Error::new(
                ErrorKind::AmbiguousTarget,
                format!(
                    "the name '{target}' matches {n} instances in {region}:\n{}",
                    candidates.join("\n")
                ),
            )
            .with_hint("Connect by instance id instead of the name."))
        }
    }
}

fn not_found(region: &str, target: &str, by_id: bool) -> Error {
    let what = if by_id {
        format!("instance {target} was not found in {region}")
    } else {
        format!("no instance named '{target}' in {region}")
    };
    Error::new(ErrorKind::InstanceNotFound, what)
        .with_hint("Check the region and the AWS profile.")
        .with_fix(Fix::ChooseRegion)
}

fn target_lookup_error(failure: AwsFailure, region: &str, target: &str) -> Error {
    match failure.code.as_deref() {
        Some("InvalidInstanceID.NotFound") | Some("InvalidInstanceID.Malformed") => {
            not_found(region, target, true)
        }
        _ => failure.into_lookup_error(region),
    }
}
