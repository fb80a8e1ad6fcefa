//! Backup and restore through the real binary: a data folder built by `reintegra
//! fixtures` and `reintegra ingest` is backed up, deleted and restored; the restored
//! folder then publishes exactly what an untouched copy of the original publishes from
//! the same new delivery — which holds only if the record-key secret and the disclosure
//! state came back. Damaged and hostile archives restore nothing and write nothing
//! outside the folder.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Instant;

use common::*;
use sha2::Digest;

fn arg(path: &Path) -> &str {
    path.to_str().expect("UTF-8 test paths")
}

fn run_ok(args: &[&str]) -> Output {
    let out = reintegra(args);
    assert!(out.status.success(), "reintegra {args:?}: {}", text(&out));
    out
}

fn ingest(inbox: &Path, data: &Path) -> Output {
    reintegra(&[
        "ingest",
        "--inbox",
        arg(inbox),
        "--data",
        arg(data),
        "--queries",
        arg(&queries()),
        "--policy",
        arg(&policy()),
    ])
}

/// Copies a folder, modes included.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    std::fs::set_permissions(to, std::fs::metadata(from).unwrap().permissions()).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every file of a folder: relative path → SHA-256.
fn tree(root: &Path) -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(
                    rel,
                    hex::encode(sha2::Sha256::digest(std::fs::read(&path).unwrap())),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// The manifest of an archive.
fn manifest(archive: &Path) -> reintegra::ops::Manifest {
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(archive).unwrap());
    let mut tar = tar::Archive::new(gz);
    let mut first = tar.entries().unwrap().next().unwrap().unwrap();
    assert_eq!(&*first.path_bytes(), b"MANIFEST.json");
    let mut text = Vec::new();
    first.read_to_end(&mut text).unwrap();
    serde_json::from_slice(&text).unwrap()
}

fn current_snapshot(data: &Path) -> PathBuf {
    let name = std::fs::read_to_string(data.join("published/CURRENT")).unwrap();
    data.join("published").join(name.trim())
}

fn meta(data: &Path, key: &str) -> Option<String> {
    let published = reintegra::snapshot::Published::new(data.join("published"));
    let id = published.current().unwrap().unwrap();
    let snapshot = reintegra::snapshot::Snapshot::load(&published, &id).unwrap();
    snapshot.meta.get(key).cloned()
}

/// A later delivery: July 2018 again with three late returnees (fewer than the
/// threshold: their cells are held), and April 2019, a month no extract covered yet.
fn deliver_later(generated: &Path, inbox: &Path) {
    std::fs::create_dir_all(inbox).unwrap();
    let mut reader = csv::Reader::from_path(generated.join("returns.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    let date = column(&header, "return_date");
    let person = column(&header, "person_ref");
    let mut july: Vec<Vec<String>> = rows
        .iter()
        .filter(|r| r[date].starts_with("2018-07"))
        .cloned()
        .collect();
    assert!(july.len() > 10, "the fixtures have returns in July 2018");
    for late in july.clone().into_iter().take(3) {
        let mut late = late;
        late[person] = format!("L{}", late[person]);
        july.push(late);
    }
    let april: Vec<Vec<String>> = rows
        .iter()
        .filter(|r| r[date].starts_with("2019-02"))
        .map(|r| {
            let mut r = r.clone();
            r[date] = r[date].replace("2019-02-", "2019-04-");
            r[person] = format!("Q{}", r[person]);
            r
        })
        .collect();
    assert!(
        april.len() > 10,
        "the fixtures have returns in February 2019"
    );
    std::fs::write(
        inbox.join("retours-2018-07.csv"),
        to_csv(&header, &july, b',', false),
    )
    .unwrap();
    std::fs::write(
        inbox.join("returns-2019-04.csv"),
        to_csv(&header, &april, b',', false),
    )
    .unwrap();
}

/// The bytes of an archive's tar with one byte of `needle` flipped, compressed again.
fn with_member_byte_flipped(archive: &Path, needle: &[u8], to: &Path) {
    let mut tar_bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(archive).unwrap())
        .read_to_end(&mut tar_bytes)
        .unwrap();
    let at = tar_bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the member is in the archive");
    tar_bytes[at + needle.len() / 2] ^= 0x01;
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(to).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(&tar_bytes).unwrap();
    gz.finish().unwrap();
}

#[test]
fn a_restored_folder_publishes_what_the_original_publishes() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let generated = root.join("generated");
    run_ok(&["fixtures", "--out", arg(&generated), "--scale", "1"]);
    let inbox = root.join("inbox");
    copy_dir(&generated, &inbox);
    let data = root.join("data");
    let first = ingest(&inbox, &data);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    run_ok(&[
        "users",
        "add",
        "amina",
        "--role",
        "programme",
        "--password",
        "a long enough test passphrase",
        "--data",
        arg(&data),
    ]);

    // Back up.
    let backups = root.join("backups");
    std::fs::create_dir_all(&backups).unwrap();
    let archive = backups.join("reintegra.tar.gz");
    let started = Instant::now();
    let out = run_ok(&["backup", "--data", arg(&data), "--out", arg(&archive)]);
    let backup_seconds = started.elapsed().as_secs_f64();
    let said = text(&out);
    assert!(
        said.contains("backed up") && said.contains("quarantine/"),
        "{said}"
    );
    let archive_bytes = std::fs::metadata(&archive).unwrap().len();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&archive).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let listed = manifest(&archive);
    let paths: Vec<&str> = listed.files.iter().map(|f| f.path.as_str()).collect();
    for needed in [
        "private/store.duckdb",
        "private/secret.key",
        "published/CURRENT",
        "access/users.json",
    ] {
        assert!(paths.contains(&needed), "{needed} in {paths:?}");
    }
    assert!(paths.iter().all(|p| !p.starts_with("private/staging/")
        && !p.starts_with("private/spill/")
        && !p.starts_with("quarantine/")));
    assert_eq!(
        paths
            .iter()
            .filter(|p| p.ends_with(".duckdb") && p.starts_with("published/"))
            .count(),
        1
    );
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data.join("private/last-backup.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record["bytes"], archive_bytes);
    assert_eq!(
        record["sha256"],
        hex::encode(sha2::Sha256::digest(std::fs::read(&archive).unwrap()))
    );

    // Keep an untouched copy, lose the folder, restore it.
    let control = root.join("control");
    copy_dir(&data, &control);
    std::fs::remove_dir_all(&data).unwrap();
    let started = Instant::now();
    let out = run_ok(&["restore", "--from", arg(&archive), "--data", arg(&data)]);
    let restore_seconds = started.elapsed().as_secs_f64();
    assert!(text(&out).contains("restored"), "{}", text(&out));
    for file in &listed.files {
        assert_eq!(
            std::fs::read(data.join(&file.path)).unwrap(),
            std::fs::read(control.join(&file.path)).unwrap(),
            "{}",
            file.path
        );
    }
    let doctor = reintegra(&["doctor", "--data", arg(&data)]);
    assert_eq!(
        doctor.status.code(),
        Some(0),
        "a restored folder is in order:\n{}",
        text(&doctor)
    );
    let users = run_ok(&["users", "list", "--data", arg(&data)]);
    assert!(text(&users).contains("amina"), "{}", text(&users));
    run_ok(&["audit", "verify", "--data", arg(&data)]);

    // A folder that is not empty is refused without --force.
    let again = reintegra(&["restore", "--from", arg(&archive), "--data", arg(&data)]);
    assert!(!again.status.success());
    assert!(
        text(&again).contains("not empty") && text(&again).contains("--force"),
        "{}",
        text(&again)
    );

    // A damaged archive restores nothing, even with --force.
    let before = tree(&data);
    let member = backups.join("member-damaged.tar.gz");
    let secret = std::fs::read(data.join("private/secret.key")).unwrap();
    with_member_byte_flipped(&archive, &secret, &member);
    let damaged = reintegra(&[
        "restore",
        "--from",
        arg(&member),
        "--data",
        arg(&data),
        "--force",
    ]);
    assert!(!damaged.status.success());
    assert!(
        text(&damaged).contains("private/secret.key"),
        "names the file: {}",
        text(&damaged)
    );
    assert_eq!(tree(&data), before, "the data folder is untouched");
    let flipped = backups.join("byte-damaged.tar.gz");
    let mut bytes = std::fs::read(&archive).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&flipped, &bytes).unwrap();
    let elsewhere = root.join("elsewhere");
    let damaged = reintegra(&[
        "restore",
        "--from",
        arg(&flipped),
        "--data",
        arg(&elsewhere),
    ]);
    assert!(!damaged.status.success(), "{}", text(&damaged));
    assert!(
        text(&damaged).contains("nothing was restored"),
        "{}",
        text(&damaged)
    );
    assert!(!elsewhere.exists());
    let damaged = reintegra(&[
        "restore",
        "--from",
        arg(&flipped),
        "--data",
        arg(&data),
        "--force",
    ]);
    assert!(!damaged.status.success());
    assert_eq!(tree(&data), before, "the data folder is untouched");

    // A negative control: the same archive with a new secret publishes other figures.
    let new_key = root.join("new-key");
    run_ok(&["restore", "--from", arg(&archive), "--data", arg(&new_key)]);
    std::fs::remove_file(new_key.join("private/secret.key")).unwrap();
    run_ok(&["keygen", "--data", arg(&new_key), "--confirm-new-secret"]);

    // The same later delivery into each.
    let cells_before = all_cells(&current_snapshot(&control));
    for (name, folder) in [
        ("control", &control),
        ("restored", &data),
        ("new-key", &new_key),
    ] {
        let inbox = root.join(format!("inbox-{name}"));
        deliver_later(&generated, &inbox);
        let out = ingest(&inbox, folder);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out));
        let accepted = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("accepted"))
            .count();
        assert_eq!(accepted, 2, "{name}: {}", text(&out));
    }
    let control_cells = all_cells(&current_snapshot(&control));
    let restored_cells = all_cells(&current_snapshot(&data));
    let new_key_cells = all_cells(&current_snapshot(&new_key));
    assert!(
        control_cells.len() > cells_before.len(),
        "April 2019 added cells"
    );
    assert_eq!(restored_cells.len(), control_cells.len());
    let differing: Vec<_> = control_cells
        .iter()
        .filter(|(k, v)| restored_cells.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .take(5)
        .collect();
    assert!(differing.is_empty(), "cells that differ: {differing:?}");
    assert_eq!(
        meta(&data, "secret_key_id"),
        meta(&control, "secret_key_id")
    );
    assert_eq!(
        meta(&data, "sdc_generation"),
        meta(&control, "sdc_generation")
    );
    let changed = control_cells
        .iter()
        .filter(|(k, v)| new_key_cells.get(*k) != Some(*v))
        .count();
    assert!(
        changed > 0,
        "a new secret changes published cells (the comparison can tell)"
    );

    eprintln!(
        "backup: {} files, archive {archive_bytes} bytes, backup {backup_seconds:.2} s, restore {restore_seconds:.2} s; a new secret changed {changed} of {} cells",
        listed.files.len(),
        control_cells.len()
    );
}

/// An archive with a valid manifest listing `private/secret.key` and one raw entry
/// named `name` (bytes as given: no library gets to clean them).
fn hostile_archive(path: &Path, name: &[u8]) {
    let key = b"0123456789abcdef";
    let manifest = serde_json::json!({
        "format": "reintegra-backup/1",
        "version": "0.1.0",
        "created_at": "2026-12-01T00:00:00Z",
        "snapshot": null,
        "files": [{
            "path": "private/secret.key",
            "size": key.len(),
            "sha256": hex::encode(sha2::Sha256::digest(key)),
            "mode": "0600",
        }],
    });
    let text = serde_json::to_vec(&manifest).unwrap();
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::default(),
    );
    let mut builder = tar::Builder::new(gz);
    let mut header = tar::Header::new_gnu();
    header.set_size(text.len() as u64);
    header.set_mode(0o600);
    builder
        .append_data(&mut header, "MANIFEST.json", &text[..])
        .unwrap();
    let mut header = tar::Header::new_gnu();
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(key.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append(&header, &key[..]).unwrap();
    builder.into_inner().unwrap().finish().unwrap();
}

#[test]
fn archives_with_escaping_paths_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let nest = root.join("a/b");
    std::fs::create_dir_all(&nest).unwrap();
    let data = nest.join("data");
    let absolute = root.join("absolute-evil");
    let cases: [(&str, Vec<u8>); 4] = [
        ("dotdot", b"../evil".to_vec()),
        ("dotdots", b"private/../../../evil".to_vec()),
        ("absolute", absolute.to_str().unwrap().as_bytes().to_vec()),
        ("not listed", b"private/other.key".to_vec()),
    ];
    for (what, name) in cases {
        let archive = root.join(format!("{what}.tar.gz"));
        hostile_archive(&archive, &name);
        let out = reintegra(&["restore", "--from", arg(&archive), "--data", arg(&data)]);
        assert!(!out.status.success(), "{what}: {}", text(&out));
        assert!(
            text(&out).contains("refused the entry"),
            "{what}: {}",
            text(&out)
        );
        assert!(!data.exists(), "{what}: nothing restored");
        for place in [
            root.join("evil"),
            root.join("a/evil"),
            nest.join("evil"),
            absolute.clone(),
        ] {
            assert!(!place.exists(), "{what}: wrote {}", place.display());
        }
        assert_eq!(
            std::fs::read_dir(&nest).unwrap().count(),
            0,
            "{what}: no work folder left"
        );
    }
}
