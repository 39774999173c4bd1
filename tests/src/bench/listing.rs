//! Part 2: listing a large inventory in two regions. `keyless ls --json` (both regions in one
//! process, queried concurrently) against the AWS CLI run once per region, one after the other,
//! as a user would type it. Both must see the lab's full instance count.

use std::path::Path;

use keyless_lab::{Lab, LabOptions};

use super::env::BenchHome;
use super::measure::Measured;
use super::report::Row;

pub const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

pub struct ListingConfig<'a> {
    pub runs: usize,
    pub keyless: &'a Path,
    pub aws: &'a Path,
    pub extra_instances: usize,
}

pub struct ListingResult {
    pub instances: usize,
    pub keyless: Row,
    pub aws: Row,
}

pub async fn run(cfg: &ListingConfig<'_>) -> Result<ListingResult, String> {
    let lab = Lab::start(LabOptions {
        regions: REGIONS.iter().map(|r| r.to_string()).collect(),
        extra_instances: cfg.extra_instances,
        ..LabOptions::default()
    })
    .await
    .map_err(|e| format!("starting the lab: {e}"))?;
    let expected = lab.instances().len();
    let home = BenchHome::new().map_err(|e| format!("temp HOME: {e}"))?;
    let vars = home.vars(&lab);
    let scratch = home.scratch();

    let mut args = vec!["ls", "--json"];
    for r in REGIONS {
        args.extend(["--region", r]);
    }
    let keyless = Measured::new(cfg.keyless, &args, &vars);
    let aws: Vec<Measured> = REGIONS
        .iter()
        .map(|r| {
            Measured::new(
                cfg.aws,
                &[
                    "ec2",
                    "describe-instances",
                    "--region",
                    r,
                    "--output",
                    "json",
                ],
                &vars,
            )
        })
        .collect();

    let mut rows = [Row::new(), Row::new()];
    // Round 0 is the untimed warm-up; every round checks the counts.
    for round in 0..=cfg.runs {
        for k in 0..2 {
            if (round + k) % 2 == 0 {
                let s = keyless.run_ok(&scratch, "keyless ls --json").await?;
                let n = keyless_count(&s.stdout)?;
                same_count("keyless ls --json", n, expected)?;
                if round > 0 {
                    rows[0].add(s.wall, Some(&s));
                }
            } else {
                let mut total = Row::new();
                let mut n = 0;
                for (cmd, region) in aws.iter().zip(REGIONS) {
                    let what = format!("aws ec2 describe-instances --region {region}");
                    let s = cmd.run_ok(&scratch, &what).await?;
                    n += aws_count(&s.stdout)?;
                    total.add(s.wall, Some(&s));
                }
                same_count("aws ec2 describe-instances", n, expected)?;
                if round > 0 {
                    rows[1].merge_sequential(&total);
                }
            }
        }
    }
    lab.shutdown().await;
    let [keyless, aws] = rows;
    Ok(ListingResult {
        instances: expected,
        keyless,
        aws,
    })
}

fn same_count(what: &str, got: usize, expected: usize) -> Result<(), String> {
    if got == expected {
        Ok(())
    } else {
        Err(format!(
            "{what} saw {got} instances, the lab has {expected}"
        ))
    }
}

/// `{"instances": [...], "errors": [...]}`; a region error would make the count meaningless.
fn keyless_count(stdout: &str) -> Result<usize, String> {
    let v: serde_json::Value =
        serde_json::from_str(stdout).map_err(|e| format!("keyless ls --json: bad JSON: {e}"))?;
    if let Some(errors) = v["errors"].as_array().filter(|e| !e.is_empty()) {
        return Err(format!("keyless ls reported region errors: {errors:?}"));
    }
    v["instances"]
        .as_array()
        .map(Vec::len)
        .ok_or_else(|| "keyless ls --json: no \"instances\" array".into())
}

/// `{"Reservations": [{"Instances": [...]}, ...]}`.
fn aws_count(stdout: &str) -> Result<usize, String> {
    let v: serde_json::Value =
        serde_json::from_str(stdout).map_err(|e| format!("aws ec2: bad JSON: {e}"))?;
    let reservations = v["Reservations"]
        .as_array()
        .ok_or("aws ec2 describe-instances: no Reservations")?;
    Ok(reservations
        .iter()
        .map(|r| r["Instances"].as_array().map_or(0, Vec::len))
        .sum())
}
