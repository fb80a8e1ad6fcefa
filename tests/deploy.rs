//! Running it for real: snapshots a server cannot serve are refused and reported while
//! it keeps serving; the job checks a snapshot against the dashboards before publishing
//! it and tells the servers how its run ended; snapshots synced to a replica's folder
//! while it serves; the server as another user, unable to open the private side.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use reintegra::access::Role;
use reintegra::snapshot::{Published, SnapshotId};

fn settings(data: &Path) -> Settings {
    let mut s = Settings::new(data, repo().join("dashboards"));
    s.poll = Duration::from_millis(50);
    s
}

/// Publishes a copy of the snapshot file `source` as a new snapshot of `data`, after
/// `edit` ran on the copy (opened read-write).
fn publish_copy(data: &Path, source: &Path, at: &str, edit: &str) -> SnapshotId {
    let published = Published::new(data.join("published"));
    let draft = published.draft_path();
    std::fs::copy(source, &draft).unwrap();
    if !edit.is_empty() {
        let conn = duckdb::Connection::open(&draft).unwrap();
        conn.execute_batch(edit).unwrap();
        conn.execute_batch("CHECKPOINT").unwrap();
    }
    let at = chrono::DateTime::parse_from_rfc3339(at)
        .unwrap()
        .with_timezone(&chrono::Utc);
    published.commit(&draft, at).unwrap()
}

fn current_file(data: &Path) -> PathBuf {
    let published = Published::new(data.join("published"));
    published.path_of(&published.current().unwrap().unwrap())
}

async fn wait_for<F: Fn(&serde_json::Value) -> bool>(
    app: &TestApp,
    what: &str,
    ok: F,
) -> serde_json::Value {
    for _ in 0..200 {
        let r = app.client.get(app.url("/healthz")).send().await.unwrap();
        let body: serde_json::Value = r.json().await.unwrap();
        if ok(&body) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
}

#[tokio::test]
async fn a_snapshot_of_a_newer_schema_is_refused_reported_and_the_old_one_kept_across_restarts() {
    let source = built_data("deploy-refused");
    let (data, _keep) = copy_of_published(&source);
    let original = current_file(&data);
    let old = Published::new(data.join("published"))
        .current()
        .unwrap()
        .unwrap();
    let app = spawn_app(settings(&data))
        .await
        .with_token("ops", Role::Admin);
    assert_eq!(app.json("/healthz").await["snapshot"], old.as_str());

    // The job of a newer version publishes a snapshot of schema 99.
    let newer = publish_copy(
        &data,
        &original,
        "2030-01-01T00:00:00Z",
        "UPDATE meta SET value = 'reintegra-snapshot/99' WHERE key = 'format'",
    );
    let health = wait_for(&app, "the refusal", |b| !b["snapshot_refused"].is_null()).await;
    assert_eq!(
        health["snapshot"],
        old.as_str(),
        "the old snapshot is still served"
    );
    assert_eq!(health["snapshot_refused"]["snapshot"], newer.as_str());
    let reason = health["snapshot_refused"]["reason"].as_str().unwrap();
    assert!(reason.contains("schema version 99"), "{reason}");
    assert!(
        !reason.contains(data.to_str().unwrap()),
        "no server path on an open route: {reason}"
    );
    assert_eq!(
        app.get("/healthz").await.status,
        200,
        "still serving: not taken out of the pool"
    );
    assert_eq!(app.ok("/d/overview").await.status, 200);
    let metrics = app.ok("/metrics").await.text();
    assert_eq!(metric(&metrics, "reintegra_snapshot_refused"), 1.0);

    // A restart meets CURRENT naming the unservable snapshot: it falls back to the
    // newest one it can serve, and says so.
    drop(app);
    let restarted = spawn_app(settings(&data))
        .await
        .with_token("ops", Role::Admin);
    let health = restarted.json("/healthz").await;
    assert_eq!(health["snapshot"], old.as_str());
    assert_eq!(health["snapshot_refused"]["snapshot"], newer.as_str());
    assert_eq!(restarted.ok("/d/returns").await.status, 200);

    // The job publishes a servable snapshot again: served, the refusal cleared.
    let good = publish_copy(&data, &original, "2030-01-02T00:00:00Z", "");
    let health = wait_for(&restarted, "the good snapshot", |b| {
        b["snapshot"] == good.as_str()
    })
    .await;
    assert!(health["snapshot_refused"].is_null(), "{health}");
    let metrics = restarted.ok("/metrics").await.text();
    assert_eq!(metric(&metrics, "reintegra_snapshot_refused"), 0.0);
}

#[tokio::test]
async fn a_damaged_current_snapshot_falls_back_to_the_newest_kept_one() {
    let source = built_data("deploy-damaged");
    let (data, _keep) = copy_of_published(&source);
    let good = Published::new(data.join("published"))
        .current()
        .unwrap()
        .unwrap();
    // CURRENT names a file of the right name that is not a DuckDB file at all.
    let published = Published::new(data.join("published"));
    let draft = published.draft_path();
    std::fs::write(&draft, b"not a snapshot").unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let damaged = published.commit(&draft, at).unwrap();
    let app = spawn_app(settings(&data)).await;
    let health = app.json("/healthz").await;
    assert_eq!(health["snapshot"], good.as_str());
    assert_eq!(health["snapshot_refused"]["snapshot"], damaged.as_str());
}

/// A copy of the repository's dashboards where one panel reads a measure that does not
/// exist: valid TOML, but no snapshot fits it.
fn broken_dashboards(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(repo().join("dashboards")).unwrap() {
        let path = entry.unwrap().path();
        let mut text = std::fs::read_to_string(&path).unwrap();
        if path.file_name().unwrap() == "overview.toml" {
            text = text.replacen(
                "measure = \"returns\"",
                "measure = \"returns_by_moon_phase\"",
                1,
            );
        }
        std::fs::write(dir.join(path.file_name().unwrap()), text).unwrap();
    }
    dir
}

fn ingest_with_dashboards(ws: &Workspace, dashboards: &Path) -> std::process::Output {
    reintegra(&[
        "ingest",
        "--inbox",
        ws.inbox().to_str().unwrap(),
        "--data",
        ws.data().to_str().unwrap(),
        "--queries",
        queries().to_str().unwrap(),
        "--policy",
        policy().to_str().unwrap(),
        "--dashboards",
        dashboards.to_str().unwrap(),
    ])
}

fn status(data: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(data.join("status/ingest.json")).unwrap()).unwrap()
}

#[tokio::test]
async fn the_job_publishes_only_what_the_dashboards_can_serve_and_tells_the_servers_how_it_ended() {
    let ws = Workspace::new();
    ws.deliver_fixtures();
    ws.deliver(
        "returns-broken.csv",
        b"person_ref;return_date\nR1;not a date\n",
    );
    let out = ingest_with_dashboards(&ws, &broken_dashboards("deploy-broken-dashboards"));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("does not fit the dashboards") && said.contains("overview.toml"),
        "{said}"
    );
    assert!(
        !ws.published().join("CURRENT").exists(),
        "nothing published"
    );
    let failed = status(&ws.data());
    assert_eq!(failed["outcome"], "failed");
    assert!(failed["last_success_at"].is_null());

    // Fixed dashboards: published, and the status says one file was quarantined.
    let out = ingest_with_dashboards(&ws, &repo().join("dashboards"));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let ok = status(&ws.data());
    assert_eq!(ok["outcome"], "quarantined");
    assert_eq!(ok["quarantined"], 1);
    assert!(ok["published"].is_string() && ok["last_success_at"].is_string());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&ws.published()), 0o750);
        assert_eq!(mode(&ws.current_snapshot()), 0o640);
        assert_eq!(mode(&ws.published().join("CURRENT")), 0o640);
        assert_eq!(mode(&ws.data().join("private")), 0o700);
        assert_eq!(mode(&ws.quarantine()), 0o700);
    }

    // The server reports the run, the snapshot's age and the sessions it sees.
    let app = spawn_app(settings(&ws.data())).await;
    let passphrase = "a long enough test passphrase";
    reintegra::access::UsersStore::new(&reintegra::access::dir(&ws.data()))
        .add("lead", Role::Admin, passphrase)
        .unwrap();
    let signed_in = app
        .client
        .post(app.url("/login"))
        .header("origin", &app.base)
        .form(&[
            ("username", "lead"),
            ("password", passphrase),
            ("next", "/"),
            ("lang", "fr"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status().as_u16(), 303);
    let metrics = app.ok("/metrics").await.text();
    assert_eq!(
        metric(&metrics, "reintegra_ingest_last_run_quarantined_files"),
        1.0
    );
    assert_eq!(metric(&metrics, "reintegra_ingest_last_run_failed"), 0.0);
    assert!(metric(&metrics, "reintegra_ingest_last_success_timestamp_seconds") > 1.7e9);
    assert!(metric(&metrics, "reintegra_snapshot_age_seconds") < 600.0);
    assert_eq!(metric(&metrics, "reintegra_sessions_alive"), 1.0);
    assert_eq!(metric(&metrics, "reintegra_audit_write_failures"), 0.0);
    // Every series the alert rules use is one the server exports.
    let rules = std::fs::read_to_string(repo().join("deploy/prometheus/alerts.yml")).unwrap();
    let mut used = 0;
    for word in rules.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if word.starts_with("reintegra_") && !word.ends_with('_') {
            used += 1;
            assert!(
                metrics
                    .lines()
                    .any(|l| l.starts_with(word) && l[word.len()..].starts_with([' ', '{'])),
                "alerts.yml uses {word}, which /metrics does not export"
            );
        }
    }
    assert!(used >= 6, "{used}");

    // A failed run keeps the last success time.
    std::fs::remove_file(ws.data().join("private/secret.key")).unwrap();
    ws.deliver("returns-again.csv", &one_month_of_returns("2018-03"));
    let out = ws.ingest_binary();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let failed = status(&ws.data());
    assert_eq!(failed["outcome"], "failed");
    assert_eq!(failed["last_success_at"], ok["last_success_at"]);
    let metrics = app.ok("/metrics").await.text();
    assert_eq!(metric(&metrics, "reintegra_ingest_last_run_failed"), 1.0);
}

/// The returns of one month of the fixtures, in reverse order: a new file (another
/// hash) that replaces that month with the same records, so a run publishes anew.
fn one_month_of_returns(month: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(fixtures().join("returns.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let mut rows: Vec<&str> = lines
        .filter(|l| l.split(',').nth(1).is_some_and(|d| d.starts_with(month)))
        .collect();
    assert!(!rows.is_empty());
    rows.reverse();
    format!("{header}\n{}\n", rows.join("\n")).into_bytes()
}

#[tokio::test]
async fn a_replica_serves_without_a_failure_while_new_snapshots_are_synced_into_its_folder() {
    let job = Workspace::new();
    job.deliver_fixtures();
    assert!(job.ingest_binary().status.success());
    let replica = tempfile::tempdir().unwrap();
    let out = reintegra(&[
        "sync",
        "--from",
        job.data().to_str().unwrap(),
        "--to",
        replica.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let app = Arc::new(
        spawn_app(settings(replica.path()))
            .await
            .with_token("reader", Role::Programme),
    );
    let first = app.json("/healthz").await["snapshot"]
        .as_str()
        .unwrap()
        .to_string();

    let stop = Arc::new(AtomicBool::new(false));
    let (served, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut load = Vec::new();
    for i in 0..4 {
        let (app, stop, served, failed) =
            (app.clone(), stop.clone(), served.clone(), failed.clone());
        load.push(tokio::spawn(async move {
            let paths = [
                "/d/overview",
                "/d/returns?lang=en",
                "/api/v1/measures/returns?by=region",
                "/healthz",
            ];
            while !stop.load(Ordering::Relaxed) {
                let ok = match app.client.get(app.url(paths[i % paths.len()])).send().await {
                    Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if ok {
                    served.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let mut last = first.clone();
    for round in 0..2 {
        job.deliver(
            &format!("returns-{round}.csv"),
            &one_month_of_returns(["2018-03", "2018-04"][round]),
        );
        let out = job.ingest_binary();
        assert!(out.status.success(), "{}", text(&out));
        let out = reintegra(&[
            "sync",
            "--from",
            job.data().to_str().unwrap(),
            "--to",
            replica.path().to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", text(&out));
        let now = Published::new(job.published()).current().unwrap().unwrap();
        assert_ne!(now.as_str(), last);
        wait_for(&app, "the synced snapshot", |b| {
            b["snapshot"] == now.as_str()
        })
        .await;
        last = now.as_str().to_string();
    }
    stop.store(true, Ordering::Relaxed);
    for l in load {
        l.await.unwrap();
    }
    let (served, failed) = (
        served.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
    );
    eprintln!("sync under load: {served} requests served, {failed} failed, 2 snapshots switched");
    assert!(served > 100, "{served}");
    assert_eq!(failed, 0);
    // The replica's folder keeps what the job keeps, group-readable.
    assert_eq!(
        Published::new(replica.path().join("published"))
            .list()
            .unwrap(),
        Published::new(job.published()).list().unwrap()
    );
}

/// Environment-dependent tests run when they can; under CI (`REINTEGRA_CI=1`) they
/// must.
fn required() -> bool {
    std::env::var_os("REINTEGRA_CI").is_some()
}

#[cfg(unix)]
#[tokio::test]
async fn the_server_runs_as_its_own_user_and_cannot_open_the_private_side() {
    use std::os::unix::fs::{PermissionsExt, chown};
    use std::os::unix::process::CommandExt;
    if unsafe { libc::geteuid() } != 0 {
        assert!(
            !required(),
            "REINTEGRA_CI is set: this test needs root (to run the server as another uid)"
        );
        eprintln!("skipped: not root, cannot run the server as another user");
        return;
    }
    const WEB_UID: u32 = 65534; // nobody
    const JOB_GROUP: u32 = 64999; // the group the job shares published/ with
    let ws = Workspace::new();
    std::fs::set_permissions(ws.dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    ws.deliver_fixtures();
    assert!(ws.ingest_binary().status.success());
    let data = ws.data();
    // What the README's install section does: the job's group on published/ and
    // status/, the access folder the server's own.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o750)).unwrap();
    chown(&data, Some(0), Some(JOB_GROUP)).unwrap();
    for dir in [data.join("published"), data.join("status")] {
        chown(&dir, Some(0), Some(JOB_GROUP)).unwrap();
        for f in std::fs::read_dir(&dir).unwrap() {
            chown(f.unwrap().path(), Some(0), Some(JOB_GROUP)).unwrap();
        }
    }
    let token = account_token(&data, "reader", Role::Programme);
    let access = data.join("access");
    chown(&access, Some(WEB_UID), Some(WEB_UID)).unwrap();
    for f in std::fs::read_dir(&access).unwrap() {
        chown(f.unwrap().path(), Some(WEB_UID), Some(WEB_UID)).unwrap();
    }
    // The binary and the dashboards where that user can read them.
    let bin = ws.dir.path().join("reintegra");
    std::fs::copy(env!("CARGO_BIN_EXE_reintegra"), &bin).unwrap();
    let dashboards = ws.dir.path().join("dashboards");
    std::fs::create_dir_all(&dashboards).unwrap();
    for f in std::fs::read_dir(repo().join("dashboards")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, dashboards.join(f.file_name().unwrap())).unwrap();
    }
    for p in [&bin, &dashboards] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = std::process::Command::new(&bin)
        .args([
            "serve",
            "--data",
            data.to_str().unwrap(),
            "--dashboards",
            dashboards.to_str().unwrap(),
        ])
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .env("HOME", ws.dir.path())
        .uid(WEB_UID)
        .gid(JOB_GROUP)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let client = bearer_client(&token, reqwest::redirect::Policy::none());
    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            up = r.status() == 200;
            if up {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let page = client.get(format!("{base}/d/overview")).send().await;
    let _ = server.kill();
    let output = server.wait_with_output().unwrap();
    assert!(
        up,
        "the server did not come up as uid {WEB_UID}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(page.unwrap().status().as_u16(), 200);
    // The same identity cannot open the store, the secret or the quarantine.
    for private in ["private/store.duckdb", "private/secret.key", "quarantine"] {
        let read = std::process::Command::new("/bin/ls")
            .arg("-l")
            .arg(data.join(private))
            .uid(WEB_UID)
            .gid(JOB_GROUP)
            .output()
            .unwrap();
        assert!(!read.status.success(), "uid {WEB_UID} could open {private}");
        let said = String::from_utf8_lossy(&read.stderr);
        assert!(said.contains("Permission denied"), "{private}: {said}");
    }
    let cat = std::process::Command::new("/bin/cat")
        .arg(data.join("private/store.duckdb"))
        .uid(WEB_UID)
        .gid(JOB_GROUP)
        .output()
        .unwrap();
    assert!(!cat.status.success());
}

async fn sign_in(c: &reqwest::Client, base: &str, password: &str) -> u16 {
    c.post(format!("{base}/login"))
        .header("origin", base)
        .form(&[
            ("username", "awa"),
            ("password", password),
            ("next", "/"),
            ("lang", "fr"),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn page_status(c: &reqwest::Client, base: &str) -> u16 {
    c.get(format!("{base}/d/returns"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_session_made_on_one_replica_is_honoured_and_ended_on_every_replica_and_survives_restarts()
 {
    let source = built_data("deploy-sessions");
    let (data, _keep) = copy_of_published(&source);
    let store = reintegra::access::UsersStore::new(&reintegra::access::dir(&data));
    let first = "a long enough test passphrase";
    store.add("awa", Role::Donor, first).unwrap();
    let (a, b) = (
        spawn_app(settings(&data)).await,
        spawn_app(settings(&data)).await,
    );
    // One browser: cookies are per host, not per port, so it shows both replicas the
    // same session as a load balancer would.
    let c = cookie_client();
    assert_eq!(sign_in(&c, &a.base, first).await, 303);
    assert_eq!(
        page_status(&c, &b.base).await,
        200,
        "made on A, honoured on B"
    );

    // Signed out on A: ended on B at its next request.
    let html = c
        .get(format!("{}/d/returns", a.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let out = c
        .post(format!("{}/logout", a.base))
        .header("origin", &a.base)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().as_u16(), 303);
    assert_eq!(page_status(&c, &b.base).await, 303, "signed out everywhere");

    // Signed in on B; both replicas restart; the session is still good on both.
    assert_eq!(sign_in(&c, &b.base, first).await, 303);
    drop((a, b));
    let (a, b) = (
        spawn_app(settings(&data)).await,
        spawn_app(settings(&data)).await,
    );
    assert_eq!(page_status(&c, &a.base).await, 200, "survives a restart");
    assert_eq!(page_status(&c, &b.base).await, 200);

    // A new password (users passwd) ends it on both; so does removing the account.
    store
        .set_password("awa", "another long enough passphrase")
        .unwrap();
    assert_eq!(page_status(&c, &a.base).await, 303);
    assert_eq!(page_status(&c, &b.base).await, 303);
    assert_eq!(
        sign_in(&c, &a.base, "another long enough passphrase").await,
        303
    );
    assert_eq!(page_status(&c, &b.base).await, 200);
    store.remove("awa").unwrap();
    assert_eq!(page_status(&c, &b.base).await, 303);
    assert_eq!(page_status(&c, &a.base).await, 303);
}
