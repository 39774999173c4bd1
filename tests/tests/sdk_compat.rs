//! The real aws-sdk-ec2 / aws-sdk-ec2instanceconnect clients against the lab: their requests
//! pass the lab's SigV4 check and the lab's replies (XML, JSON, errors) parse.

mod common;

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{Filter, InstanceStateName};
use common::sdk::{name_tag, static_creds};
use keyless_lab::{Lab, LabOptions};

fn ec2(lab: &Lab, region: &str) -> aws_sdk_ec2::Client {
    common::sdk::ec2(lab, region, static_creds())
}

fn eic(lab: &Lab, region: &str) -> aws_sdk_ec2instanceconnect::Client {
    common::sdk::eic(lab, region, static_creds())
}

#[tokio::test]
async fn describe_instances_pages_parse() {
    let lab = Lab::start(LabOptions {
        extra_instances: 12,
        ..LabOptions::default()
    })
    .await
    .unwrap();
    let client = ec2(&lab, "us-east-1");
    let pages: Vec<_> = client
        .describe_instances()
        .max_results(5)
        .into_paginator()
        .send()
        .collect()
        .await;
    let mut seen = Vec::new();
    for page in pages {
        let page = page.unwrap();
        for r in page.reservations() {
            assert_eq!(r.owner_id(), Some("123456789012"));
            seen.extend(r.instances().iter().cloned());
        }
    }
    let expected: Vec<_> = lab
        .instances()
        .into_iter()
        .filter(|i| i.region == "us-east-1")
        .collect();
    assert_eq!(seen.len(), expected.len());
    for (got, want) in seen.iter().zip(&expected) {
        assert_eq!(got.instance_id(), Some(want.id.as_str()));
        assert_eq!(name_tag(got), want.name.as_deref());
        assert_eq!(
            got.state().and_then(|s| s.name()).map(|n| n.as_str()),
            Some(want.state.as_str())
        );
        assert_eq!(
            got.private_ip_address(),
            Some(want.private_ip.to_string().as_str())
        );
        let public = if want.state == "running" {
            want.public_ip.map(|ip| ip.to_string())
        } else {
            None
        };
        assert_eq!(got.public_ip_address().map(str::to_string), public);
        assert_eq!(
            got.placement().and_then(|p| p.availability_zone()),
            Some(want.az.as_str())
        );
        assert_eq!(got.platform_details(), Some("Linux/UNIX"));
        assert!(got.launch_time().is_some() && got.vpc_id().is_some() && got.subnet_id().is_some());
        assert!(got.instance_type().is_some() && got.image_id().is_some());
        let endpoint = got
            .metadata_options()
            .and_then(|m| m.http_endpoint())
            .map(|e| e.as_str().to_string());
        let want_endpoint = if want.metadata_http_endpoint_enabled {
            "enabled"
        } else {
            "disabled"
        };
        assert_eq!(endpoint.as_deref(), Some(want_endpoint));
    }
    assert!(seen.iter().any(|i| i.ipv6_address().is_some()));

    let running = client
        .describe_instances()
        .filters(
            Filter::builder()
                .name("instance-state-name")
                .values("running")
                .build(),
        )
        .filters(Filter::builder().name("tag:Name").values("web").build())
        .send()
        .await
        .unwrap();
    let n: usize = running
        .reservations()
        .iter()
        .map(|r| r.instances().len())
        .sum();
    assert_eq!(n, 2);
    let state = running.reservations()[0].instances()[0].state().unwrap();
    assert_eq!(
        (state.code(), state.name()),
        (Some(16), Some(&InstanceStateName::Running))
    );
}

#[tokio::test]
async fn ec2_errors_parse() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let client = ec2(&lab, "us-east-1");
    let err = client
        .describe_instances()
        .max_results(3)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterValue"));
    let err = client
        .describe_instances()
        .instance_ids("i-0123456789abcdef0")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidInstanceID.NotFound"));
    lab.deny_region("eu-west-1");
    let err = ec2(&lab, "eu-west-1")
        .describe_instances()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("UnauthorizedOperation"));
    assert!(err.message().unwrap().contains("ec2:DescribeInstances"));
    let err = ec2(&lab, "ap-south-1")
        .describe_instances()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("OptInRequired"));

    let regions = client.describe_regions().send().await.unwrap();
    let names: Vec<_> = regions
        .regions()
        .iter()
        .filter_map(|r| r.region_name())
        .collect();
    assert_eq!(names, ["us-east-1", "eu-west-1"]);
}

#[tokio::test]
async fn send_ssh_public_key_parses() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let client = eic(&lab, "us-east-1");
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMLNutKj9VqC4EZWaaatd6Xaggr1lhZ8qNRFICuIU97";
    let db = lab.instance_named("db-primary");
    let push_to = |client: &aws_sdk_ec2instanceconnect::Client, id: &str| {
        client
            .send_ssh_public_key()
            .instance_id(id)
            .instance_os_user(lab.os_user())
            .ssh_public_key(key)
    };
    let push = || push_to(&client, &db.id);

    let ok = push().send().await.unwrap();
    assert!(ok.success());
    assert_eq!(ok.request_id().map(str::len), Some(36));

    lab.throttle_next_pushes(1);
    let err = push().send().await.unwrap_err().into_service_error();
    assert!(err.is_throttling_exception(), "{err:?}");
    lab.fail_next_pushes(1);
    let err = push().send().await.unwrap_err().into_service_error();
    assert!(err.is_service_exception(), "{err:?}");

    let restricted = lab.instance_named("restricted");
    let err = push_to(&client, &restricted.id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        aws_sdk_ec2instanceconnect::error::ProvideErrorMetadata::code(&err),
        Some("AccessDeniedException")
    );

    let batch = lab.instance_named("batch");
    let err = push_to(&client, &batch.id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_ec2_instance_state_invalid_exception(), "{err:?}");
    let err = push_to(&eic(&lab, "eu-west-1"), &db.id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_ec2_instance_not_found_exception(), "{err:?}");
    let err = push()
        .ssh_public_key("ecdsa-sha2-nistp256 AAAA")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_args_exception(), "{err:?}");
}
