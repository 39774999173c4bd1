//! `ui/src/generated/bindings.ts` must be what the Rust types generate today.
//! `UPDATE_BINDINGS=1 cargo test -p keyless-app --test bindings` rewrites it — never under CI,
//! where a rewrite would compare the file with itself and pass whatever is committed.

use std::path::PathBuf;

#[test]
fn bindings_are_up_to_date() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/generated/bindings.ts");
    let fresh = keyless_app_lib::bindings::typescript();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        assert!(
            std::env::var_os("CI").is_none(),
            "UPDATE_BINDINGS is set under CI (CI is set): CI checks the committed bindings, it \
             must not rewrite them; unset UPDATE_BINDINGS"
        );
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale: run `UPDATE_BINDINGS=1 cargo test -p keyless-app --test bindings` and commit it",
        path.display()
    );
}

#[test]
fn bindings_name_every_wire_type() {
    let ts = keyless_app_lib::bindings::typescript();
    for name in [
        "Instance",
        "RegionError",
        "Inventory",
        "ErrorKind",
        "Fix",
        "ApiError",
        "AppInfo",
        "Via",
        "TrustDecision",
        "ConnectRequest",
        "Step",
        "ExitInfo",
        "SessionEvent",
        "PoolEntry",
        "SignOut",
        "Portal",
        "SetupChoices",
        "ConfigWritten",
    ] {
        assert!(
            ts.contains(&format!("export type {name} ")),
            "{name} missing:\n{ts}"
        );
    }
    // Tagged the way the UI switches on it.
    assert!(ts.contains("\"type\": \"host_key_unknown\""), "{ts}");
    assert!(ts.contains("\"type\": \"sso_login\""), "{ts}");
}

#[test]
fn the_error_kinds_are_a_value_the_ui_can_check_against() {
    let ts = keyless_app_lib::bindings::typescript();
    let line = ts
        .lines()
        .find(|l| l.starts_with("export const ERROR_KINDS = ["))
        .unwrap_or_else(|| panic!("no ERROR_KINDS:\n{ts}"));
    for kind in keyless_core::ErrorKind::all() {
        let name = serde_json::to_string(kind).unwrap();
        assert_eq!(line.matches(&name).count(), 1, "{name} in {line}");
    }
    assert!(
        line.contains("\"credentials\", \"access_denied\""),
        "{line}"
    );
}
