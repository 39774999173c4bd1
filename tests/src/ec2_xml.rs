//! EC2 Query-protocol XML, with the element names aws-sdk-ec2's deserializers read
//! (`protocol_serde/shape_instance.rs`, `shape_reservation.rs`, `shape_region.rs`,
//! `ec2_query_errors.rs`).

use std::fmt::Write;

use crate::catalogue::{Instance, InstanceState};
use crate::timefmt::iso8601;

const XMLNS: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // A tag value may hold any character (EC2 allows them all); XML 1.0 has no raw form
            // for most controls, so they travel as character references.
            c if c.is_control() => out.push_str(&format!("&#x{:x};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// `<name>value</name>`, escaped.
fn el(out: &mut String, name: &str, value: &str) {
    let _ = write!(out, "<{name}>{}</{name}>", escape(value));
}

pub fn error(code: &str, message: &str, request_id: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>{}</RequestID></Response>",
        escape(code),
        escape(message),
        escape(request_id)
    )
}

fn dns_suffix(region: &str) -> String {
    if region == "us-east-1" {
        "ec2.internal".into()
    } else {
        format!("{region}.compute.internal")
    }
}

fn public_dns(region: &str, ip: std::net::Ipv4Addr) -> String {
    let dashed = ip.to_string().replace('.', "-");
    if region == "us-east-1" {
        format!("ec2-{dashed}.compute-1.amazonaws.com")
    } else {
        format!("ec2-{dashed}.{region}.compute.amazonaws.com")
    }
}

fn instance(out: &mut String, i: &Instance) {
    let running = i.state == InstanceState::Running;
    out.push_str("<item>");
    el(out, "instanceId", &i.id);
    el(out, "imageId", &i.image_id);
    let _ = write!(
        out,
        "<instanceState><code>{}</code><name>{}</name></instanceState>",
        i.state.code(),
        i.state.name()
    );
    let private_dns = format!(
        "ip-{}.{}",
        i.private_ip.to_string().replace('.', "-"),
        dns_suffix(&i.region)
    );
    el(out, "privateDnsName", &private_dns);
    // Stopped instances lose their public address (and DNS name), as on AWS.
    let public_ip = i.public_ip.filter(|_| running);
    el(
        out,
        "dnsName",
        &public_ip
            .map(|ip| public_dns(&i.region, ip))
            .unwrap_or_default(),
    );
    if i.state == InstanceState::Stopped {
        el(out, "reason", "User initiated");
    }
    el(out, "amiLaunchIndex", "0");
    out.push_str("<productCodes/>");
    el(out, "instanceType", i.instance_type);
    el(out, "launchTime", &iso8601(i.launch_time));
    let _ = write!(
        out,
        "<placement><availabilityZone>{}</availabilityZone><groupName></groupName><tenancy>default</tenancy></placement>",
        escape(&i.az)
    );
    out.push_str("<monitoring><state>disabled</state></monitoring>");
    el(out, "subnetId", &i.subnet_id);
    el(out, "vpcId", &i.vpc_id);
    el(out, "privateIpAddress", &i.private_ip.to_string());
    if let Some(ip) = public_ip {
        el(out, "ipAddress", &ip.to_string());
    }
    out.push_str("<sourceDestCheck>true</sourceDestCheck>");
    out.push_str("<groupSet><item><groupId>sg-0lab00000000000001</groupId><groupName>default</groupName></item></groupSet>");
    el(out, "architecture", i.architecture);
    el(out, "rootDeviceType", "ebs");
    el(out, "rootDeviceName", "/dev/xvda");
    el(out, "virtualizationType", "hvm");
    if !i.tags.is_empty() {
        out.push_str("<tagSet>");
        for (k, v) in &i.tags {
            out.push_str("<item>");
            el(out, "key", k);
            el(out, "value", v);
            out.push_str("</item>");
        }
        out.push_str("</tagSet>");
    }
    el(out, "hypervisor", "xen");
    el(out, "ebsOptimized", "false");
    el(out, "enaSupport", "true");
    let _ = write!(
        out,
        "<metadataOptions><state>applied</state><httpTokens>required</httpTokens><httpPutResponseHopLimit>2</httpPutResponseHopLimit><httpEndpoint>{}</httpEndpoint><httpProtocolIpv6>disabled</httpProtocolIpv6><instanceMetadataTags>disabled</instanceMetadataTags></metadataOptions>",
        if i.imds_enabled { "enabled" } else { "disabled" }
    );
    el(out, "platformDetails", "Linux/UNIX");
    el(out, "usageOperation", "RunInstances");
    el(out, "bootMode", "uefi-preferred");
    if let Some(v6) = &i.ipv6 {
        el(out, "ipv6Address", v6);
    }
    out.push_str("</item>");
}

/// One reservation per instance: simple, and what `RunInstances` of one instance gives.
pub fn describe_instances(
    instances: &[&Instance],
    next_token: Option<&str>,
    request_id: &str,
) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeInstancesResponse xmlns=\"{XMLNS}\"><requestId>{request_id}</requestId><reservationSet>"
    );
    for i in instances {
        out.push_str("<item>");
        el(&mut out, "reservationId", &i.reservation_id);
        el(&mut out, "ownerId", i.account);
        out.push_str("<groupSet/><instancesSet>");
        instance(&mut out, i);
        out.push_str("</instancesSet></item>");
    }
    out.push_str("</reservationSet>");
    if let Some(t) = next_token {
        el(&mut out, "nextToken", t);
    }
    out.push_str("</DescribeInstancesResponse>");
    out
}

pub fn describe_regions(regions: &[String], request_id: &str) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeRegionsResponse xmlns=\"{XMLNS}\"><requestId>{request_id}</requestId><regionInfo>"
    );
    for r in regions {
        out.push_str("<item>");
        el(&mut out, "regionName", r);
        el(
            &mut out,
            "regionEndpoint",
            &format!("ec2.{r}.amazonaws.com"),
        );
        el(&mut out, "optInStatus", "opt-in-not-required");
        out.push_str("</item>");
    }
    out.push_str("</regionInfo></DescribeRegionsResponse>");
    out
}
