//! EC2 DescribeInstances / DescribeRegions over raw requests signed with `aws-sigv4`:
//! pagination, filters, validation errors, region rules and signature checks.

mod common;

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use common::*;
use keyless_lab::{Lab, LabOptions};

/// Instance ids of one DescribeInstances response, and its nextToken.
fn page(xml: &str) -> (Vec<String>, Option<String>) {
    (
        xml_values(xml, "instanceId"),
        xml_values(xml, "nextToken").into_iter().next(),
    )
}

fn ids(lab: &Lab, region: &str, params: &[(&str, &str)]) -> HashSet<String> {
    let r = ec2(lab, region, "DescribeInstances", params);
    assert_eq!(r.status, 200, "{}", r.text());
    page(&r.text()).0.into_iter().collect()
}

fn named(lab: &Lab, pred: impl Fn(&keyless_lab::LabInstance) -> bool) -> HashSet<String> {
    lab.instances()
        .into_iter()
        .filter(|i| pred(i))
        .map(|i| i.id)
        .collect()
}

/// DescribeInstances of one us-east-1 instance, as XML.
fn describe_one(lab: &Lab, id: &str) -> String {
    ec2(
        lab,
        "us-east-1",
        "DescribeInstances",
        &[("InstanceId.1", id)],
    )
    .text()
}

fn error_of(lab: &Lab, region: &str, params: &[(&str, &str)]) -> (u16, String) {
    let r = ec2(lab, region, "DescribeInstances", params);
    (r.status, xml_error_code(&r.text()))
}

#[tokio::test]
async fn pagination_is_stable_and_complete() {
    let lab = Lab::start(LabOptions {
        extra_instances: 30,
        ..LabOptions::default()
    })
    .await
    .unwrap();
    let expected = named(&lab, |i| i.region == "us-east-1");
    assert_eq!(expected.len(), 10 + 15);

    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut params = vec![("MaxResults", "5")];
        if let Some(t) = &token {
            params.push(("NextToken", t.as_str()));
        }
        let r = ec2(&lab, "us-east-1", "DescribeInstances", &params);
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.header("x-amzn-requestid").is_some());
        let (ids, next) = page(&r.text());
        assert!(ids.len() <= 5);
        seen.extend(ids);
        pages += 1;
        match next {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert_eq!(pages, 5);
    assert_eq!(seen.len(), 25);
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), expected);
    // Same order every time.
    let again = page(
        &ec2(
            &lab,
            "us-east-1",
            "DescribeInstances",
            &[("MaxResults", "5")],
        )
        .text(),
    )
    .0;
    assert_eq!(again, seen[..5]);
    // Without MaxResults: everything (below the cap) in one page.
    let (all, next) = page(&ec2(&lab, "us-east-1", "DescribeInstances", &[]).text());
    assert_eq!((all.len(), next), (25, None));
}

#[tokio::test]
async fn max_page_size_caps_pages() {
    let lab = Lab::start(LabOptions {
        max_page_size: 3,
        ..LabOptions::default()
    })
    .await
    .unwrap();
    let (ids, next) = page(
        &ec2(
            &lab,
            "us-east-1",
            "DescribeInstances",
            &[("MaxResults", "50")],
        )
        .text(),
    );
    assert_eq!(ids.len(), 3);
    assert!(next.is_some());
    let (ids, next) = page(&ec2(&lab, "us-east-1", "DescribeInstances", &[]).text());
    assert_eq!(ids.len(), 3);
    assert!(next.is_some());
}

#[tokio::test]
async fn filters() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let us = "us-east-1";
    let f = |name: &'static str, value: &'static str| {
        vec![("Filter.1.Name", name), ("Filter.1.Value.1", value)]
    };

    let webs = named(&lab, |i| i.name.as_deref() == Some("web"));
    assert_eq!(webs.len(), 2);
    assert_eq!(ids(&lab, us, &f("tag:Name", "web")), webs);
    assert_eq!(ids(&lab, us, &f("tag:Name", "w?b")), webs);
    assert_eq!(
        ids(&lab, us, &f("tag:Name", "caf?-*")),
        named(&lab, |i| i.name.as_deref() == Some("café-α"))
    );
    assert_eq!(
        ids(&lab, us, &f("instance-state-name", "stopped")),
        named(&lab, |i| i.region == us && i.state == "stopped")
    );
    assert_eq!(ids(&lab, us, &f("tag-key", "Name")).len(), 9);
    assert_eq!(
        ids(&lab, us, &f("availability-zone", "us-east-1b")),
        named(&lab, |i| i.az == "us-east-1b")
    );
    let db = lab.instance_named("db-primary");
    let ip = db.private_ip.to_string();
    assert_eq!(
        ids(
            &lab,
            us,
            &[
                ("Filter.1.Name", "private-ip-address"),
                ("Filter.1.Value.1", &ip)
            ]
        ),
        HashSet::from([db.id.clone()])
    );
    let web_pub = lab
        .instances()
        .into_iter()
        .find(|i| i.public_ip.is_some() && i.region == us)
        .unwrap();
    let pub_ip = web_pub.public_ip.unwrap().to_string();
    assert_eq!(
        ids(
            &lab,
            us,
            &[
                ("Filter.1.Name", "ip-address"),
                ("Filter.1.Value.1", &pub_ip)
            ]
        ),
        HashSet::from([web_pub.id.clone()])
    );
    assert_eq!(
        ids(
            &lab,
            us,
            &[
                ("Filter.1.Name", "instance-id"),
                ("Filter.1.Value.1", &db.id)
            ]
        ),
        HashSet::from([db.id.clone()])
    );
    // Values are ORed, filters ANDed.
    let prod_running = ids(
        &lab,
        us,
        &[
            ("Filter.1.Name", "tag:Env"),
            ("Filter.1.Value.1", "prod"),
            ("Filter.1.Value.2", "staging"),
            ("Filter.2.Name", "instance-state-name"),
            ("Filter.2.Value.1", "running"),
        ],
    );
    let expected = named(&lab, |i| {
        i.region == us
            && i.state == "running"
            && i.tags
                .iter()
                .any(|(k, v)| k == "Env" && (v == "prod" || v == "staging"))
    });
    assert_eq!(prod_running, expected);
    assert_eq!(
        expected.len(),
        5,
        "web, web, db-primary, restricted, private-db"
    );
    // Instance ids select directly.
    assert_eq!(
        ids(&lab, us, &[("InstanceId.1", &db.id)]),
        HashSet::from([db.id.clone()])
    );
    // Only the request's region.
    let eu = ids(&lab, "eu-west-1", &[]);
    assert_eq!(eu, named(&lab, |i| i.region == "eu-west-1"));
}

#[tokio::test]
async fn validation_errors() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let us = "us-east-1";
    let db = lab.instance_named("db-primary");
    let eu_web = lab.instance_named("eu-web");
    let bad = (400, "InvalidParameterValue".to_string());
    assert_eq!(error_of(&lab, us, &[("MaxResults", "4")]), bad);
    assert_eq!(error_of(&lab, us, &[("MaxResults", "1001")]), bad);
    assert_eq!(error_of(&lab, us, &[("MaxResults", "many")]), bad);
    assert_eq!(error_of(&lab, us, &[("NextToken", "not-a-token")]), bad);
    assert_eq!(
        error_of(
            &lab,
            us,
            &[("Filter.1.Name", "color"), ("Filter.1.Value.1", "red")]
        ),
        bad
    );
    assert_eq!(
        error_of(&lab, us, &[("InstanceId.1", &db.id), ("MaxResults", "5")]),
        (400, "InvalidParameterCombination".to_string())
    );
    assert_eq!(
        error_of(&lab, us, &[("InstanceId.1", "web")]),
        (400, "InvalidInstanceID.Malformed".to_string())
    );
    assert_eq!(
        error_of(&lab, us, &[("InstanceId.1", "i-0123456789abcdef0")]),
        (400, "InvalidInstanceID.NotFound".to_string())
    );
    // An instance of another region is not found here.
    assert_eq!(
        error_of(&lab, us, &[("InstanceId.1", &eu_web.id)]),
        (400, "InvalidInstanceID.NotFound".to_string())
    );
    // A token from another region is refused.
    let lab2 = Lab::start(LabOptions {
        max_page_size: 5,
        ..LabOptions::default()
    })
    .await
    .unwrap();
    let token = page(&ec2(&lab2, us, "DescribeInstances", &[]).text())
        .1
        .unwrap();
    assert_eq!(error_of(&lab2, "eu-west-1", &[("NextToken", &token)]), bad);
    assert_eq!(
        page(&ec2(&lab2, us, "DescribeInstances", &[("NextToken", &token)]).text())
            .0
            .len(),
        5
    );

    let r = ec2(&lab, us, "RunInstances", &[]);
    assert_eq!(
        (r.status, xml_error_code(&r.text())),
        (400, "InvalidAction".to_string())
    );
    let r = ec2(&lab, us, "DescribeInstances", &[("DryRun", "true")]);
    assert_eq!(
        (r.status, xml_error_code(&r.text())),
        (412, "DryRunOperation".to_string())
    );
}

#[tokio::test]
async fn regions_denied_and_unknown() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let r = ec2(&lab, "us-east-1", "DescribeRegions", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(
        xml_values(&r.text(), "regionName"),
        vec!["us-east-1", "eu-west-1"]
    );
    assert_eq!(
        xml_values(&r.text(), "regionEndpoint")[0],
        "ec2.us-east-1.amazonaws.com"
    );

    let r = ec2(&lab, "ap-south-1", "DescribeInstances", &[]);
    assert_eq!(
        (r.status, xml_error_code(&r.text())),
        (401, "OptInRequired".to_string())
    );

    lab.deny_region("eu-west-1");
    let r = ec2(&lab, "eu-west-1", "DescribeInstances", &[]);
    assert_eq!(
        (r.status, xml_error_code(&r.text())),
        (403, "UnauthorizedOperation".to_string())
    );
    let msg = xml_values(&r.text(), "Message").remove(0);
    assert!(msg.starts_with("You are not authorized to perform this operation. User: arn:aws:iam::123456789012:user/lab-admin"));
    assert_eq!(ec2(&lab, "us-east-1", "DescribeInstances", &[]).status, 200);
}

#[tokio::test]
async fn signatures_are_verified() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let auth_failure = (401, "AuthFailure".to_string());
    let call = |creds: &Creds| {
        let r = ec2_with(&lab, "us-east-1", "DescribeInstances", &[], creds);
        (r.status, xml_error_code(&r.text()))
    };
    let wrong_secret = Creds {
        secret: "not-the-lab-secret",
        ..lab_creds()
    };
    assert_eq!(call(&wrong_secret), auth_failure);
    let unknown_key = Creds {
        access_key: "AKIAOTHERKEY00000000",
        ..lab_creds()
    };
    assert_eq!(call(&unknown_key), auth_failure);
    let stale = Creds {
        time: SystemTime::now() - Duration::from_secs(600),
        ..lab_creds()
    };
    assert_eq!(call(&stale), auth_failure);
    let skewed_ok = Creds {
        time: SystemTime::now() - Duration::from_secs(120),
        ..lab_creds()
    };
    assert_eq!(call(&skewed_ok).0, 200);

    // Body changed after signing.
    let body = form(&[("Action", "DescribeInstances"), ("Version", "2016-11-15")]);
    let headers = vec![(
        "content-type".to_string(),
        "application/x-www-form-urlencoded".to_string(),
    )];
    let headers = signed_headers(
        lab.http_addr(),
        "us-east-1",
        "ec2",
        headers,
        body.as_bytes(),
        &lab_creds(),
    );
    let tampered = format!("{body}&MaxResults=5");
    let r = keyless_lab::mini_http::request(
        lab.http_addr(),
        "POST",
        "/",
        &headers,
        tampered.as_bytes(),
    )
    .unwrap();
    assert_eq!((r.status, xml_error_code(&r.text())), auth_failure);
    // A signed header changed after signing.
    let mut changed = headers.clone();
    for (k, v) in changed.iter_mut() {
        if k == "content-type" {
            *v = "text/plain".into();
        }
    }
    let r =
        keyless_lab::mini_http::request(lab.http_addr(), "POST", "/", &changed, body.as_bytes())
            .unwrap();
    assert_eq!((r.status, xml_error_code(&r.text())), auth_failure);
    // Untouched, it passes.
    let r =
        keyless_lab::mini_http::request(lab.http_addr(), "POST", "/", &headers, body.as_bytes())
            .unwrap();
    assert_eq!(r.status, 200);
    // No signature at all.
    let r = keyless_lab::mini_http::request(lab.http_addr(), "POST", "/", &[], body.as_bytes())
        .unwrap();
    assert_eq!((r.status, xml_error_code(&r.text())), auth_failure);
}

#[tokio::test]
async fn instance_fields() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let web = lab
        .instances()
        .into_iter()
        .find(|i| i.public_ip.is_some() && i.region == "us-east-1")
        .unwrap();
    let xml = describe_one(&lab, &web.id);
    assert!(xml.starts_with("<?xml"));
    assert!(xml.contains(
        "<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
    ));
    assert_eq!(
        xml_values(&xml, "ipAddress"),
        vec![web.public_ip.unwrap().to_string()]
    );
    assert_eq!(
        xml_values(&xml, "privateIpAddress"),
        vec![web.private_ip.to_string()]
    );
    assert_eq!(xml_values(&xml, "availabilityZone"), vec![web.az.clone()]);
    assert_eq!(xml_values(&xml, "platformDetails"), vec!["Linux/UNIX"]);
    assert_eq!(xml_values(&xml, "httpEndpoint"), vec!["enabled"]);
    assert_eq!(xml_values(&xml, "ipv6Address").len(), 1);
    assert!(xml.contains("<instanceState><code>16</code><name>running</name></instanceState>"));
    assert!(xml.contains("<item><key>Name</key><value>web</value></item>"));
    let launch = xml_values(&xml, "launchTime").remove(0);
    assert_eq!(launch.len(), "2024-05-01T12:00:00.000Z".len());
    assert!(launch.ends_with(".000Z"));

    let no_imds = lab.instance_named("no-imds");
    let xml = describe_one(&lab, &no_imds.id);
    assert_eq!(xml_values(&xml, "httpEndpoint"), vec!["disabled"]);
    // Non-ASCII names survive the round trip.
    let cafe = lab.instance_named("café-α");
    let xml = describe_one(&lab, &cafe.id);
    assert!(xml.contains("<value>café-α</value>"));
    // Stopped: no public address.
    let batch = lab.instance_named("batch");
    let xml = describe_one(&lab, &batch.id);
    assert!(xml.contains("<name>stopped</name>") && xml_values(&xml, "ipAddress").is_empty());
}

#[tokio::test]
async fn sts_get_caller_identity() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let r = query_with(
        &lab,
        "us-east-1",
        "sts",
        &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
        &lab_creds(),
    );
    assert_eq!(r.status, 200);
    assert_eq!(xml_values(&r.text(), "Account"), vec!["123456789012"]);
}
