//! The server against hostile requests, over real HTTP with the request target sent
//! exactly as written: every guarded path in other spellings, a few thousand generated
//! paths and queries, junk that would fill the audit log, forty passwords at once, a
//! full disk under the audit log, and what the public may read through the API.

mod common;

use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

use common::*;
use rand::{Rng, RngExt, SeedableRng};
use reintegra::access::Role;
use reintegra::server::app::Access;

/// A data folder built once from the fixtures.
static DATA: LazyLock<PathBuf> = LazyLock::new(|| built_data("hostile-data"));

/// Dashboards as in the repository, except that PONAM alignment is for the ministry
/// (and admins) only, so that a signed-in role lacks access to one dashboard.
static DASHBOARDS: LazyLock<PathBuf> =
    LazyLock::new(|| restricted_dashboards("hostile-dashboards"));

/// A copy of the published folder in a folder of its own (for tests that write the
/// access folder or count its log).
async fn own_data() -> (PathBuf, tempfile::TempDir) {
    let source = tokio::task::spawn_blocking(|| DATA.clone()).await.unwrap();
    copy_of_published(&source)
}

async fn server(data: PathBuf, public: bool) -> TestApp {
    let dashboards = tokio::task::spawn_blocking(|| DASHBOARDS.clone())
        .await
        .unwrap();
    spawn_app(Settings {
        public,
        ..Settings::new(data, dashboards)
    })
    .await
}

/// Other spellings of a path: each character percent-encoded (upper and lower hex),
/// all of them encoded, double encoding, `//`, `/./`, `/../x/`, encoded slashes,
/// backslashes, a trailing slash, other letter case, and `;params`.
fn spellings(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = path.char_indices().collect();
    for &(i, c) in &chars {
        if c == '/' {
            continue;
        }
        let (head, tail) = (&path[..i], &path[i + c.len_utf8()..]);
        let byte = c as u32;
        out.push(format!("{head}%{byte:02X}{tail}"));
        out.push(format!("{head}%{byte:02x}{tail}"));
        out.push(format!("{head}%25{byte:02X}{tail}"));
        if c.is_ascii_lowercase() {
            out.push(format!("{head}{}{tail}", c.to_ascii_uppercase()));
        }
    }
    out.push(
        path.chars()
            .map(|c| {
                if c == '/' {
                    "/".to_string()
                } else {
                    format!("%{:02X}", c as u32)
                }
            })
            .collect(),
    );
    out.push(path.to_uppercase());
    out.push(format!("/{path}"));
    out.push(format!("{path}/"));
    out.push(format!("{path}/."));
    out.push(format!("{path}//"));
    out.push(format!("{path};"));
    out.push(format!("{path};x=1"));
    out.push(format!("{path}%00"));
    out.push(format!("{path}%20"));
    out.push(format!("{path}%2F"));
    for (i, _) in path.match_indices('/').skip(1) {
        let (head, tail) = path.split_at(i);
        out.push(format!("{head}/{tail}"));
        out.push(format!("{head}/.{tail}"));
        out.push(format!("{head}/x/..{tail}"));
        out.push(format!("{head}%2F{}", &tail[1..]));
        out.push(format!("{head}%2f{}", &tail[1..]));
        out.push(format!("{head}\\{}", &tail[1..]));
        out.push(format!("{head};p=1{tail}"));
    }
    out.sort();
    out.dedup();
    out.retain(|s| s != path);
    out
}

#[tokio::test]
async fn every_spelling_of_a_guarded_path_gets_the_plain_paths_decision_or_a_refusal() {
    let data = tokio::task::spawn_blocking(|| DATA.clone()).await.unwrap();
    let donor = account_token(&data, "spelling-donor", Role::Donor);
    let s = server(data, false).await;
    let dashboards = reintegra::definitions::dashboard::load_dir(&DASHBOARDS).unwrap();
    let mut paths: Vec<(String, Access, bool)> = Vec::new();
    for route in reintegra::server::routes() {
        match route.access {
            Access::Open => {}
            Access::Dashboard => {
                for d in &dashboards {
                    let path = route
                        .example
                        .replace("returns", &d.id)
                        .replace("by-region", &d.panels[0].id);
                    paths.push((path, route.access, d.allows(Role::Donor)));
                }
            }
            Access::Admin | Access::Internal => {
                paths.push((route.example.to_string(), route.access, false))
            }
            Access::Reader | Access::Measure | Access::Donor => {
                paths.push((route.example.to_string(), route.access, true))
            }
        }
    }
    let bearer = format!("Bearer {donor}");
    let mut checked = 0;
    for (path, access, donor_may) in &paths {
        let plain = raw_get(&s.base, path, &[]).await.status;
        assert!(plain == 303 || plain == 401, "{path}: {plain}");
        if !donor_may {
            let plain = raw_get(&s.base, path, &[("Authorization", &bearer)])
                .await
                .status;
            let refused = if *access == Access::Internal {
                404
            } else {
                403
            };
            assert_eq!(plain, refused, "{path} as a donor");
        }
        for spelling in spellings(path) {
            let anonymous = raw_get(&s.base, &spelling, &[]).await;
            assert!(
                anonymous.status == plain_anonymous(access)
                    || [303, 401, 400, 404, 405, 414].contains(&anonymous.status),
                "{spelling} (of {path}) as anonymous: {}",
                anonymous.status
            );
            assert!(
                !(200..300).contains(&anonymous.status),
                "{spelling} opened as anonymous"
            );
            if anonymous.status == 303 {
                let to = anonymous.header("location").unwrap_or_default();
                assert!(to.starts_with("/login?next="), "{spelling}: {to}");
            }
            if !donor_may {
                let r = raw_get(&s.base, &spelling, &[("Authorization", &bearer)]).await;
                assert!(
                    [403, 400, 404, 405].contains(&r.status),
                    "{spelling} (of {path}) as a donor: {}",
                    r.status
                );
                checked += 1;
            }
            checked += 1;
        }
    }
    assert!(checked > 1500, "{checked} spellings checked");
}

fn plain_anonymous(access: &Access) -> u16 {
    match access {
        Access::Reader | Access::Dashboard | Access::Internal | Access::Donor => 303,
        _ => 401,
    }
}

#[tokio::test]
async fn an_unknown_dashboard_is_404_for_everyone_before_any_handler_runs() {
    let data = tokio::task::spawn_blocking(|| DATA.clone()).await.unwrap();
    let admin = account_token(&data, "unknown-admin", Role::Admin);
    let s = server(data, false).await;
    for path in [
        "/d/nope",
        "/d/nope/briefing.pdf",
        "/d/nope/panels/x.csv",
        "/d/%72eturns%2Fpanels",
        "/d/..%2Fadmin",
    ] {
        for auth in [None, Some(format!("Bearer {admin}"))] {
            let headers: Vec<(&str, &str)> =
                auth.iter().map(|a| ("Authorization", a.as_str())).collect();
            let r = raw_get(&s.base, path, &headers).await;
            assert_eq!(r.status, 404, "{path} {auth:?}");
        }
    }
    // The percent-encoded id that once opened a closed page now gets the same answer
    // as the plain one: sign in first; with the role, the very same page.
    let r = raw_get(&s.base, "/d/%72eturns", &[]).await;
    assert_eq!(r.status, 303);
    let bearer = format!("Bearer {admin}");
    let plain = raw_get(&s.base, "/d/returns", &[("Authorization", &bearer)]).await;
    let encoded = raw_get(&s.base, "/d/%72eturns", &[("Authorization", &bearer)]).await;
    assert_eq!((plain.status, encoded.status), (200, 200));
    assert_eq!(plain.body, encoded.body);
}

/// A random request target: a real path (every dashboard, panel export, pack, API
/// measure, admin page) spelled in random ways, or a path built from pieces of real
/// ones, with a random query string.
fn random_target(rng: &mut impl Rng, real: &[String]) -> String {
    const PIECES: &[&str] = &[
        "d",
        "returns",
        "overview",
        "ponam",
        "psychosocial",
        "campaigns",
        "training",
        "panels",
        "by-region.csv",
        "briefing.pdf",
        "api",
        "v1",
        "measures",
        "admin",
        "audit",
        "metrics",
        "healthz",
        "static",
        "app.css",
        "login",
        "logout",
        "open",
        "datapackage.json",
        "returns_by_region.csv",
        ".",
        "..",
        "",
        "%2e%2e",
        "%2F",
        "RETURNS",
        "returns.csv",
        "x;y=1",
        "%00",
        "é",
        "%C3%A9",
        "%FF",
        "\\",
        "%5C",
    ];
    let mut path = if rng.random_bool(0.8) {
        real[rng.random_range(0..real.len())].clone()
    } else {
        let mut p = String::new();
        for _ in 0..rng.random_range(1..7) {
            p.push('/');
            p.push_str(PIECES[rng.random_range(0..PIECES.len())]);
        }
        p
    };
    for _ in 0..rng.random_range(0..4) {
        let chars: Vec<char> = path.chars().collect();
        let i = rng.random_range(0..chars.len());
        let c = chars[i];
        let (head, tail): (String, String) =
            (chars[..i].iter().collect(), chars[i + 1..].iter().collect());
        path = match rng.random_range(0..9) {
            0 if c.is_ascii() => format!("{head}%{:02X}{tail}", c as u32),
            1 if c.is_ascii() => format!("{head}%{:02x}{tail}", c as u32),
            2 if c.is_ascii() => format!("{head}%25{:02X}{tail}", c as u32),
            3 => format!("{head}{}{tail}", c.to_ascii_uppercase()),
            4 => format!("{head}{c}/{tail}"),
            5 => format!("{head}{c}/./{tail}"),
            6 => format!("{path}/"),
            7 => format!("{path};x=1"),
            _ => format!("/{path}"),
        };
    }
    if rng.random_bool(0.6) {
        let mut query = Vec::new();
        for _ in 0..rng.random_range(1..5) {
            let name = [
                "period", "place", "lang", "sex", "age", "by", "x", "next", "page", "%00", "sep",
            ][rng.random_range(0..11)];
            let value: String = match rng.random_range(0..6) {
                0 => "2018".into(),
                1 => "y".repeat(rng.random_range(1..3000)),
                2 => "%E9%ZZ%".into(),
                3 => "region".into(),
                4 => "en".into(),
                _ => "ML01".into(),
            };
            query.push(format!("{name}={value}"));
        }
        path.push('?');
        path.push_str(&query.join("&"));
    }
    path
}

#[tokio::test]
async fn thousands_of_generated_paths_never_open_a_closed_page_nor_fail() {
    let data = tokio::task::spawn_blocking(|| DATA.clone()).await.unwrap();
    let s = server(data, false).await;
    let mut real: Vec<String> = vec![
        "/".into(),
        "/api/v1/measures".into(),
        "/admin/audit".into(),
        "/metrics".into(),
        "/open/".into(),
        "/open/datapackage.json".into(),
        "/open/returns_by_region.csv".into(),
        "/open/iati.xml".into(),
        "/report/2019-Q3.pdf".into(),
    ];
    for d in reintegra::definitions::dashboard::load_dir(&DASHBOARDS).unwrap() {
        real.push(format!("/d/{}", d.id));
        real.push(format!("/d/{}/briefing.pdf", d.id));
        for p in &d.panels {
            real.push(format!("/d/{}/panels/{}.csv", d.id, p.id));
            real.push(format!("/d/{}/panels/{}.png", d.id, p.id));
            if let Some(m) = &p.measure {
                real.push(format!("/api/v1/measures/{m}"));
                real.push(format!("/api/v1/measures/{m}.csv"));
            }
        }
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2019);
    let targets: Vec<String> = (0..3000).map(|_| random_target(&mut rng, &real)).collect();
    let mut by_status = std::collections::BTreeMap::<u16, usize>::new();
    for chunk in targets.chunks(40) {
        let answers = futures_join(chunk.iter().map(|t| {
            let (base, target) = (s.base.clone(), t.clone());
            async move { raw_get(&base, &target, &[]).await }
        }))
        .await;
        for (target, r) in chunk.iter().zip(answers) {
            assert!(r.status >= 200 && r.status < 500, "{target}: {}", r.status);
            *by_status.entry(r.status).or_default() += 1;
            if (200..300).contains(&r.status) {
                // Only what is open to anyone: health, the stylesheet, the sign-in page.
                let open = r.body.contains("\"status\"")
                    || r.header("content-type")
                        .is_some_and(|c| c.starts_with("text/css"))
                    || r.body.contains("name=\"password\"");
                assert!(open, "{target} answered {} with a closed page", r.status);
            }
        }
    }
    // Most targets reach a real route and get its decision (sign in first), not a 404.
    let sign_in =
        by_status.get(&303).copied().unwrap_or(0) + by_status.get(&401).copied().unwrap_or(0);
    assert!(sign_in > 500, "{by_status:?}");
    println!("{by_status:?}");
}

/// Runs futures at once and collects their results in order.
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

fn audit_bytes(data: &Path) -> u64 {
    let log = reintegra::access::AuditLog::new(&reintegra::access::dir(data));
    log.files()
        .unwrap()
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .sum()
}

#[tokio::test]
async fn junk_requests_grow_the_audit_log_by_kilobytes_and_it_verifies() {
    let (data, _dir) = own_data().await;
    let s = server(data.clone(), false).await;
    // Settle the first entries (none expected, but the file may be created).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = audit_bytes(&data);
    let junk = "j".repeat(6000);
    let mut sent = 0;
    for i in 0..300 {
        // No route at all: counted, one summary line a minute.
        raw_get(&s.base, &format!("/nothing/{i}?{junk}"), &[]).await;
        raw_get(&s.base, &format!("/{}{i}", "x".repeat(7000)), &[]).await;
        // A real route, denied: logged, but capped.
        raw_get(
            &s.base,
            &format!("/d/returns?q={junk}{i}"),
            &[("x-request-id", &junk)],
        )
        .await;
        sent += 3;
    }
    // A URI over the limit is refused before anything reads it.
    let r = raw_get(
        &s.base,
        &format!("/d/returns?q={}", "z".repeat(20_000)),
        &[],
    )
    .await;
    assert_eq!(r.status, 414);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let grown = audit_bytes(&data) - before;
    // Uncapped, these requests carry over 5 MB of path, query and request id.
    assert!(
        grown < 300 * 1024,
        "{sent} junk requests grew the audit log by {grown} bytes"
    );
    println!("{sent} junk requests grew the audit log by {grown} bytes");
    let entries = reintegra::access::AuditLog::new(&reintegra::access::dir(&data))
        .read()
        .unwrap();
    let denied: Vec<_> = entries.iter().filter(|e| e.action == "denied").collect();
    assert_eq!(denied.len(), 300);
    assert!(denied.iter().all(|e| e.query.len() <= 256
        && e.query.ends_with("…[cut]")
        && e.request_id.as_ref().is_none_or(|r| r.len() <= 64)));
    drop(s);
    // At shutdown the unmatched requests are written as one summary line.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let entries = reintegra::access::AuditLog::new(&reintegra::access::dir(&data))
        .read()
        .unwrap();
    let summary: Vec<_> = entries.iter().filter(|e| e.action == "unmatched").collect();
    assert_eq!(summary.len(), 1, "{summary:?}");
    assert!(summary[0].detail.as_deref().unwrap().starts_with("60"));
    // The chain holds; an edited line is found by `audit verify`.
    let out = reintegra(&["audit", "verify", "--data", data.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("chain intact"));
    let log = reintegra::access::dir(&data).join("audit.log");
    let edited =
        std::fs::read_to_string(&log)
            .unwrap()
            .replacen("\"status\":303", "\"status\":200", 1);
    std::fs::write(&log, edited).unwrap();
    let out = reintegra(&["audit", "verify", "--data", data.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("BROKEN at") && text(&out).contains("audit.log:2"));
}

#[tokio::test]
async fn forty_wrong_passwords_at_once_get_at_most_five_verifications_and_health_answers() {
    let (data, _dir) = own_data().await;
    let store = reintegra::access::UsersStore::new(&reintegra::access::dir(&data));
    store
        .add("target", Role::Programme, "a long enough test passphrase")
        .unwrap();
    let admin = account_token(&data, "watcher", Role::Admin);
    let s = server(data.clone(), false).await;
    let metric = |text: &str| -> u64 {
        text.lines()
            .find(|l| l.starts_with("reintegra_password_verifications_total"))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let metrics = |base: String, admin: String| async move {
        raw_get(
            &base,
            "/metrics",
            &[("Authorization", &format!("Bearer {admin}"))],
        )
        .await
        .body
    };
    let before = metric(&metrics(s.base.clone(), admin.clone()).await);
    let base = s.base.clone();
    let health = tokio::spawn(async move {
        let mut ok = 0;
        for _ in 0..20 {
            if raw_get(&base, "/healthz", &[]).await.status == 200 {
                ok += 1;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        ok
    });
    let body = "username=target&password=wrong+wrong+wrong&next=%2F";
    let answers = futures_join((0..40).map(|_| {
        let base = s.base.clone();
        async move { raw_request(&base, "POST", "/login", &[], body).await.status }
    }))
    .await;
    let limited = answers.iter().filter(|s| **s == 429).count();
    let wrong = answers.iter().filter(|s| **s == 401).count();
    assert!(wrong <= 5 && limited >= 35, "{answers:?}");
    let after = metric(&metrics(s.base.clone(), admin).await);
    assert!(after - before <= 5, "{} verifications", after - before);
    assert_eq!(health.await.unwrap(), 20, "health answered all along");
    // The right password waits too.
    let ok = raw_request(
        &s.base,
        "POST",
        "/login",
        &[],
        "username=target&password=a+long+enough+test+passphrase",
    )
    .await;
    assert_eq!(ok.status, 429);
}

#[tokio::test]
async fn when_the_audit_log_cannot_be_written_person_pages_are_refused_and_health_says_so() {
    let (data, _dir) = own_data().await;
    let token = account_token(&data, "reader", Role::Programme);
    let access = reintegra::access::dir(&data);
    std::fs::create_dir_all(&access).unwrap();
    // A full disk: every write of the log fails with ENOSPC.
    std::os::unix::fs::symlink("/dev/full", access.join("audit.log")).unwrap();
    let s = server(data.clone(), false).await;
    let bearer = format!("Bearer {token}");
    let mut refused = false;
    for _ in 0..50 {
        let r = raw_get(&s.base, "/d/returns", &[("Authorization", &bearer)]).await;
        assert!(r.status == 200 || r.status == 503, "{}", r.status);
        if r.status == 503 {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(refused, "a person dashboard is refused while the log fails");
    for path in [
        "/api/v1/measures/returns?by=region",
        "/d/returns/panels/by-region.csv",
    ] {
        let r = raw_get(&s.base, path, &[("Authorization", &bearer)]).await;
        assert_eq!(r.status, 503, "{path}");
    }
    let health = raw_get(&s.base, "/healthz", &[]).await;
    assert_eq!(health.status, 503);
    assert!(
        health.body.contains("\"audit_log\":\"failing\""),
        "{}",
        health.body
    );
    // The disk has room again: the entries kept in memory are written, pages return.
    std::fs::remove_file(access.join("audit.log")).unwrap();
    let mut back = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if raw_get(&s.base, "/d/returns", &[("Authorization", &bearer)])
            .await
            .status
            == 200
        {
            back = true;
            break;
        }
    }
    assert!(back);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let entries = reintegra::access::AuditLog::new(&access).read().unwrap();
    assert!(
        entries.iter().any(|e| e.path == "/d/returns"
            && e.status == 200
            && e.user.as_deref() == Some("reader")),
        "the view served before the failure was noticed is recorded"
    );
}

#[tokio::test]
async fn the_public_reads_through_the_api_only_the_breakdowns_public_pages_show() {
    let data = tokio::task::spawn_blocking(|| DATA.clone()).await.unwrap();
    let donor = account_token(&data, "api-donor", Role::Donor);
    let s = server(data, true).await;
    let list = raw_get(&s.base, "/api/v1/measures", &[]).await;
    assert_eq!(list.status, 200);
    let list: serde_json::Value = serde_json::from_str(&list.body).unwrap();
    let returns = list["measures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "returns")
        .unwrap();
    let breakdowns: Vec<String> = returns["breakdowns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            b.as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_str().unwrap())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    assert!(breakdowns.contains(&"region".to_string()), "{breakdowns:?}");
    assert!(
        !breakdowns.iter().any(|b| b.contains("vulnerability")),
        "{breakdowns:?}"
    );
    let public = raw_get(&s.base, "/api/v1/measures/returns?by=region", &[]).await;
    assert_eq!(public.status, 200);
    let hidden = raw_get(
        &s.base,
        "/api/v1/measures/returns?by=region,vulnerability",
        &[],
    )
    .await;
    assert_eq!(hidden.status, 400, "{}", hidden.body);
    let hidden_csv = raw_get(
        &s.base,
        "/api/v1/measures/returns.csv?by=region,vulnerability",
        &[],
    )
    .await;
    assert_eq!(hidden_csv.status, 400);
    // A signed-in donor reads every declared breakdown of a measure it may see.
    let r = raw_get(
        &s.base,
        "/api/v1/measures/returns?by=region,vulnerability",
        &[("Authorization", &format!("Bearer {donor}"))],
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn credentials_in_the_address_are_refused_and_never_logged() {
    let (data, _dir) = own_data().await;
    let token = account_token(&data, "scripted", Role::Programme);
    let s = server(data.clone(), false).await;
    for target in [
        format!("/api/v1/measures?access_token={token}"),
        format!("/d/returns?token={token}"),
        format!("/api/v1/measures/returns?by=region&Bearer={token}"),
    ] {
        let r = raw_get(&s.base, &target, &[]).await;
        assert_eq!(r.status, 400, "{target}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let raw = std::fs::read_to_string(reintegra::access::dir(&data).join("audit.log")).unwrap();
    assert!(!raw.contains(&token) && raw.contains("[redacted]"));
}

#[tokio::test]
async fn huge_headers_are_refused() {
    let data = tokio::task::spawn_blocking(|| DATA.clone()).await.unwrap();
    let s = server(data, false).await;
    let big = "b".repeat(20_000);
    let r = raw_get(&s.base, "/healthz", &[("x-junk", &big)]).await;
    assert!(r.status == 431 || r.status == 400, "{}", r.status);
    let many: Vec<(String, String)> = (0..80).map(|i| (format!("x-h{i}"), "v".into())).collect();
    let refs: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(raw_get(&s.base, "/healthz", &refs).await.status, 431);
    assert_eq!(raw_get(&s.base, "/healthz", &[]).await.status, 200);
}

#[tokio::test]
async fn forwarded_addresses_are_believed_only_from_a_trusted_proxy() {
    let (data, _dir) = own_data().await;
    let dashboards = tokio::task::spawn_blocking(|| DASHBOARDS.clone())
        .await
        .unwrap();
    // A different name each time: only the per-address limit (20) is in play.
    let tries = std::sync::atomic::AtomicUsize::new(0);
    let login = |base: String, from: &'static str| {
        let name = format!(
            "ghost{}",
            tries.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        async move {
            raw_request(
                &base,
                "POST",
                "/login",
                &[("x-forwarded-for", from)],
                &format!("username={name}&password=wrong+wrong+wrong"),
            )
            .await
            .status
        }
    };
    // Behind a trusted proxy: each client address has its own limit.
    let trusted = spawn_app(Settings {
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..Settings::new(data.clone(), dashboards.clone())
    })
    .await;
    for _ in 0..20 {
        assert_eq!(login(trusted.base.clone(), "198.51.100.1").await, 401);
    }
    assert_eq!(login(trusted.base.clone(), "198.51.100.1").await, 429);
    assert_eq!(login(trusted.base.clone(), "198.51.100.2").await, 401);
    // Without it, the header is ignored: the peer's own address is limited.
    let direct = spawn_app(Settings::new(data.clone(), dashboards)).await;
    for i in 0..20 {
        let from: &'static str = Box::leak(format!("203.0.113.{i}").into_boxed_str());
        assert_eq!(login(direct.base.clone(), from).await, 401);
    }
    assert_eq!(login(direct.base.clone(), "203.0.113.99").await, 429);
}
