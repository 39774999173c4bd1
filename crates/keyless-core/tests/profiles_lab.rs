//! `resolve_profile_target` against the lab's DescribeInstances: tag selectors matching none, one
//! or several running instances, wildcards, and instance ids that are stopped or gone.

use keyless_core::profiles::{resolve_profile_target, Profile};
use keyless_core::{AwsContext, AwsSelection, ErrorKind, Fix};
use keyless_lab::{Lab, LabOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selectors_resolve_to_none_one_or_several() {
    keyless_lab::use_lab_credentials_in_process();
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let region = lab.regions()[0].clone();
    let aws = AwsContext::load(&AwsSelection {
        profile: None,
        region: Some(region.clone()),
        endpoint_url: Some(lab.endpoint()),
    })
    .await
    .unwrap();
    let resolve = |target: &str| {
        let profile = Profile::new("p", target);
        let aws = aws.clone();
        async move { resolve_profile_target(&aws, &profile).await }
    };

    let db = lab.instance_named("db-primary");
    for target in [
        // private-db is Env=prod Role=db too: its name tells them apart.
        "Env=prod,Role=db,Name=db-*",
        "Name=db-*",
        "Role=d?,Name=db-primary",
        "db-primary",
        db.id.as_str(),
    ] {
        let found = resolve(target)
            .await
            .unwrap_or_else(|e| panic!("{target}: {e:?}"));
        assert_eq!(found.instance_id, db.id, "{target}");
    }

    let e = resolve("Name=web").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::AmbiguousTarget);
    assert!(
        e.message
            .contains(&format!("matches 2 running instances in {region}")),
        "{e:?}"
    );
    for web in lab
        .instances()
        .iter()
        .filter(|i| i.name.as_deref() == Some("web"))
    {
        assert!(e.message.contains(&web.id), "{e:?}");
    }
    // AND of tags narrows it to one; the wildcard must match the whole value.
    let prod_web = resolve("Name=web,Env=prod").await.unwrap();
    assert_eq!(prod_web.tags["Env"], "prod");
    assert_eq!(
        resolve("Name=we").await.unwrap_err().kind,
        ErrorKind::InstanceNotFound
    );

    // The stopped `batch` never matches a selector; by id it says it is stopped.
    let e = resolve("Name=batch").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InstanceNotFound);
    assert_eq!(
        e.message,
        format!("no running instance matches 'Name=batch' in {region}")
    );
    let batch = lab.instance_named("batch");
    let e = resolve(&batch.id).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InstanceNotRunning);
    assert!(e.message.contains("stopped"), "{e:?}");
    assert_eq!(e.fix, Some(Fix::StartInstance), "{e:?}");
    let e = resolve("i-0000000000000000f").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InstanceNotFound, "{e:?}");

    // The profile's region is the one asked: eu-web lives elsewhere.
    let eu = lab.instance_named("eu-web");
    let profile = Profile {
        region: Some(eu.region.clone()),
        ..Profile::new("eu", "Name=eu-*")
    };
    assert_eq!(
        resolve_profile_target(&aws, &profile)
            .await
            .unwrap()
            .instance_id,
        eu.id
    );
    // Invalid profiles fail before any request.
    let e = resolve("Env=prod,Role").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput);
}
