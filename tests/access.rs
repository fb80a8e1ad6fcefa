//! Access control and audit: every route behind the right role, login and logout,
//! rate limits, cross-site refusal, security headers, tokens, accounts changed while
//! the server runs, and the audit log.

mod common;

use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

use common::*;
use reintegra::access::Role;
use reintegra::definitions::Dashboard;
use reintegra::server::app::Access;

const PASSWORD: &str = "a long enough test passphrase";

/// A data folder built once from the fixtures.
static DATA: LazyLock<PathBuf> = LazyLock::new(|| built_data("access-data"));

/// Dashboards as in the repository, except that PONAM alignment is for the ministry
/// (and admins) only, so that some signed-in role lacks access to a dashboard.
static DASHBOARDS: LazyLock<PathBuf> = LazyLock::new(|| restricted_dashboards("access-dashboards"));

async fn start(data: PathBuf, public: bool) -> TestApp {
    let dashboards = tokio::task::spawn_blocking(|| DASHBOARDS.clone())
        .await
        .unwrap();
    spawn_app(Settings {
        public,
        ..Settings::new(data, dashboards)
    })
    .await
}

async fn shared_server() -> TestApp {
    let data = tokio::task::spawn_blocking(|| DATA.clone()).await.unwrap();
    for (name, role) in [
        ("donor1", Role::Donor),
        ("ministry1", Role::Ministry),
        ("programme1", Role::Programme),
        ("admin1", Role::Admin),
    ] {
        account_token(&data, name, role);
    }
    start(data, false).await
}

/// A data folder of its own (for tests that change accounts or count log entries).
async fn own_server(public: bool) -> (TestApp, tempfile::TempDir) {
    let source = tokio::task::spawn_blocking(|| DATA.clone()).await.unwrap();
    let (data, dir) = copy_of_published(&source);
    (start(data, public).await, dir)
}

fn add_user(data: &Path, name: &str, role: Role) {
    let store = reintegra::access::UsersStore::new(&reintegra::access::dir(data));
    store.add(name, role, PASSWORD).unwrap();
}

async fn login(c: &reqwest::Client, base: &str, name: &str, password: &str) -> reqwest::Response {
    c.post(format!("{base}/login"))
        .header("origin", base)
        .form(&[
            ("username", name),
            ("password", password),
            ("next", "/d/returns"),
            ("lang", "en"),
        ])
        .send()
        .await
        .unwrap()
}

fn audit_entries(data: &Path) -> Vec<reintegra::access::Entry> {
    reintegra::access::AuditLog::new(&reintegra::access::dir(data))
        .read()
        .unwrap()
}

/// Waits for the audit thread to write what was recorded.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn every_route_answers_401_or_a_redirect_without_a_session_and_403_without_the_role() {
    let s = shared_server().await;
    let anonymous = cookie_client();
    let tokens: Vec<(Role, String)> = [Role::Donor, Role::Ministry, Role::Programme, Role::Admin]
        .into_iter()
        .map(|r| {
            (
                r,
                account_token(&s.data, &format!("matrix-{}", r.code()), r),
            )
        })
        .collect();
    let dashboards = reintegra::definitions::dashboard::load_dir(&DASHBOARDS).unwrap();
    let mut checked = 0;
    for route in reintegra::server::routes() {
        // Every dashboard for dashboard routes, the example otherwise.
        // (Exports of a dashboard name one of its own panels.)
        let paths: Vec<(String, Option<&Dashboard>)> = if route.access == Access::Dashboard {
            dashboards
                .iter()
                .map(|d| {
                    let path = route
                        .example
                        .replace("returns", &d.id)
                        .replace("by-region", &d.panels[0].id);
                    (path, Some(d))
                })
                .collect()
        } else {
            vec![(route.example.to_string(), None)]
        };
        for (path, dashboard) in paths {
            let url = format!("{}{path}", s.base);
            let method = if route.path == "/logout" {
                reqwest::Method::POST
            } else {
                reqwest::Method::GET
            };
            let r = anonymous
                .request(method.clone(), &url)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            match route.access {
                // Open routes answer everyone (signing out of nothing goes back to /login).
                Access::Open => assert!(
                    status != 401 && status != 403 && (status != 303 || route.path == "/logout"),
                    "{path}: {status}"
                ),
                _ if path.starts_with("/api/") || path == "/metrics" => {
                    assert_eq!(status, 401, "{path}");
                    assert!(r.headers().get("www-authenticate").is_some());
                }
                _ => {
                    assert_eq!(status, 303, "{path}");
                    assert!(
                        r.headers()["location"]
                            .to_str()
                            .unwrap()
                            .starts_with("/login?next="),
                        "{path}"
                    );
                }
            }
            for (role, token) in &tokens {
                let r = anonymous
                    .request(method.clone(), &url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let allowed = match route.access {
                    // The example measure is on the overview, open to every role.
                    Access::Open | Access::Reader | Access::Measure => true,
                    Access::Admin => *role == Role::Admin,
                    Access::Internal => matches!(role, Role::Programme | Role::Admin),
                    Access::Donor => matches!(role, Role::Donor | Role::Programme | Role::Admin),
                    Access::Dashboard => dashboard.unwrap().allows(*role),
                };
                if allowed {
                    assert!(
                        status < 400 || route.path == "/logout",
                        "{path} as {role:?}: {status}"
                    );
                } else if route.access == Access::Internal {
                    // Internal pages do not exist for other roles.
                    assert_eq!(status, 404, "{path} as {role:?}");
                } else {
                    assert_eq!(status, 403, "{path} as {role:?}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 40, "{checked}");
    // The API follows the dashboards: a donor cannot read a measure only PONAM shows…
    let donor = &tokens[0].1;
    let list: serde_json::Value = anonymous
        .get(format!("{}/api/v1/measures", s.base))
        .bearer_auth(donor)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!list["measures"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn login_and_logout() {
    let (s, _dir) = own_server(false).await;
    add_user(&s.data, "awa", Role::Donor);
    let c = cookie_client();
    let form = c
        .get(format!("{}/login?lang=en", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        form.contains("name=\"username\"")
            && form.contains("name=\"password\"")
            && form.contains("Sign in")
    );
    let fr = c
        .get(format!("{}/login", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(fr.contains("Mot de passe"));

    let wrong = login(&c, &s.base, "awa", "not the password at all").await;
    let unknown = login(&c, &s.base, "nobody", PASSWORD).await;
    assert_eq!(wrong.status().as_u16(), 401);
    assert_eq!(
        unknown.status().as_u16(),
        401,
        "the same status for an unknown user"
    );
    let (w, u) = (wrong.text().await.unwrap(), unknown.text().await.unwrap());
    assert!(w.contains("Wrong username or password") && u.contains("Wrong username or password"));

    let ok = login(&c, &s.base, "awa", PASSWORD).await;
    assert_eq!(ok.status().as_u16(), 303);
    assert_eq!(ok.headers()["location"], "/d/returns");
    let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && !cookie.contains("Secure"),
        "{cookie}"
    );
    let page = c
        .get(format!("{}/d/returns?lang=en", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("awa") && html.contains("Sign out"));
    assert!(
        !html.contains("/admin/audit"),
        "a donor's page has no admin link"
    );

    // Sign out needs the session's form token.
    let r = c
        .post(format!("{}/logout", s.base))
        .header("origin", &s.base)
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = c
        .post(format!("{}/logout", s.base))
        .header("origin", &s.base)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let after = c.get(format!("{}/d/returns", s.base)).send().await.unwrap();
    assert_eq!(after.status().as_u16(), 303, "signed out");

    // A client's own X-Forwarded-Proto is not believed (no trusted proxy here)…
    let r = c
        .post(format!("{}/login", s.base))
        .header("origin", &s.base)
        .header("x-forwarded-proto", "https")
        .form(&[("username", "awa"), ("password", PASSWORD), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert!(
        !r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure")
    );
    // Only local paths are followed after signing in.
    let r = c
        .post(format!("{}/login", s.base))
        .header("origin", &s.base)
        .form(&[
            ("username", "awa"),
            ("password", PASSWORD),
            ("next", "//evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/");
    // …nor any other address than a path of this site, read as a browser reads it.
    for next in [
        "/\\evil.example",
        "/\t/evil.example",
        "/%09/x",
        "https://evil.example",
        "  //evil.example",
    ] {
        let r = c
            .post(format!("{}/login", s.base))
            .header("origin", &s.base)
            .form(&[("username", "awa"), ("password", PASSWORD), ("next", next)])
            .send()
            .await
            .unwrap();
        let to = r.headers()["location"].to_str().unwrap().to_string();
        assert!(
            to.starts_with('/') && !to.starts_with("//") && !to.contains('\\'),
            "{next:?} → {to}"
        );
    }
}

#[tokio::test]
async fn behind_a_trusted_tls_proxy_cookies_are_host_prefixed_and_hsts_is_sent() {
    let (plain, _d) = own_server(false).await;
    let data = plain.data.clone();
    add_user(&data, "safi", Role::Donor);
    let dashboards = tokio::task::spawn_blocking(|| DASHBOARDS.clone())
        .await
        .unwrap();
    let secure = spawn_app(Settings {
        secure_cookies: true,
        ..Settings::new(data.clone(), dashboards.clone())
    })
    .await;
    let r = login(&cookie_client(), &secure.base, "safi", PASSWORD).await;
    assert_eq!(r.status().as_u16(), 303);
    let hsts = r.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(hsts.contains("max-age="), "{hsts}");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with("__Host-rsid=")
            && cookie.contains("Secure")
            && cookie.contains("Path=/")
            && !cookie.contains("Domain"),
        "{cookie}"
    );
    // The session works with that cookie (sent by hand: the test client speaks HTTP).
    let value = cookie.split(';').next().unwrap();
    let page = raw_get(&secure.base, "/d/returns?lang=en", &[("cookie", value)]).await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("set-cookie")
            .is_some_and(|c| c.starts_with("__Host-lang="))
    );
    // A cookie without the prefix is not a session here.
    let bare = value.trim_start_matches("__Host-");
    assert_eq!(
        raw_get(&secure.base, "/d/returns", &[("cookie", bare)])
            .await
            .status,
        303
    );
    // A trusted proxy's word that the request came over TLS marks the cookie Secure.
    let proxied = spawn_app(Settings {
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..Settings::new(data, dashboards)
    })
    .await;
    let r = cookie_client()
        .post(format!("{}/login", proxied.base))
        .header("origin", &proxied.base)
        .header("x-forwarded-proto", "https")
        .form(&[("username", "safi"), ("password", PASSWORD), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure")
    );
}

#[tokio::test]
async fn what_depends_on_the_viewer_is_private_and_varies_by_cookie_and_authorization() {
    let s = shared_server().await;
    let token = account_token(&s.data, "cacher", Role::Admin);
    let c = bearer_client(&token, reqwest::redirect::Policy::none());
    for path in [
        "/",
        "/d/returns",
        "/d/returns/panels/by-region.csv",
        "/d/returns/briefing.pdf",
        "/api/v1/measures",
        "/api/v1/measures/returns?by=region",
        "/api/v1/measures/returns.csv?by=region",
    ] {
        let r = c.get(format!("{}{path}", s.base)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let cache = r.headers()["cache-control"].to_str().unwrap();
        let vary = r.headers()["vary"].to_str().unwrap();
        assert!(
            cache.contains("private") || cache.contains("no-store"),
            "{path}: {cache}"
        );
        assert!(
            vary.contains("Cookie") && vary.contains("Authorization"),
            "{path}: {vary}"
        );
    }
}

#[tokio::test]
async fn a_session_survives_a_restart_and_signing_out_ends_it_for_every_server() {
    let (first, _d) = own_server(false).await;
    let data = first.data.clone();
    add_user(&data, "kadi", Role::Programme);
    let r = login(&cookie_client(), &first.base, "kadi", PASSWORD).await;
    assert_eq!(r.status().as_u16(), 303);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let sees = |base: String, cookie: String| async move {
        raw_get(&base, "/d/overview", &[("cookie", &cookie)])
            .await
            .status
    };
    assert_eq!(sees(first.base.clone(), cookie.clone()).await, 200);
    // The server restarts (or a replica on the same data folder takes the request).
    drop(first);
    let second = start(data.clone(), false).await;
    let third = start(data.clone(), false).await;
    assert_eq!(sees(second.base.clone(), cookie.clone()).await, 200);
    assert_eq!(sees(third.base.clone(), cookie.clone()).await, 200);
    // Signing out on one ends the session on the other.
    let page = raw_get(&second.base, "/d/returns", &[("cookie", &cookie)]).await;
    let csrf = page
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let out = raw_request(
        &second.base,
        "POST",
        "/logout",
        &[("cookie", &cookie), ("origin", &second.base)],
        &format!("csrf={csrf}"),
    )
    .await;
    assert_eq!(out.status, 303);
    assert_eq!(sees(third.base.clone(), cookie.clone()).await, 303);
    assert_eq!(sees(second.base.clone(), cookie).await, 303);
}

#[tokio::test]
async fn tokens_expire_are_listed_and_revoked_while_the_server_runs() {
    let (s, _dir) = own_server(false).await;
    let data = s.data.to_str().unwrap().to_string();
    add_user(&s.data, "robot", Role::Programme);
    let issue = |expires: &str| {
        let out = reintegra(&[
            "users",
            "token",
            "robot",
            "--expires",
            expires,
            "--data",
            &data,
        ]);
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let long = issue("90d");
    let short = issue("1s");
    let other = issue("30d");
    let call = |token: String| {
        let base = s.base.clone();
        async move {
            raw_get(
                &base,
                "/api/v1/measures",
                &[("Authorization", &format!("Bearer {token}"))],
            )
            .await
            .status
        }
    };
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(call(long.clone()).await, 200);
    assert_eq!(call(short.clone()).await, 401, "expired");
    assert_eq!(call(other.clone()).await, 200);
    // Revoking one token: refused at its next request, the others still work.
    let id = long.split('_').nth(1).unwrap().to_string();
    let out = reintegra(&["users", "revoke", "robot", "--token", &id, "--data", &data]);
    assert!(out.status.success(), "{}", text(&out));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(call(long.clone()).await, 401);
    assert_eq!(call(other.clone()).await, 200);
    // Last use is written down (when the server stops at the latest) and listed.
    drop(s);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let listed = reintegra(&["users", "tokens", "robot", "--data", &data]);
    let listed = text(&listed);
    let other_id = other.split('_').nth(1).unwrap();
    let line = listed.lines().find(|l| l.starts_with(other_id)).unwrap();
    assert!(
        !line.contains("never") && line.contains("valid"),
        "{listed}"
    );
    assert!(listed.lines().any(|l| l.contains("expired")), "{listed}");
    assert!(!listed.contains(&other));
    // A new password revokes every token.
    let out = reintegra(&[
        "users",
        "passwd",
        "robot",
        "--password",
        "another long passphrase",
        "--data",
        &data,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let (s2, _d2) = (start(PathBuf::from(&data), false).await, ());
    let status = raw_get(
        &s2.base,
        "/api/v1/measures",
        &[("Authorization", &format!("Bearer {other}"))],
    )
    .await
    .status;
    assert_eq!(status, 401);
    let out = reintegra(&["users", "revoke", "robot", "--data", &data]);
    assert!(!out.status.success(), "one of --all or --token is required");
    // Every change names who made it.
    let log = reintegra(&["audit", "--data", &data, "--action", "account"]);
    assert!(
        text(&log).contains("[by ") && text(&log).contains("revoked"),
        "{}",
        text(&log)
    );
}

#[tokio::test]
async fn csv_exports_cannot_carry_formulas() {
    // A dashboard whose texts begin like formulas (as an edited definition might).
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(repo().join("dashboards")).unwrap() {
        let path = entry.unwrap().path();
        let mut text = std::fs::read_to_string(&path).unwrap();
        if path.file_name().unwrap() == "returns.toml" {
            text = text.replacen(
                "title = { fr = \"",
                "title = { fr = \"=HYPERLINK(\\\"http://x\\\")",
                2,
            );
            text = text.replacen(
                "description = { fr = \"",
                "description = { fr = \"@SUM(1)",
                3,
            );
        }
        std::fs::write(dir.path().join(path.file_name().unwrap()), text).unwrap();
    }
    let data = tokio::task::spawn_blocking(|| DATA.clone()).await.unwrap();
    let token = account_token(&data, "csv-reader", Role::Admin);
    let server = spawn_app(Settings::new(data, dir.path().to_path_buf())).await;
    let c = bearer_client(&token, reqwest::redirect::Policy::none());
    let mut formulas = 0;
    for path in [
        "/d/returns/panels/by-region.csv",
        "/d/returns/panels/by-region.csv?sep=semicolon",
        "/api/v1/measures/returns.csv?by=region",
    ] {
        let r = c
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let body = r.text().await.unwrap();
        let delimiter = if path.contains("semicolon") {
            b';'
        } else {
            b','
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(body.trim_start_matches('\u{feff}').as_bytes());
        for record in reader.records() {
            for field in record.unwrap().iter() {
                if field.starts_with("'=") || field.starts_with("'@") {
                    formulas += 1;
                }
                let first = field.chars().next();
                let number = field.replace(',', ".").parse::<f64>().is_ok();
                assert!(
                    !matches!(first, Some('=' | '+' | '@' | '\t' | '\r'))
                        && !(first == Some('-') && !number),
                    "{path}: a cell starts like a formula: {field:?}"
                );
            }
        }
    }
    assert!(
        formulas > 0,
        "the formula-like titles were found and neutralised"
    );
}

#[tokio::test]
async fn each_reader_sees_their_own_name_and_token_on_shared_pages() {
    // Pages and their frames are kept per role; the name and the sign-out token are
    // the reader's own.
    let (s, _dir) = own_server(false).await;
    let mut seen = Vec::new();
    for name in ["awa", "binta"] {
        add_user(&s.data, name, Role::Donor);
        let c = cookie_client();
        assert_eq!(
            login(&c, &s.base, name, PASSWORD).await.status().as_u16(),
            303
        );
        let html = c
            .get(format!("{}/d/returns?period=2018", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_string();
        assert_eq!(csrf.len(), 32, "{csrf}");
        assert!(html.contains(&format!("<strong>{name}</strong>")));
        seen.push((name, csrf, html));
    }
    let (awa, binta) = (&seen[0], &seen[1]);
    assert_ne!(awa.1, binta.1);
    assert!(!binta.2.contains("<strong>awa</strong>") && !binta.2.contains(&awa.1));
    assert!(!awa.2.contains('\u{e000}') && !awa.2.contains("reintegra:main"));
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_account_and_per_address() {
    let (s, _dir) = own_server(false).await;
    add_user(&s.data, "moussa", Role::Programme);
    let c = cookie_client();
    for _ in 0..5 {
        assert_eq!(
            login(&c, &s.base, "moussa", "wrong wrong wrong")
                .await
                .status()
                .as_u16(),
            401
        );
    }
    let r = login(&c, &s.base, "moussa", PASSWORD).await;
    assert_eq!(r.status().as_u16(), 429, "even the right password waits");
    assert!(r.headers().get("retry-after").is_some());
    assert!(r.text().await.unwrap().contains("Too many attempts"));
    // Other names from the same address, until the address limit.
    let mut limited = false;
    for i in 0..20 {
        if login(&c, &s.base, &format!("guess{i}"), "wrong wrong wrong")
            .await
            .status()
            .as_u16()
            == 429
        {
            limited = true;
            break;
        }
    }
    assert!(limited, "the address is limited too");
}

#[tokio::test]
async fn cross_site_requests_are_refused() {
    let (s, _dir) = own_server(false).await;
    add_user(&s.data, "fanta", Role::Ministry);
    let c = cookie_client();
    let r = c
        .post(format!("{}/login", s.base))
        .header("origin", "http://evil.example")
        .form(&[("username", "fanta"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.headers().get("set-cookie").is_none());
    let r = c
        .post(format!("{}/login", s.base))
        .header("sec-fetch-site", "cross-site")
        .form(&[("username", "fanta"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = c
        .post(format!("{}/logout", s.base))
        .header("sec-fetch-site", "same-site")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
}

#[tokio::test]
async fn every_response_carries_security_headers() {
    let s = shared_server().await;
    let c = cookie_client();
    for path in [
        "/",
        "/login",
        "/d/returns",
        "/healthz",
        "/static/app.css",
        "/nope",
        "/api/v1/measures",
    ] {
        let r = c.get(format!("{}{path}", s.base)).send().await.unwrap();
        let h = r.headers();
        let csp = h
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{path}"))
            .to_str()
            .unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(h.get("referrer-policy").is_some(), "{path}");
    }
}

#[tokio::test]
async fn tokens_and_account_changes_take_effect_while_the_server_runs() {
    let (s, _dir) = own_server(false).await;
    let data = s.data.to_str().unwrap().to_string();
    // A second process adds an account and issues a token.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_reintegra"))
        .args([
            "users",
            "add",
            "script",
            "--role",
            "programme",
            "--password",
            PASSWORD,
            "--data",
            &data,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let out = reintegra(&["users", "token", "script", "--data", &data]);
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("rtk_"));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let c = cookie_client();
    let r = c
        .get(format!("{}/api/v1/measures/returns?by=region", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // A page fetched with a token names the account; there is no session to sign out of.
    let page = c
        .get(format!("{}/d/returns", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<strong>script</strong>") && !page.contains("action=\"/logout\""));
    assert_eq!(
        c.get(format!("{}/api/v1/measures", s.base))
            .bearer_auth("rtk_forged")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        401
    );
    // A session of the same account…
    assert_eq!(
        login(&c, &s.base, "script", PASSWORD)
            .await
            .status()
            .as_u16(),
        303
    );
    assert_eq!(
        c.get(format!("{}/d/overview", s.base))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    // …ends when the account is removed, as does the token.
    let out = reintegra(&["users", "remove", "script", "--data", &data]);
    assert!(out.status.success());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        c.get(format!("{}/d/overview", s.base))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        303
    );
    assert_eq!(
        c.get(format!("{}/api/v1/measures", s.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        401
    );
    // Weak passwords are refused; a password can come on standard input.
    let out = reintegra(&[
        "users",
        "add",
        "weak",
        "--role",
        "donor",
        "--password",
        "123456",
        "--data",
        &data,
    ]);
    assert!(!out.status.success() && text(&out).contains("weak password"));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_reintegra"))
        .args(["users", "add", "piped", "--role", "donor", "--data", &data])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let listed = reintegra(&["users", "list", "--data", &data]);
    assert!(text(&listed).contains("piped") && text(&listed).contains("donor"));
}

#[tokio::test]
async fn views_exports_api_calls_and_logins_are_audited_without_secrets() {
    let (s, _dir) = own_server(false).await;
    add_user(&s.data, "auditor", Role::Admin);
    let token = account_token(&s.data, "caller", Role::Donor);
    let c = cookie_client();
    assert_eq!(
        login(&c, &s.base, "auditor", "wrong password here")
            .await
            .status()
            .as_u16(),
        401
    );
    assert_eq!(
        login(&c, &s.base, "ghost", "wrong password here")
            .await
            .status()
            .as_u16(),
        401
    );
    assert_eq!(
        login(&c, &s.base, "auditor", PASSWORD)
            .await
            .status()
            .as_u16(),
        303
    );
    c.get(format!("{}/d/returns?period=2018&lang=en", s.base))
        .send()
        .await
        .unwrap();
    let export = c
        .get(format!(
            "{}/d/returns/panels/by-region.xlsx?period=2018&lang=en",
            s.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(export.status().as_u16(), 200);
    c.get(format!("{}/api/v1/measures/returns.csv?by=region", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let denied = c
        .get(format!("{}/metrics", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status().as_u16(), 403);
    settle().await;
    let entries = audit_entries(&s.data);
    let find = |action: &str, pred: &dyn Fn(&reintegra::access::Entry) -> bool| {
        entries.iter().any(|e| e.action == action && pred(e))
    };
    assert!(find("login", &|e| e.status == 401
        && e.user.as_deref() == Some("auditor")
        && e.detail.as_deref() == Some("wrong password")));
    assert!(find("login", &|e| e.status == 401
        && e.user.is_none()
        && e.detail.as_deref() == Some("unknown user")));
    assert!(find("login", &|e| e.status == 303
        && e.user.as_deref() == Some("auditor")
        && e.role.as_deref() == Some("admin")));
    assert!(find("view", &|e| e.path == "/d/returns"
        && e.query.contains("period=2018")
        && e.user.as_deref() == Some("auditor")));
    assert!(find("export", &|e| e.path
        == "/d/returns/panels/by-region.xlsx"
        && e.query.contains("period=2018")
        && e.user.as_deref() == Some("auditor")));
    assert!(find("api", &|e| e.path == "/api/v1/measures/returns.csv"
        && e.query == "by=region"
        && e.user.as_deref() == Some("caller")));
    assert!(find("denied", &|e| e.path == "/metrics" && e.status == 403));
    let raw = std::fs::read_to_string(reintegra::access::dir(&s.data).join("audit.log")).unwrap();
    assert!(
        !raw.contains(PASSWORD) && !raw.contains("wrong password here") && !raw.contains(&token),
        "no secret in the log"
    );
    assert!(
        !raw.contains("ghost"),
        "an unknown name (maybe a mistyped password) is not logged"
    );

    // Admins read it on the web and on the command line.
    let page = c
        .get(format!("{}/admin/audit?lang=en&action=login", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("wrong password"));
    let out = reintegra(&[
        "audit",
        "--data",
        s.data.to_str().unwrap(),
        "--user",
        "auditor",
    ]);
    assert!(out.status.success());
    assert!(
        text(&out).contains("/d/returns?period=2018"),
        "{}",
        text(&out)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(reintegra::access::dir(&s.data).join("audit.log"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the audit log is readable by its owner only"
        );
    }
}

#[tokio::test]
async fn public_access_opens_only_public_dashboards() {
    let (closed, _d1) = own_server(false).await;
    let c = cookie_client();
    assert_eq!(
        c.get(format!("{}/d/overview", closed.base))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        303,
        "off by default"
    );
    let (open, _d2) = own_server(true).await;
    let r = c
        .get(format!("{}/d/overview", open.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    assert!(
        !html.contains("href=\"/d/returns\""),
        "the navigation shows public dashboards only"
    );
    assert_eq!(
        c.get(format!("{}/d/returns", open.base))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        303
    );
    let list: serde_json::Value = c
        .get(format!("{}/api/v1/measures", open.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list["measures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"returns") && !ids.contains(&"attendances"),
        "{ids:?}"
    );
}
