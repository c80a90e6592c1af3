//! The keychain against the real Secret Service (gnome-keyring on a private session bus, started
//! by scripts/test): reads over the one connection kept for the process find what `keyring`
//! wrote, and what other tools wrote the way keyring 1 did, as `keyring` itself would.

use keyhole_core::{Keychain, Secret, SecretStore};

fn keychain(test: &str) -> (Keychain, String) {
    let service = format!("dev.keyhole.test.{test}.{}", std::process::id());
    let keychain = Keychain::open_service(&service).unwrap_or_else(|e| {
        panic!("these tests need a Secret Service on the session bus (scripts/test starts gnome-keyring): {e}")
    });
    (keychain, service)
}

fn text(found: Option<Secret>) -> Option<String> {
    found.map(|s| s.secret().to_owned())
}

#[test]
fn reads_share_one_connection_and_see_every_write_and_delete() {
    let (keychain, _) = keychain("reads");
    keychain
        .save("first", &Secret::new("one".into()))
        .expect("save");
    keychain
        .save("second", &Secret::new("zwei — ü ✓".into()))
        .expect("save");
    assert_eq!(
        text(keychain.load("first").expect("load")),
        Some("one".into())
    );
    assert_eq!(
        text(keychain.load("second").expect("load")),
        Some("zwei — ü ✓".into())
    );
    assert_eq!(text(keychain.load("never-written").expect("load")), None);
    // A write between two reads is seen by the next read over the same connection.
    keychain
        .save("first", &Secret::new("uno".into()))
        .expect("save");
    assert_eq!(
        text(keychain.load("first").expect("load")),
        Some("uno".into())
    );
    keychain.delete("first").expect("delete");
    assert_eq!(text(keychain.load("first").expect("load")), None);

    // open_service's probe and the five reads: one connection, every read answered over it.
    let (connections, answered) = keychain.kept_reads();
    assert_eq!(
        connections, 1,
        "one Secret Service connection for every read"
    );
    assert_eq!(
        answered, 6,
        "the probe and five reads, none handed back to keyring"
    );
    keychain.delete("second").expect("delete");
}

#[test]
fn an_item_written_without_keyrings_target_is_found_as_keyring_finds_it() {
    let (keychain, service) = keychain("legacy");
    // secret-tool stores in the default collection with only the attributes given: what
    // keyring 1 (and other tools) wrote, which keyring 3.2.1+ still finds.
    let mut store = std::process::Command::new("secret-tool")
        .args([
            "store",
            "--label=keyhole test",
            "service",
            &service,
            "username",
            "legacy",
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("secret-tool (scripts/setup installs libsecret-tools)");
    use std::io::Write as _;
    store
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"from another tool")
        .expect("write");
    assert!(store.wait().expect("secret-tool").success());
    assert_eq!(
        text(keychain.load("legacy").expect("load")),
        Some("from another tool".into())
    );
    assert_eq!(
        keychain.kept_reads(),
        (1, 2),
        "the probe and the read, kept connection"
    );
    // keyring's delete finds it the same way.
    keychain.delete("legacy").expect("delete");
    assert_eq!(text(keychain.load("legacy").expect("load")), None);
}
