//! Server benchmark: `cargo bench --bench serve` (needs `wrk` and `nginx`, e.g.
//! `apt-get install wrk nginx-light`; scales from `BENCH_SCALES`, default "1,100";
//! `BENCH_BINARY=path` serves with another build, to compare two versions).
//!
//! For each scale it builds a snapshot, starts `reintegra serve`, and in the same run
//! serves the very same bytes of the overview page from nginx. wrk measures requests/s
//! and p50/p99 latency of both: warm (rendered pages cached, as in production) and
//! cold (every request renders the page: `REINTEGRA_PAGE_CACHE=0`). The figure is the
//! ratio reintegra / nginx. Requests to reintegra carry a programme account's bearer
//! token, so each is authenticated and appended to the audit log, as in production.
//! It also prints the weight of every dashboard page.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn require(tool: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("the serve benchmark needs `{tool}` (apt-get install wrk nginx-light)");
        std::process::exit(2);
    }
}

/// `GET url` as the bench account (`auth` is the `Authorization` header, if any), with
/// extra headers.
fn get_with(url: &str, auth: Option<&str>, extra: &[&str]) -> Vec<u8> {
    let mut curl = Command::new("curl");
    curl.args(["-s", "--fail", url]);
    for header in auth.iter().chain(extra) {
        curl.args(["-H", header]);
    }
    let out = curl.output().unwrap();
    assert!(out.status.success(), "GET {url}");
    out.stdout
}

fn get(url: &str, auth: Option<&str>) -> Vec<u8> {
    get_with(url, auth, &[])
}

fn wait_until_up(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if Command::new("curl")
            .args(["-s", "--fail", "-o", "/dev/null", url])
            .status()
            .is_ok_and(|s| s.success())
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{url} did not come up");
}

struct Wrk {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn to_ms(s: &str) -> f64 {
    let s = s.trim();
    if let Some(v) = s.strip_suffix("us") {
        v.parse::<f64>().unwrap_or(0.0) / 1000.0
    } else if let Some(v) = s.strip_suffix("ms") {
        v.parse().unwrap_or(0.0)
    } else if let Some(v) = s.strip_suffix('s') {
        v.parse::<f64>().unwrap_or(0.0) * 1000.0
    } else {
        0.0
    }
}

fn wrk(url: &str, auth: Option<&str>) -> Wrk {
    let mut command = Command::new("wrk");
    command.args(["-t2", "-c32", "-d8s", "--latency", url]);
    if let Some(header) = auth {
        command.args(["-H", header]);
    }
    let out = command.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut w = Wrk {
        rps: 0.0,
        p50_ms: 0.0,
        p99_ms: 0.0,
    };
    for line in text.lines() {
        let t = line.trim();
        if let Some(v) = t.strip_prefix("Requests/sec:") {
            w.rps = v.trim().parse().unwrap_or(0.0);
        } else if let Some(v) = t.strip_prefix("50%") {
            w.p50_ms = to_ms(v);
        } else if let Some(v) = t.strip_prefix("99%") {
            w.p99_ms = to_ms(v);
        }
    }
    assert!(!text.contains("Non-2xx"), "{text}");
    w
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_reintegra(data: &Path, port: u16, cache: bool) -> Server {
    // BENCH_BINARY: another build's binary, to compare two versions on one machine.
    let binary =
        std::env::var("BENCH_BINARY").unwrap_or_else(|_| env!("CARGO_BIN_EXE_reintegra").into());
    let child = Command::new(binary)
        .args(["serve", "--data"])
        .arg(data)
        .args(["--bind", &format!("127.0.0.1:{port}"), "--dashboards"])
        .arg(repo().join("dashboards"))
        .env("REINTEGRA_PAGE_CACHE", if cache { "1" } else { "0" })
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    wait_until_up(&format!("http://127.0.0.1:{port}/healthz"));
    server
}

/// Serves `page` as `/overview.html` from nginx. Its folder is under the system temp
/// folder, readable by everyone: run as root, nginx's workers drop to an unprivileged
/// user that cannot enter a home folder.
fn start_nginx(page: &[u8], port: u16) -> Server {
    use std::os::unix::fs::PermissionsExt;
    let root = std::env::temp_dir().join(format!("reintegra-bench-nginx-{port}"));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(root.join("overview.html"), page).unwrap();
    std::fs::set_permissions(
        root.join("overview.html"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let root = root.as_path();
    let conf = root.join("nginx.conf");
    let mut f = std::fs::File::create(&conf).unwrap();
    write!(
        f,
        "daemon off; worker_processes auto; pid {dir}/nginx.pid; error_log {dir}/error.log;
events {{ worker_connections 1024; }}
http {{ access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  client_body_temp_path {dir}; proxy_temp_path {dir}; fastcgi_temp_path {dir}; uwsgi_temp_path {dir}; scgi_temp_path {dir};
  server {{ listen 127.0.0.1:{port}; root {dir}; default_type text/html; }} }}",
        dir = root.display()
    )
    .unwrap();
    let child = Command::new("nginx")
        .args(["-c"])
        .arg(&conf)
        .args(["-p"])
        .arg(root)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    wait_until_up(&format!("http://127.0.0.1:{port}/overview.html"));
    server
}

fn build_data(work: &Path, scale: f64) -> PathBuf {
    let inbox = work.join("inbox");
    let data = work.join("data");
    reintegra::fixtures::write(&inbox, 2019, scale).unwrap();
    let mut options = reintegra::ingest::Options::new(&inbox, &data, repo().join("queries"));
    options.policy = repo().join("disclosure.toml");
    reintegra::ingest::run(&options).unwrap();
    data
}

/// The `Authorization` header of a programme account made for the benchmark: every
/// request is authenticated and audited, as in production.
fn bench_account(data: &Path) -> String {
    use reintegra::access::{Role, UsersStore, dir};
    let store = UsersStore::new(&dir(data));
    store
        .add("bench", Role::Programme, "a long measuring passphrase")
        .unwrap();
    format!(
        "Authorization: Bearer {}",
        store
            .issue_token("bench", reintegra::access::TOKEN_LIFETIME)
            .unwrap()
    )
}

fn main() {
    require("wrk");
    require("nginx");
    require("curl");
    let scales: Vec<f64> = std::env::var("BENCH_SCALES")
        .unwrap_or_else(|_| "1,100".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-serve");
    println!(
        "reintegra serve benchmark: GET /d/overview, wrk -t2 -c32 -d8s, same machine as the servers"
    );
    for scale in scales {
        let work = root.join(format!("scale-{scale}"));
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).unwrap();
        let data = build_data(&work, scale);
        let auth = bench_account(&data);
        let auth = Some(auth.as_str());
        let port = free_port();
        let warm = {
            let _server = start_reintegra(&data, port, true);
            let base = format!("http://127.0.0.1:{port}");
            let started = Instant::now();
            let first = get(&format!("{base}/d/overview"), auth);
            let first_ms = started.elapsed().as_secs_f64() * 1000.0;
            std::fs::write(work.join("overview.html"), &first).unwrap();
            if scale == 1.0 || std::env::var("BENCH_WEIGHTS").is_ok() {
                println!(
                    "page weight at scale {scale} (bytes: uncompressed, then as sent with gzip and with br):"
                );
                for id in [
                    "overview",
                    "returns",
                    "psychosocial",
                    "campaigns",
                    "training",
                    "ponam",
                ] {
                    for lang in ["fr", "en"] {
                        let url = format!("{base}/d/{id}?lang={lang}");
                        let plain = get(&url, auth).len();
                        let gzip = get_with(&url, auth, &["Accept-Encoding: gzip"]).len();
                        let br = get_with(&url, auth, &["Accept-Encoding: br"]).len();
                        println!("  /d/{id}?lang={lang}: {plain} / {gzip} / {br}");
                    }
                }
            }
            (wrk(&format!("{base}/d/overview"), auth), first_ms)
        };
        let cold = {
            let port = free_port();
            let _server = start_reintegra(&data, port, false);
            wrk(&format!("http://127.0.0.1:{port}/d/overview"), auth)
        };
        let nginx = {
            let port = free_port();
            let page = std::fs::read(work.join("overview.html")).unwrap();
            let _server = start_nginx(&page, port);
            wrk(&format!("http://127.0.0.1:{port}/overview.html"), None)
        };
        println!(
            "scale {scale}: overview page {} bytes; first request after start {:.1} ms",
            std::fs::metadata(work.join("overview.html")).unwrap().len(),
            warm.1
        );
        println!(
            "  {:<22} {:>10} {:>9} {:>9} {:>14}",
            "", "req/s", "p50 ms", "p99 ms", "ratio to nginx"
        );
        for (name, w) in [
            ("reintegra warm", &warm.0),
            ("reintegra cold", &cold),
            ("nginx (same bytes)", &nginx),
        ] {
            println!(
                "  {:<22} {:>10.0} {:>9.2} {:>9.2} {:>14.2}",
                name,
                w.rps,
                w.p50_ms,
                w.p99_ms,
                w.rps / nginx.rps
            );
        }
        let _ = std::fs::remove_dir_all(&work);
    }
}
