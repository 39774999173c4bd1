//! The profiles file on a real file system: round trip, concurrent writers, broken files kept.

use super::*;
use crate::{ErrorKind, Via};
use std::fs;

fn sample(name: &str) -> Profile {
    Profile {
        group: Some("prod".into()),
        aws_profile: Some("work".into()),
        region: Some("eu-west-1".into()),
        user: Some("ubuntu".into()),
        port: Some(2222),
        via: Some(Via::Auto),
        max_tunnel_duration: Some(1800),
        notes: Some("on call: \"ops\" ✓\nsecond line".into()),
        forwards: vec![
            SavedForward::from_spec(&"5432:db.internal:5432".parse().unwrap()),
            SavedForward::from_spec(&"[::1]:8080:10.0.1.5:80".parse().unwrap()),
        ],
        reconnect_forwards: true,
        ..Profile::new(name, "Env=prod,Role=web-*")
    }
}

#[test]
fn round_trip_keeps_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let store = ProfileStore::at(dir.path().join("sub/profiles.toml"));
    assert!(store.list().unwrap().is_empty());
    let a = sample("web prod");
    let b = Profile::new("db", "i-0123456789abcdef0");
    store.add(a.clone()).unwrap();
    store.add(b.clone()).unwrap();
    assert_eq!(store.list().unwrap(), vec![b.clone(), a.clone()]);
    assert_eq!(store.get("web prod").unwrap(), a);
    let text = fs::read_to_string(store.path()).unwrap();
    assert!(text.contains("schema_version = 1"), "{text}");
    assert!(text.contains("[[profile]]"), "{text}");
    assert!(text.contains("via = \"auto\""), "{text}");
    assert!(text.contains("[[profile.forwards]]"), "{text}");

    let dup = store.add(Profile::new("db", "web")).unwrap_err();
    assert!(dup.message.contains("'db' already exists"), "{dup:?}");
    let bad = store.add(Profile::new("x", "Env=a,Role")).unwrap_err();
    assert_eq!(bad.kind, ErrorKind::InvalidInput);

    let stamp = store.mark_used("db").unwrap();
    assert_eq!(store.get("db").unwrap().last_used, Some(stamp));
    let renamed = Profile {
        name: "database".into(),
        ..store.get("db").unwrap()
    };
    store.update("db", renamed.clone()).unwrap();
    assert_eq!(store.get("database").unwrap(), renamed);
    assert!(store.get("db").is_err());
    assert!(store
        .update(
            "database",
            Profile {
                name: "web prod".into(),
                ..renamed
            }
        )
        .is_err());
    assert_eq!(store.remove("web prod").unwrap(), a);
    assert_eq!(store.list().unwrap().len(), 1);
    assert!(store
        .remove("web prod")
        .unwrap_err()
        .message
        .contains("'web prod'"));
    // No temp files left behind.
    let names: Vec<String> = fs::read_dir(dir.path().join("sub"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains("tmp")), "{names:?}");
}

#[test]
fn concurrent_writers_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profiles.toml");
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let store = ProfileStore::at(&path);
            std::thread::spawn(move || {
                for n in 0..10 {
                    store.add(Profile::new(format!("p{t}-{n}"), "web")).unwrap();
                    if n % 3 == 0 {
                        store.mark_used(&format!("p{t}-{n}")).unwrap();
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let all = ProfileStore::at(&path).list().unwrap();
    assert_eq!(all.len(), 80);
    assert_eq!(all.iter().filter(|p| p.last_used.is_some()).count(), 32);
}

#[test]
fn a_broken_file_is_kept_byte_for_byte_and_reported_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profiles.toml");
    let store = ProfileStore::at(&path);
    store.add(sample("web")).unwrap();
    let mut text = fs::read(&path).unwrap();
    // A hand edit gone wrong on a known line, plus bytes that must survive exactly.
    text.extend_from_slice(b"\n[[profile]]\nname = \"db\"\ntarget = \"db\nport = 22 # \xc3\xa9\n");
    fs::write(&path, &text).unwrap();
    let broken_line = String::from_utf8_lossy(&text)
        .lines()
        .position(|l| l == "target = \"db")
        .unwrap()
        + 1;

    let e = store.list().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Io);
    assert!(
        e.message
            .starts_with(&format!("{}:{broken_line}:", path.display())),
        "{e:?}"
    );
    let hint = e.hint.clone().unwrap();
    assert!(hint.contains("profiles.toml.broken-"), "{hint}");
    // Writes are refused with the same report, and the file is untouched.
    assert_eq!(store.add(Profile::new("new", "web")).unwrap_err(), e);
    assert_eq!(store.mark_used("web").unwrap_err(), e);
    assert_eq!(fs::read(&path).unwrap(), text);
    // Exactly one copy however often it is read (each read reports it), identical to the original.
    assert_eq!(store.get("web").unwrap_err(), e);
    let backups: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".broken-"))
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert_eq!(fs::read(&backups[0]).unwrap(), text);
    assert!(hint.contains(&backups[0].display().to_string()));
}

#[test]
fn rule_breaking_entries_and_missing_versions_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profiles.toml");
    let store = ProfileStore::at(&path);
    for (text, needle) in [
        (
            "schema_version = 1\n\n[[profile]]\nname = \"a\"\ntarget = \"web\"\n\n[[profile]]\nname = \"b\"\ntarget = \"web\"\nuser = \"no body\"\n",
            ":7:1: profile 'b': 'no body'",
        ),
        (
            "schema_version = 1\n[[profile]]\nname = \"a\"\ntarget = \"web\"\nusr = \"x\"\n",
            ":5:1: unknown field `usr`",
        ),
        ("[[profile]]\nname = \"a\"\ntarget = \"web\"\n", "no `schema_version"),
        ("schema_version = \"1\"\n", ":1:1: schema_version"),
    ] {
        fs::write(&path, text).unwrap();
        let e = store.list().unwrap_err();
        assert!(e.message.contains(needle), "{needle}: {e:?}");
        assert_eq!(fs::read_to_string(&path).unwrap(), text);
    }
}

#[test]
fn a_newer_schema_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profiles.toml");
    let text = "schema_version = 2\n[[profile]]\nname = \"a\"\ntarget = \"web\"\nfuture = true\n";
    fs::write(&path, text).unwrap();
    let store = ProfileStore::at(&path);
    let e = store.list().unwrap_err();
    assert!(e.message.contains("schema_version 2"), "{e:?}");
    assert!(e.hint.unwrap().contains("Upgrade"));
    assert!(store.add(Profile::new("b", "web")).is_err());
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1 + 1); // the file and the lock
}

#[test]
fn export_then_import_merges_by_name_with_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let source = ProfileStore::at(dir.path().join("a/profiles.toml"));
    source.add(sample("web")).unwrap();
    source.add(Profile::new("db", "Name=db-primary")).unwrap();
    source.mark_used("db").unwrap();
    let json = source.export_json().unwrap();
    assert!(json.contains("\"schema_version\": 1"), "{json}");

    let dest = ProfileStore::at(dir.path().join("b/profiles.toml"));
    dest.add(Profile::new("db", "Name=db-primary")).unwrap();
    dest.add(Profile {
        user: Some("admin".into()),
        ..sample("web")
    })
    .unwrap();
    dest.add(Profile::new("mine", "i-0123456789abcdef0"))
        .unwrap();
    let report = dest.import_json(&json).unwrap();
    assert_eq!(report.added, Vec::<String>::new());
    assert_eq!(report.updated, vec!["web".to_string()]);
    assert_eq!(report.unchanged, vec!["db".to_string()]);
    assert!(report.rejected.is_empty());
    assert_eq!(dest.get("web").unwrap(), sample("web"));
    assert_eq!(
        dest.get("db").unwrap().last_used,
        source.get("db").unwrap().last_used
    );
    assert_eq!(dest.list().unwrap().len(), 3);

    let mixed = r#"[{"name": "new", "target": "Env=dev"}, {"name": "bad", "target": "web", "port": 0},
        {"target": "web"}, {"name": "new", "target": "web"}, {"name": "x", "target": "web", "colour": 1}]"#;
    let report = dest.import_json(mixed).unwrap();
    assert_eq!(report.added, vec!["new".to_string()]);
    let reasons: Vec<(&str, &str)> = report
        .rejected
        .iter()
        .map(|r| (r.entry.as_str(), r.reason.as_str()))
        .collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(
        reasons[0].0 == "bad" && reasons[0].1.contains("port 0"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].0 == "#3" && reasons[1].1.contains("name"),
        "{reasons:?}"
    );
    assert!(reasons[2].1.contains("twice"), "{reasons:?}");
    assert!(reasons[3].1.contains("colour"), "{reasons:?}");

    let e = dest.import_json("{\"profiles\": [}").unwrap_err();
    assert!(e.message.contains("line 1"), "{e:?}");
    assert!(dest
        .import_json("{\"schema_version\": 9, \"profiles\": []}")
        .is_err());
}

#[test]
fn a_tunnel_duration_outside_an_hour_is_refused() {
    for bad in [0, 3601] {
        let p = Profile {
            max_tunnel_duration: Some(bad),
            ..sample("t")
        };
        let e = p.validate().unwrap_err();
        assert!(e.message.contains("profile 't'"), "{e:?}");
        assert!(e.message.contains("tunnel duration"), "{e:?}");
    }
    assert_eq!(
        sample("t").max_tunnel(),
        Some(std::time::Duration::from_secs(1800))
    );
}

#[test]
fn files_from_before_forwards_load_with_none_and_bad_forwards_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profiles.toml");
    let store = ProfileStore::at(path.clone());
    fs::write(
        &path,
        "schema_version = 1\n\n[[profile]]\nname = \"old\"\ntarget = \"web\"\n",
    )
    .unwrap();
    let old = store.get("old").unwrap();
    assert!(old.forwards.is_empty());
    assert!(!old.reconnect_forwards);
    fs::write(
        &path,
        "schema_version = 1\n\n[[profile]]\nname = \"a\"\ntarget = \"web\"\n\n\
         [[profile.forwards]]\nlocal_port = 5432\nhost = \"db;rm\"\nport = 5432\n",
    )
    .unwrap();
    let e = store.list().unwrap_err();
    assert!(e.message.contains("profile 'a'"), "{e:?}");
    assert!(e.message.contains("is not a host name"), "{e:?}");
}
