//! `keyless ls` against the lab: pagination, both regions, filters, a denied region, input checks.

mod common;

use common::Env;
use keyless_lab::LabOptions;
use serde_json::Value;

fn parse(out: &common::Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

fn names(v: &Value) -> Vec<Option<String>> {
    v["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().map(str::to_owned))
        .collect()
}

/// `keyless ls` over the lab's two regions, as JSON.
const BOTH_REGIONS_JSON: &[&str] = &[
    "ls",
    "--region",
    "us-east-1",
    "--region",
    "eu-west-1",
    "--json",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_both_regions_across_pages_with_every_field() {
    // Pages of 5: region 1 holds 9 catalogue instances + filler, so several pages per region.
    let env = Env::with(LabOptions {
        max_page_size: 5,
        extra_instances: 12,
        ..Default::default()
    })
    .await;
    let out = env.run(BOTH_REGIONS_JSON).await;
    assert_eq!(out.code, 0, "{out:?}");
    let v = parse(&out);
    let listed = v["instances"].as_array().unwrap();
    assert_eq!(listed.len(), env.lab.instances().len(), "{out:?}");
    assert!(v["errors"].as_array().unwrap().is_empty());

    let web_eu = listed.iter().find(|i| i["name"] == "eu-web").unwrap();
    let lab_eu = env.lab.instance_named("eu-web");
    assert_eq!(web_eu["instance_id"], lab_eu.id.as_str());
    assert_eq!(web_eu["region"], "eu-west-1");
    assert_eq!(web_eu["state"], "running");
    assert_eq!(web_eu["private_ip"], lab_eu.private_ip.to_string().as_str());
    assert_eq!(
        web_eu["public_ip"],
        lab_eu.public_ip.unwrap().to_string().as_str()
    );
    for field in [
        "availability_zone",
        "vpc_id",
        "subnet_id",
        "instance_type",
        "platform",
        "launch_time",
    ] {
        assert!(web_eu[field].is_string(), "{field}: {web_eu}");
    }
    assert_eq!(web_eu["tags"]["Env"], "prod");

    // Absent Name tag is null; an empty Name tag is "" — not the same thing.
    let all = names(&v);
    assert!(all.contains(&None));
    assert!(all.contains(&Some(String::new())));
    assert!(all.contains(&Some("café-α".into())));
    assert_eq!(
        all.iter().filter(|n| n.as_deref() == Some("web")).count(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_by_state_tag_and_text() {
    let env = Env::start().await;
    let running = parse(&env.run(&["ls", "--state", "running", "--json"]).await);
    assert!(running["instances"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["state"] == "running"));
    assert!(!names(&running).contains(&Some("batch".into())));

    let prod = parse(&env.run(&["ls", "--filter", "Env=prod", "--json"]).await);
    let prod_names = names(&prod);
    assert!(prod_names.contains(&Some("db-primary".into())), "{prod}");
    assert!(prod_names.iter().all(|n| n.as_deref() != Some("café-α")));

    let wildcard = parse(&env.run(&["ls", "--filter", "Role=d*", "--json"]).await);
    assert_eq!(
        names(&wildcard),
        vec![
            Some("db-primary".to_string()),
            Some("private-db".to_string())
        ]
    );

    let cafe = parse(&env.run(&["ls", "--search", "CAFÉ", "--json"]).await);
    assert_eq!(names(&cafe), vec![Some("café-α".to_string())]);

    let db = env.lab.instance_named("db-primary");
    let by_ip = parse(
        &env.run(&["ls", "--search", &db.private_ip.to_string(), "--json"])
            .await,
    );
    assert_eq!(names(&by_ip), vec![Some("db-primary".to_string())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_region_is_reported_without_hiding_the_other() {
    let env = Env::start().await;
    env.lab.deny_region("eu-west-1");
    let out = env.run(BOTH_REGIONS_JSON).await;
    assert_eq!(out.code, 0, "{out:?}");
    let v = parse(&out);
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{v}");
    assert_eq!(errors[0]["region"], "eu-west-1");
    assert_eq!(errors[0]["code"], "UnauthorizedOperation");
    assert!(names(&v).contains(&Some("db-primary".into())));
    assert!(!names(&v).contains(&Some("eu-web".into())));

    // The table says it too, on stderr, while the rows still print.
    let table = env
        .run(&["ls", "--region", "us-east-1", "--region", "eu-west-1"])
        .await;
    assert!(table.stdout.contains("db-primary"), "{table:?}");
    assert!(
        table.stderr.contains("eu-west-1: UnauthorizedOperation"),
        "{table:?}"
    );

    // When every region fails, the command fails.
    let only_denied = env.run(&["ls", "--region", "eu-west-1"]).await;
    assert_eq!(only_denied.code, 1, "{only_denied:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_regions_come_from_describe_regions() {
    let env = Env::start().await;
    let v = parse(&env.run(&["ls", "--all-regions", "--json"]).await);
    let regions: std::collections::BTreeSet<String> = v["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["region"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        regions.into_iter().collect::<Vec<_>>(),
        vec!["eu-west-1", "us-east-1"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_table_aligns_and_marks_missing_names() {
    let env = Env::start().await;
    let out = env.run(&["ls"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{out:?}");
    assert!(out.stdout.contains("(no name)"));
    assert!(out.stdout.contains("(empty name)"));
    // The ID column starts at the same display column on every row, non-ASCII names included.
    let col = |l: &str| l.find("i-0").map(|b| l[..b].chars().count());
    let header_col = lines[0].find("INSTANCE ID").unwrap();
    for l in &lines[1..] {
        assert_eq!(col(l), Some(header_col), "{l}");
    }
    assert!(out.stderr.contains("instances in 1 region"), "{out:?}");
}

/// A Name tag as anyone with `ec2:CreateTags` may write it: an OSC sequence that retitles the
/// terminal window, then U+202E, which shows the rest right to left.
const HOSTILE_NAME: &str = "web\x1b]0;pwned\x07\u{202e}dorp-bew";
/// How Keyless prints it: every control character visible.
const HOSTILE_NAME_SHOWN: &str = "web\\x1b]0;pwned\\x07\\u202edorp-bew";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_name_tag_is_printed_escaped_and_the_json_keeps_it_exact() {
    let env = Env::start().await;
    let db = env.lab.instance_named("db-primary");
    env.lab.set_tag(&db.id, "Name", HOSTILE_NAME);
    env.lab.set_tag(&db.id, "Note", "\x1b[2J");

    let out = env.run(&["ls"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    let row = out
        .stdout
        .lines()
        .find(|l| l.contains(&db.id))
        .unwrap_or_else(|| panic!("{out:?}"));
    assert!(row.starts_with(HOSTILE_NAME_SHOWN), "{row:?}");
    for raw in ['\x1b', '\x07', '\u{202e}'] {
        assert!(
            !out.stdout.contains(raw),
            "{raw:?} reached the terminal: {out:?}"
        );
    }
    // Columns are measured on what is shown: the ID column still lines up.
    let lines: Vec<&str> = out.stdout.lines().collect();
    let header_col = lines[0].find("INSTANCE ID").unwrap();
    for l in &lines[1..] {
        let col = l.find("i-0").map(|b| l[..b].chars().count());
        assert_eq!(col, Some(header_col), "{l}");
    }

    let out = env.run(&["ls", "--json"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    let v = parse(&out);
    let listed = v["instances"].as_array().unwrap();
    let db_json = listed
        .iter()
        .find(|i| i["instance_id"] == db.id.as_str())
        .unwrap();
    assert_eq!(db_json["name"], HOSTILE_NAME);
    assert_eq!(db_json["tags"]["Note"], "\x1b[2J");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_rejected_before_any_request() {
    let env = Env::start().await;
    for (args, needle) in [
        (vec!["ls", "--region", "moon-1"], "'moon-1'"),
        (vec!["ls", "--state", "asleep"], "'asleep'"),
        (vec!["ls", "--filter", "Env"], "'Env'"),
    ] {
        let out = env.run(&args).await;
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.contains(needle), "{args:?}: {out:?}");
        assert!(out.stderr.contains("hint:"), "{out:?}");
        assert_eq!(env.lab.requests(), vec![], "{args:?} reached AWS");
    }
}
