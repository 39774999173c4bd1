//! Finding the VPC's EC2 Instance Connect Endpoint: `DescribeInstanceConnectEndpoints` filtered by
//! VPC (AWS allows one endpoint per VPC, so one page is the rule), asked once per (region, VPC) for
//! the life of an [`AwsContext`]: every connect through a tunnel needs it, and it rarely changes.

use crate::aws::{AwsContext, AwsFailure};
use crate::error::{Error, ErrorKind, Result};
use aws_sdk_ec2::types::Filter;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// `MaxResults` allows 1–50.
const PAGE_SIZE: i32 = 50;

/// The states in which an endpoint accepts tunnels.
const USABLE_STATES: [&str; 3] = ["create-complete", "update-complete", "update-in-progress"];

/// An EC2 Instance Connect Endpoint, as `DescribeInstanceConnectEndpoints` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `eice-…`
    pub id: String,
    pub vpc_id: String,
    pub subnet_id: Option<String>,
    /// The host the tunnel's WebSocket goes to.
    pub dns_name: String,
    pub fips_dns_name: Option<String>,
    pub state: String,
}

impl Endpoint {
    pub fn is_usable(&self) -> bool {
        USABLE_STATES.contains(&self.state.as_str())
    }

    fn from_ec2(e: &aws_sdk_ec2::types::Ec2InstanceConnectEndpoint) -> Option<Self> {
        Some(Endpoint {
            id: e.instance_connect_endpoint_id()?.to_owned(),
            vpc_id: e.vpc_id().unwrap_or_default().to_owned(),
            subnet_id: e.subnet_id().map(str::to_owned),
            dns_name: e.dns_name().unwrap_or_default().to_owned(),
            fips_dns_name: e.fips_dns_name().map(str::to_owned),
            state: e.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        })
    }
}

/// (region, VPC id) → its endpoints.
type ByVpc = HashMap<(String, String), Vec<Endpoint>>;

/// The endpoints of each (region, VPC) seen so far. Clones share it (it lives in `AwsContext`).
#[derive(Debug, Clone, Default)]
pub struct EndpointCache {
    by_vpc: Arc<Mutex<ByVpc>>,
}

impl EndpointCache {
    fn lock(&self) -> MutexGuard<'_, ByVpc> {
        self.by_vpc.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The usable endpoint of `instance`'s VPC, or the error that says why there is none.
pub async fn endpoint_of(aws: &AwsContext, instance: &crate::Instance) -> Result<Endpoint> {
    let region = &instance.region;
    let vpc = instance.vpc_id.as_deref().ok_or_else(|| {
        Error::new(
            ErrorKind::NoEndpoint,
            format!(
                "{} is in no VPC, so no EC2 Instance Connect Endpoint can reach it",
                instance.label()
            ),
        )
    })?;
    endpoint_for(aws, region, vpc, instance.subnet_id.as_deref())
        .await?
        .ok_or_else(|| no_endpoint(&instance.label(), vpc, region))
}

/// The endpoint to tunnel through to an instance in `vpc_id` (and `subnet_id`, preferred when the
/// VPC somehow has several). `Ok(None)`: the VPC has none. Only an endpoint in a usable state is
/// returned; one being created, deleted or failed is an `endpoint_not_ready` error.
pub async fn endpoint_for(
    aws: &AwsContext,
    region: &str,
    vpc_id: &str,
    subnet_id: Option<&str>,
) -> Result<Option<Endpoint>> {
    let key = (region.to_owned(), vpc_id.to_owned());
    let cached = aws.eice_endpoints().lock().get(&key).cloned();
    let endpoints = match cached {
        Some(endpoints) => endpoints,
        None => {
            let found = describe(aws, region, vpc_id).await?;
            // A VPC whose only endpoint is not ready yet is asked again next time.
            if found.is_empty() || found.iter().any(Endpoint::is_usable) {
                aws.eice_endpoints().lock().insert(key, found.clone());
            }
            found
        }
    };
    choose(&endpoints, subnet_id)
}

/// The usable endpoint, the one in `subnet_id` first; else why none is usable.
fn choose(endpoints: &[Endpoint], subnet_id: Option<&str>) -> Result<Option<Endpoint>> {
    let usable: Vec<&Endpoint> = endpoints.iter().filter(|e| e.is_usable()).collect();
    let in_subnet = usable
        .iter()
        .find(|e| subnet_id.is_some() && e.subnet_id.as_deref() == subnet_id);
    if let Some(best) = in_subnet.or(usable.first()) {
        return Ok(Some((*best).clone()));
    }
    match endpoints.first() {
        None => Ok(None),
        Some(e) => Err(not_ready(e)),
    }
}

async fn describe(aws: &AwsContext, region: &str, vpc_id: &str) -> Result<Vec<Endpoint>> {
    let mut pages = aws
        .ec2(region)
        .describe_instance_connect_endpoints()
        .filters(Filter::builder().name("vpc-id").values(vpc_id).build())
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| describe_error(AwsFailure::from_sdk(&e), region, vpc_id))?;
        found.extend(
            page.instance_connect_endpoints()
                .iter()
                .filter_map(Endpoint::from_ec2)
                // The filter is the server's; an endpoint of another VPC is no use here.
                .filter(|e| e.vpc_id == vpc_id),
        );
    }
    Ok(found)
}

fn describe_error(failure: AwsFailure, region: &str, vpc_id: &str) -> Error {
    match failure.code.as_deref() {
        Some("UnauthorizedOperation") if failure.ours.is_none() => Error::new(
            ErrorKind::AccessDenied,
            format!(
                "not allowed to look up the EC2 Instance Connect Endpoint of {vpc_id} in \
                 {region}: {}",
                failure.message
            ),
        )
        .with_hint(
            "Your IAM policy needs ec2:DescribeInstanceConnectEndpoints in this region to \
             tunnel through an endpoint.",
        ),
        _ => failure.into_lookup_error(region),
    }
}

fn not_ready(e: &Endpoint) -> Error {
    Error::new(
        ErrorKind::EndpointNotReady,
        format!(
            "the EC2 Instance Connect Endpoint {} of {} is {}, not ready for tunnels",
            e.id, e.vpc_id, e.state
        ),
    )
    .with_hint(
        "An endpoint takes a few minutes to create: wait until its state is create-complete and \
         connect again. A failed or deleted endpoint must be created anew.",
    )
}

/// The error for a VPC without an endpoint, naming how to create one.
pub fn no_endpoint(instance_label: &str, vpc_id: &str, region: &str) -> Error {
    Error::new(
        ErrorKind::NoEndpoint,
        format!(
            "{instance_label} is in {vpc_id}, which has no EC2 Instance Connect Endpoint in \
             {region}"
        ),
    )
    .with_hint(format!(
        "Create one in a subnet of that VPC (aws ec2 create-instance-connect-endpoint \
         --region {region} --subnet-id subnet-…; its security group must reach port 22 of the \
         instance), or connect through an address this machine can route to."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(id: &str, subnet: &str, state: &str) -> Endpoint {
        Endpoint {
            id: id.into(),
            vpc_id: "vpc-1".into(),
            subnet_id: Some(subnet.into()),
            dns_name: format!("{id}.ec2-instance-connect-endpoint.eu-west-1.amazonaws.com"),
            fips_dns_name: None,
            state: state.into(),
        }
    }

    #[test]
    fn the_usable_endpoint_in_the_instances_subnet_is_preferred() {
        let all = [
            endpoint("eice-a", "subnet-a", "create-complete"),
            endpoint("eice-b", "subnet-b", "update-in-progress"),
            endpoint("eice-c", "subnet-c", "create-in-progress"),
        ];
        let pick = |s| choose(&all, s).unwrap().unwrap().id;
        assert_eq!(pick(Some("subnet-b")), "eice-b");
        assert_eq!(pick(Some("subnet-c")), "eice-a", "not ready: not chosen");
        assert_eq!(pick(None), "eice-a");
    }

    #[test]
    fn only_unusable_endpoints_name_the_state_and_none_is_no_endpoint() {
        let e = choose(
            &[endpoint("eice-x", "subnet-a", "delete-in-progress")],
            None,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::EndpointNotReady);
        assert!(e.message.contains("eice-x"), "{}", e.message);
        assert!(e.message.contains("delete-in-progress"), "{}", e.message);
        assert_eq!(choose(&[], Some("subnet-a")).unwrap(), None);
    }

    #[test]
    fn no_endpoint_says_how_to_create_one() {
        let e = no_endpoint("db (i-0abc)", "vpc-9", "eu-west-1");
        assert_eq!(e.kind, ErrorKind::NoEndpoint);
        assert!(e.message.contains("vpc-9"));
        assert!(e.hint.unwrap().contains("create-instance-connect-endpoint"));
    }
}
