//! `keyless profile ls|show|add|edit|rm|export|import`, and the `@NAME` part of `keyless ssh`.

use crate::args::SshArgs;
use crate::output::Failure;
use crate::table::Table;
use clap::{Args, Subcommand};
use keyless_core::profiles::{self, resolve, Profile, SavedForward, Target};
use keyless_core::terminal_text::{escape, escape_lines};
use keyless_core::{
    AwsContext, ConnectOptions, Connection, Error, ErrorKind, Instance, ProfileStore,
};
use std::io::{IsTerminal, Read, Write};

pub const EXAMPLES: &str = "Examples:
  keyless profile add web-prod --target 'Env=prod,Role=web' --user ubuntu --region eu-west-1
  keyless profile add db --target i-0123456789abcdef0 --group prod --aws-profile work
  keyless profile ls
  keyless profile edit web-prod --via public --notes 'behind the VPN'
  keyless profile edit db --forward 5432:mydb.internal:5432 --reconnect-forwards true
  keyless ssh -N @db                # run the saved forwards; --clear-forwards removes them
  keyless ssh @web-prod             # or: keyless connect web-prod
  keyless profile export profiles.json && keyless profile import profiles.json
  keyless profile rm web-prod

Targets: an instance id, a Name (web), or tags ANDed: Name=web-*, Env=prod,Role=api (* and ?
are wildcards). A selector matching several running instances asks which one on a terminal.
Profiles live in $XDG_CONFIG_HOME/keyless/profiles.toml (KEYLESS_CONFIG_DIR overrides the folder).";

#[derive(Subcommand, Debug)]
pub enum ProfileAction {
    /// List the saved profiles.
    #[command(
        after_help = "Examples:\n  keyless profile ls\n  keyless profile ls --json | jq '.profiles[].name'"
    )]
    Ls {
        /// Print JSON: {"schema_version": 1, "profiles": [...]}.
        #[arg(long)]
        json: bool,
    },
    /// Show every field of one profile.
    #[command(after_help = "Example:\n  keyless profile show web-prod")]
    Show { name: String },
    /// Save a new profile.
    #[command(
        after_help = "Examples:\n  keyless profile add web-prod --target 'Env=prod,Role=web' --user ubuntu\n  \
                            keyless profile add db --target i-0123456789abcdef0 --region eu-west-1 -p 2222 --via public"
    )]
    Add {
        name: String,
        #[command(flatten)]
        fields: Fields,
    },
    /// Change fields of a profile (an empty value clears an optional field).
    #[command(
        after_help = "Examples:\n  keyless profile edit web-prod --user admin --group staging\n  \
                            keyless profile edit web-prod --group ''        # no group\n  \
                            keyless profile edit web-prod --rename web-production"
    )]
    Edit {
        name: String,
        /// New name.
        #[arg(long, value_name = "NEW_NAME")]
        rename: Option<String>,
        #[command(flatten)]
        fields: Fields,
    },
    /// Delete a profile.
    #[command(after_help = "Example:\n  keyless profile rm web-prod")]
    Rm { name: String },
    /// Write every profile as JSON to FILE, or to stdout with - (the default).
    #[command(
        after_help = "Examples:\n  keyless profile export profiles.json\n  keyless profile export | ssh other-host 'keyless profile import -'"
    )]
    Export {
        #[arg(value_name = "FILE|-", default_value = "-")]
        file: String,
    },
    /// Merge profiles from a JSON export (by name) and print what changed.
    #[command(
        after_help = "Examples:\n  keyless profile import profiles.json\n  keyless profile import - < profiles.json\n\n\
                            New names are added, known ones updated, invalid entries rejected with the reason."
    )]
    Import {
        #[arg(value_name = "FILE|-")]
        file: String,
    },
}

#[derive(Args, Debug, Default)]
pub struct Fields {
    /// Instance id, Name, or tag selector such as Name=web-* or Env=prod,Role=api.
    #[arg(long, value_name = "TARGET")]
    pub target: Option<String>,
    /// Folder to show the profile in.
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
    /// AWS profile from ~/.aws/config.
    #[arg(long, value_name = "PROFILE")]
    pub aws_profile: Option<String>,
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// OS user to log in as.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// SSH port.
    #[arg(short = 'p', long, value_name = "PORT")]
    pub port: Option<String>,
    /// private, public, eice or auto.
    #[arg(long, value_name = "PATH")]
    pub via: Option<String>,
    /// Seconds after which EICE tunnels are closed (when IAM caps maxTunnelDuration); '' unsets.
    #[arg(long, value_name = "SECS")]
    pub max_tunnel_duration: Option<String>,
    #[arg(long, value_name = "TEXT")]
    pub notes: Option<String>,
    /// A port forward to keep with the profile: [BIND:]PORT:HOST:HOSTPORT, as ssh -L. Repeatable;
    /// added to those already saved.
    #[arg(long = "forward", value_name = "[BIND:]PORT:HOST:HOSTPORT")]
    pub forwards: Vec<String>,
    /// Remove every saved forward (before adding any --forward).
    #[arg(long)]
    pub clear_forwards: bool,
    /// Reconnect the forwards by themselves when the connection drops (true or false).
    #[arg(long, value_name = "BOOL", value_parser = clap::builder::BoolishValueParser::new())]
    pub reconnect_forwards: Option<bool>,
}

pub fn run(action: ProfileAction) -> Result<i32, Failure> {
    let store = ProfileStore::open_default().map_err(Failure::runtime)?;
    match action {
        ProfileAction::Ls { json } => {
            if json {
                print!("{}", store.export_json().map_err(Failure::runtime)?);
            } else {
                print_table(&store.list().map_err(Failure::runtime)?, &store);
            }
        }
        ProfileAction::Show { name } => {
            let p = store.get(&name).map_err(Failure::runtime)?;
            print_profile(&p);
        }
        ProfileAction::Add { name, fields } => {
            let mut profile = Profile::new(name, String::new());
            let target = fields.target.clone().ok_or_else(|| {
                Failure::usage(Error::invalid("a profile needs a target").with_hint(
                    "Add --target i-0123456789abcdef0, --target web or --target Env=prod,Role=api.",
                ))
            })?;
            profile.target = target;
            fields.apply(&mut profile).map_err(Failure::usage)?;
            profile.validate().map_err(Failure::usage)?;
            store.add(profile.clone()).map_err(Failure::runtime)?;
            eprintln!(
                "keyless: saved profile '{}' ({})",
                profile.name,
                store.path().display()
            );
            crate::cmd_ssh_config::refresh(&store);
        }
        ProfileAction::Edit {
            name,
            rename,
            fields,
        } => {
            let mut profile = store.get(&name).map_err(Failure::runtime)?;
            if let Some(new) = rename {
                profile.name = new;
            }
            fields.apply(&mut profile).map_err(Failure::usage)?;
            profile.validate().map_err(Failure::usage)?;
            store
                .update(&name, profile.clone())
                .map_err(Failure::runtime)?;
            eprintln!("keyless: updated profile '{}'", profile.name);
            crate::cmd_ssh_config::refresh(&store);
        }
        ProfileAction::Rm { name } => {
            store.remove(&name).map_err(Failure::runtime)?;
            eprintln!("keyless: removed profile '{name}'");
            crate::cmd_ssh_config::refresh(&store);
        }
        ProfileAction::Export { file } => {
            let json = store.export_json().map_err(Failure::runtime)?;
            if file == "-" {
                print!("{json}");
            } else {
                std::fs::write(&file, json).map_err(|e| {
                    Failure::runtime(Error::new(
                        ErrorKind::Io,
                        format!("cannot write {file}: {e}"),
                    ))
                })?;
                eprintln!(
                    "keyless: exported {} profile(s) to {file}",
                    store.list().map_err(Failure::runtime)?.len()
                );
            }
        }
        ProfileAction::Import { file } => {
            let mut json = String::new();
            let read = if file == "-" {
                std::io::stdin().read_to_string(&mut json).map(|_| ())
            } else {
                std::fs::read_to_string(&file).map(|t| json = t)
            };
            read.map_err(|e| {
                Failure::usage(Error::new(
                    ErrorKind::Io,
                    format!("cannot read {file}: {e}"),
                ))
            })?;
            let report = store.import_json(&json).map_err(Failure::usage)?;
            crate::cmd_ssh_config::refresh(&store);
            let list = |v: &[String]| {
                if v.is_empty() {
                    String::new()
                } else {
                    format!(": {}", escape(&v.join(", ")))
                }
            };
            println!("added {}{}", report.added.len(), list(&report.added));
            println!("updated {}{}", report.updated.len(), list(&report.updated));
            println!(
                "unchanged {}{}",
                report.unchanged.len(),
                list(&report.unchanged)
            );
            println!("rejected {}", report.rejected.len());
            for r in &report.rejected {
                println!("  {}: {}", escape(&r.entry), escape_lines(&r.reason));
            }
            if !report.rejected.is_empty() {
                return Ok(1);
            }
        }
    }
    Ok(0)
}

impl Fields {
    /// Sets what was given; an empty value clears an optional field.
    fn apply(&self, p: &mut Profile) -> keyless_core::Result<()> {
        let opt = |v: &Option<String>, slot: &mut Option<String>| {
            if let Some(v) = v {
                *slot = (!v.is_empty()).then(|| v.clone());
            }
        };
        if let Some(t) = &self.target {
            Target::parse(t)?;
            p.target = t.trim().to_owned();
        }
        opt(&self.group, &mut p.group);
        opt(&self.aws_profile, &mut p.aws_profile);
        opt(&self.region, &mut p.region);
        opt(&self.user, &mut p.user);
        opt(&self.notes, &mut p.notes);
        if let Some(port) = &self.port {
            p.port = if port.is_empty() {
                None
            } else {
                let n = port.trim().parse::<u32>().map_err(|_| {
                    Error::invalid(format!("'{port}' is not a port number"))
                        .with_hint("Ports go from 1 to 65535.")
                })?;
                Some(keyless_core::validate::port(n)?)
            };
        }
        if let Some(via) = &self.via {
            p.via = if via.is_empty() {
                None
            } else {
                Some(via.parse()?)
            };
        }
        if self.clear_forwards {
            p.forwards.clear();
        }
        for text in &self.forwards {
            let saved = SavedForward::from_spec(&text.parse()?);
            if !p.forwards.contains(&saved) {
                p.forwards.push(saved);
            }
        }
        if let Some(on) = self.reconnect_forwards {
            p.reconnect_forwards = on;
        }
        if let Some(secs) = &self.max_tunnel_duration {
            p.max_tunnel_duration = if secs.is_empty() {
                None
            } else {
                let d = keyless_core::validate::max_tunnel_duration(secs)?;
                u32::try_from(d.as_secs()).ok()
            };
        }
        Ok(())
    }
}

fn print_table(profiles: &[Profile], store: &ProfileStore) {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let mut table = Table::new(vec![
        "NAME",
        "GROUP",
        "TARGET",
        "USER",
        "REGION",
        "LAST USED",
    ]);
    for p in profiles {
        table.push(vec![
            p.name.clone().into(),
            dash(&p.group).into(),
            p.target.clone().into(),
            dash(&p.user).into(),
            dash(&p.region).into(),
            dash(&p.last_used).into(),
        ]);
    }
    if !profiles.is_empty() {
        print!("{}", table.render());
    }
    eprintln!(
        "{} profile{} ({})",
        profiles.len(),
        if profiles.len() == 1 { "" } else { "s" },
        store.path().display()
    );
}

fn print_profile(p: &Profile) {
    let rows = [
        ("name", Some(p.name.clone())),
        ("group", p.group.clone()),
        ("target", Some(p.target.clone())),
        ("aws profile", p.aws_profile.clone()),
        ("region", p.region.clone()),
        ("user", p.user.clone()),
        ("port", p.port.map(|v| v.to_string())),
        ("via", p.via.map(|v| v.to_string())),
        (
            "max tunnel duration",
            p.max_tunnel_duration.map(|s| format!("{s} s")),
        ),
        ("last used", p.last_used.clone()),
        ("notes", p.notes.clone()),
    ];
    let forwards = p.forwards.iter().enumerate().map(|(n, f)| {
        let label = if n == 0 { "forwards" } else { "" };
        (label, Some(f.to_string()))
    });
    let reconnect = [(
        "reconnect",
        (!p.forwards.is_empty()).then(|| {
            let how = if p.reconnect_forwards {
                "by itself"
            } else {
                "when asked"
            };
            format!("forwards {how}")
        }),
    )];
    let rows = rows.into_iter().chain(forwards).chain(reconnect);
    for (k, v) in rows {
        let v = v.unwrap_or_else(|| "-".into());
        let k = if k.is_empty() {
            String::new()
        } else {
            format!("{k}:")
        };
        println!("{k:<13}{}", escape(&v));
    }
}

/// For `keyless ssh @NAME`: fills every option the command line left unset from the profile and
/// returns the profile's name (None for a plain `ssh`).
pub fn apply_to_ssh(args: &mut SshArgs) -> keyless_core::Result<Option<String>> {
    let Some(name) = args.destination.strip_prefix('@').map(str::to_owned) else {
        return Ok(None);
    };
    profiles::model::validate_name(&name)?;
    let p = ProfileStore::open_default()?.get(&name)?;
    args.destination = p.target.clone();
    // Always set, so the target (which may hold '@' in a tag value) is never split as USER@.
    args.login = args
        .login
        .take()
        .or(p.user)
        .or_else(|| Some("ec2-user".into()));
    args.region = args.region.take().or(p.region);
    args.aws.profile = args.aws.profile.take().or(p.aws_profile);
    args.port = args.port.take().or(p.port.map(|v| v.to_string()));
    args.via = args.via.take().or(p.via.map(|v| v.to_string()));
    args.max_tunnel_duration =
        (args.max_tunnel_duration.take()).or(p.max_tunnel_duration.map(|s| s.to_string()));
    // `-N` alone: forward what the profile keeps.
    let none_given = (args.local_forward.is_empty())
        && args.remote_forward.is_empty()
        && args.dynamic_forward.is_empty();
    if args.no_command && none_given {
        args.local_forward = p.forwards.iter().map(ToString::to_string).collect();
    }
    Ok(Some(name))
}

/// Resolves a profile's target (several matches: the user picks on a terminal), connects, and
/// records `last_used`.
pub async fn connect(
    aws: &AwsContext,
    region: &str,
    name: &str,
    target: &str,
    opts: &ConnectOptions,
) -> keyless_core::Result<Connection> {
    let target = Target::parse(target)?;
    let mut found = resolve::running_candidates(aws, region, &target).await?;
    let instance = match found.len() {
        1 => found.remove(0),
        _ if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() => {
            let candidates = found.clone();
            let pick = tokio::task::spawn_blocking(move || pick(&candidates))
                .await
                .ok()
                .flatten();
            match pick {
                Some(i) => found.remove(i),
                None => return Err(resolve::ambiguous_error(&target, region, &found)),
            }
        }
        _ => return Err(resolve::ambiguous_error(&target, region, &found)),
    };
    let connection = keyless_core::connect_instance(aws, instance, opts).await?;
    if let Err(e) = ProfileStore::open_default().and_then(|s| s.mark_used(name)) {
        eprintln!(
            "keyless: warning: could not record the use of '{}': {}",
            escape(name),
            escape_lines(&e.message)
        );
    }
    Ok(connection)
}

/// A numbered list on stderr; the chosen index, or None (Enter, EOF or nonsense).
fn pick(candidates: &[Instance]) -> Option<usize> {
    let mut err = std::io::stderr();
    let _ = writeln!(err, "Several running instances match:");
    for (n, i) in candidates.iter().enumerate() {
        let _ = writeln!(
            err,
            "  {:>2})  {}",
            n + 1,
            escape(resolve::candidate_line(i).trim_start())
        );
    }
    let _ = write!(
        err,
        "Connect to which one? [1-{}, Enter cancels]: ",
        candidates.len()
    );
    let _ = err.flush();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).ok()?;
    let n: usize = line.trim().parse().ok()?;
    (1..=candidates.len()).contains(&n).then(|| n - 1)
}
