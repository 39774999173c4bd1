//! `keyless ls`: the instances of one or more regions, as a table or JSON.

use crate::args::LsArgs;
use crate::output::{color_enabled, Failure};
use crate::table::{Cell, Table};
use keyless_core::terminal_text::escape;
use keyless_core::{
    validate, AddressCache, AwsContext, AwsSelection, Instance, InstanceFilter, Inventory,
};

pub async fn run(args: LsArgs) -> Result<i32, Failure> {
    let mut filter = InstanceFilter::default();
    for s in &args.states {
        filter.add_state(s).map_err(Failure::usage)?;
    }
    for f in &args.filters {
        filter.add_tag(f).map_err(Failure::usage)?;
    }
    filter.text = args.search.clone();
    for r in &args.regions {
        validate::region(r).map_err(Failure::usage)?;
    }

    let aws = AwsContext::load_with(
        &AwsSelection {
            profile: args.aws.profile.clone(),
            region: args.regions.first().cloned(),
            endpoint_url: None,
        },
        Some(&crate::cmd_identity::tty_mfa_prompt),
    )
    .await
    .map_err(Failure::usage)?;
    let regions = if args.all_regions {
        keyless_core::enabled_regions(&aws)
            .await
            .map_err(Failure::runtime)?
    } else if args.regions.is_empty() {
        vec![aws.default_region().map_err(Failure::usage)?]
    } else {
        args.regions.clone()
    };

    let inventory = keyless_core::list_instances(&aws, &regions, &filter).await;
    if let Ok(cache) = AddressCache::open_default() {
        // For `keyless ssh` to dial before its lookup answers; a failure only costs that.
        let _ = cache.record(
            &aws_profile_key(args.aws.profile.as_deref()),
            &inventory.instances,
        );
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&inventory).expect("inventory serialises")
        );
    } else {
        print_table(&inventory, regions.len());
    }
    // Partial results are still results; fail only when no region answered.
    if !inventory.errors.is_empty() && inventory.errors.len() == regions.len() {
        return Ok(1);
    }
    Ok(0)
}

/// The AWS profile the address cache files sightings under: `--profile`, else `AWS_PROFILE`,
/// else the default chain.
pub(crate) fn aws_profile_key(flag: Option<&str>) -> keyless_core::AwsProfileKey {
    flag.map(str::to_owned)
        .or_else(|| std::env::var("AWS_PROFILE").ok())
        .filter(|p| !p.is_empty())
}

fn print_table(inventory: &Inventory, region_count: usize) {
    let color = color_enabled(std::io::stdout());
    let mut table = Table::new(vec![
        "NAME",
        "INSTANCE ID",
        "STATE",
        "TYPE",
        "PRIVATE IP",
        "PUBLIC IP",
        "ZONE",
    ]);
    for i in &inventory.instances {
        table.push(row(i, color));
    }
    if !inventory.instances.is_empty() {
        print!("{}", table.render());
    }
    for e in &inventory.errors {
        eprintln!(
            "keyless: {}: {}: {}",
            escape(&e.region),
            escape(&e.code),
            escape(&e.message)
        );
    }
    let n = inventory.instances.len();
    eprintln!(
        "{n} instance{} in {region_count} region{}{}",
        if n == 1 { "" } else { "s" },
        if region_count == 1 { "" } else { "s" },
        if inventory.errors.is_empty() {
            String::new()
        } else {
            format!(" ({} region(s) failed, see above)", inventory.errors.len())
        }
    );
}

fn row(i: &Instance, color: bool) -> Vec<Cell> {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let state_color = match i.state.as_str() {
        "running" => Some("32"),
        "stopped" | "terminated" => Some("31"),
        _ => Some("33"),
    };
    vec![
        i.display_name().to_string().into(),
        i.instance_id.clone().into(),
        Cell::colored(i.state.clone(), state_color.filter(|_| color)),
        dash(&i.instance_type).into(),
        dash(&i.private_ip).into(),
        dash(&i.public_ip).into(),
        dash(&i.availability_zone).into(),
    ]
}
