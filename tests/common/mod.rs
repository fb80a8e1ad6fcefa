//! Shared helpers of the integration tests: temporary data folders built from the
//! committed fixtures, the real `reintegra` binary, servers over real HTTP
//! (`spawn_app` → `TestApp`) and requests sent exactly as written (`raw_get`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures() -> PathBuf {
    repo().join("fixtures")
}

pub fn queries() -> PathBuf {
    repo().join("queries")
}

pub fn policy() -> PathBuf {
    repo().join("disclosure.toml")
}

/// A temporary inbox and data folder.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("inbox")).unwrap();
        Workspace { dir }
    }

    pub fn inbox(&self) -> PathBuf {
        self.dir.path().join("inbox")
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn published(&self) -> PathBuf {
        self.data().join("published")
    }

    pub fn quarantine(&self) -> PathBuf {
        self.data().join("quarantine")
    }

    /// Copies the committed fixture files into the inbox: the four kinds about people
    /// and activities, and the year of spending.
    pub fn deliver_fixtures(&self) {
        for kind in ["returns", "sessions", "campaigns", "trainings", "finance"] {
            self.deliver_file(&fixtures().join(format!("{kind}.csv")));
        }
    }

    pub fn deliver_file(&self, path: &Path) {
        std::fs::copy(path, self.inbox().join(path.file_name().unwrap())).unwrap();
    }

    pub fn deliver(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.inbox().join(name), bytes).unwrap();
    }

    pub fn options(&self) -> reintegra::ingest::Options {
        reintegra::ingest::Options::new(self.inbox(), self.data(), queries())
    }

    /// Runs the job in this process.
    pub fn ingest(&self) -> reintegra::ingest::RunSummary {
        reintegra::ingest::run(&self.options()).expect("ingest runs")
    }

    /// Runs the real binary's `ingest`.
    pub fn ingest_binary(&self) -> Output {
        self.ingest_binary_with(&[])
    }

    /// Runs the real binary's `ingest` with more arguments (e.g. `--lang en`).
    pub fn ingest_binary_with(&self, extra: &[&str]) -> Output {
        let (inbox, data, queries, policy) = (self.inbox(), self.data(), queries(), policy());
        let mut args = vec![
            "ingest",
            "--inbox",
            inbox.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--queries",
            queries.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        reintegra(&args)
    }

    /// The bytes of CURRENT and of the snapshot it names.
    pub fn published_bytes(&self) -> (Vec<u8>, Vec<u8>) {
        let current = std::fs::read(self.published().join("CURRENT")).expect("CURRENT exists");
        let name = String::from_utf8(current.clone()).unwrap();
        let snapshot = std::fs::read(self.published().join(name.trim())).expect("snapshot exists");
        (current, snapshot)
    }

    pub fn current_snapshot(&self) -> PathBuf {
        let name = std::fs::read_to_string(self.published().join("CURRENT")).unwrap();
        self.published().join(name.trim())
    }

    /// Runs a query against the current snapshot (opened read-only) and returns one
    /// value per row.
    pub fn snapshot_values(&self, sql: &str) -> Vec<String> {
        let conn = reintegra::snapshot::open_read_only(&self.current_snapshot()).unwrap();
        let mut stmt = conn.prepare(sql).unwrap();
        stmt.query_map([], |r| r.get::<_, Option<String>>(0))
            .unwrap()
            .map(|v| v.unwrap().unwrap_or_default())
            .collect()
    }

    pub fn snapshot_number(&self, sql: &str) -> f64 {
        let conn = reintegra::snapshot::open_read_only(&self.current_snapshot()).unwrap();
        conn.query_row(sql, [], |r| r.get::<_, f64>(0)).unwrap()
    }
}

pub fn reintegra(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reintegra"))
        .args(args)
        .env("RUST_LOG", "info")
        .output()
        .expect("the binary runs")
}

/// A CSV fixture as header + rows of strings.
pub fn read_fixture(kind: &str, rows: usize) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(fixtures().join(format!("{kind}.csv"))).unwrap();
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .take(rows)
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// Writes a table as CSV with the given separator and line ending.
pub fn to_csv(header: &[String], rows: &[Vec<String>], delimiter: u8, crlf: bool) -> String {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .terminator(if crlf {
            csv::Terminator::CRLF
        } else {
            csv::Terminator::Any(b'\n')
        })
        .from_writer(Vec::new());
    w.write_record(header).unwrap();
    for row in rows {
        w.write_record(row).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

pub fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Makes sure `name` exists with `role` in the data folder's users store and returns a
/// fresh bearer token for it.
pub fn account_token(data: &Path, name: &str, role: reintegra::access::Role) -> String {
    let store = reintegra::access::UsersStore::new(&reintegra::access::dir(data));
    match store.add(name, role, "a long enough test passphrase") {
        Ok(()) | Err(reintegra::access::UsersError::Exists(_)) => {}
        Err(e) => panic!("{e}"),
    }
    store
        .issue_token(name, reintegra::access::TOKEN_LIFETIME)
        .unwrap()
}

// --- data folders ----------------------------------------------------------------

/// A data folder with a snapshot of the committed fixtures, built under the test
/// binary's temporary folder (call it once per binary, e.g. from a `LazyLock`).
pub fn built_data(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("inbox")).unwrap();
    for kind in ["returns", "sessions", "campaigns", "trainings", "finance"] {
        let file = format!("{kind}.csv");
        std::fs::copy(fixtures().join(&file), dir.join("inbox").join(&file)).unwrap();
    }
    let options = reintegra::ingest::Options::new(dir.join("inbox"), dir.join("data"), queries());
    reintegra::ingest::run(&options).unwrap();
    dir.join("data")
}

/// A data folder of its own holding a copy of `source`'s published snapshots (for
/// tests that write the access folder or count its log). Gone with the `TempDir`.
pub fn copy_of_published(source: &Path) -> (PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("published")).unwrap();
    for entry in std::fs::read_dir(source.join("published")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, data.join("published").join(p.file_name().unwrap())).unwrap();
    }
    (data, dir)
}

/// The repository's dashboards, except that PONAM alignment is for the ministry (and
/// admins) only, so that some signed-in role lacks access to a dashboard. Written
/// under the test binary's temporary folder as `name`.
pub fn restricted_dashboards(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(repo().join("dashboards")).unwrap() {
        let path = entry.unwrap().path();
        let mut text = std::fs::read_to_string(&path).unwrap();
        if path.file_name().unwrap() == "ponam.toml" {
            text = text.replace(
                "roles = [\"donor\", \"ministry\", \"programme\", \"admin\"]",
                "roles = [\"ministry\", \"admin\"]",
            );
        }
        std::fs::write(dir.join(path.file_name().unwrap()), text).unwrap();
    }
    dir
}

// --- servers ------------------------------------------------------------------------

pub use reintegra::server::Settings;

/// A server started in the test's runtime on a free port, with a client: anonymous
/// (keeping cookies) until `with_token`. It stops when dropped.
pub struct TestApp {
    pub base: String,
    pub data: PathBuf,
    pub client: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Starts a server with `settings`; its client follows no redirect.
pub async fn spawn_app(settings: Settings) -> TestApp {
    let data = settings.data.clone();
    let app = reintegra::server::App::build(settings, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("the server starts");
    let base = format!("http://{}", app.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));
    TestApp {
        base,
        data,
        client: cookie_client(),
        _stop: stop,
    }
}

/// A client that keeps cookies and follows no redirect.
pub fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

/// A response's status, headers and body.
pub struct Got {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Got {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8")
    }
}

impl TestApp {
    /// The client now sends the bearer token of an account `name` with `role` (made
    /// if needed) with every request.
    pub fn with_token(mut self, name: &str, role: reintegra::access::Role) -> TestApp {
        let token = account_token(&self.data, name, role);
        self.client = bearer_client(&token, reqwest::redirect::Policy::none());
        self
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The response to `GET path`, unread.
    pub async fn response(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Got {
        let r = self.response(path).await;
        Got {
            status: r.status().as_u16(),
            headers: r.headers().clone(),
            body: r.bytes().await.unwrap().to_vec(),
        }
    }

    /// A status and a body as text.
    pub async fn text(&self, path: &str) -> (u16, String) {
        let got = self.get(path).await;
        (got.status, String::from_utf8_lossy(&got.body).into_owned())
    }

    /// A 200 answer (fails the test otherwise).
    pub async fn ok(&self, path: &str) -> Got {
        let got = self.get(path).await;
        assert_eq!(
            got.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&got.body)
        );
        got
    }

    pub async fn json(&self, path: &str) -> serde_json::Value {
        serde_json::from_slice(&self.ok(path).await.body).unwrap()
    }
}

/// A client that sends `Authorization: Bearer <token>` with every request.
pub fn bearer_client(token: &str, redirects: reqwest::redirect::Policy) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .redirect(redirects)
        .default_headers(headers)
        .build()
        .unwrap()
}

/// A response read off the wire.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    /// Header lines, lower-cased names.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one GET with the request target exactly as given — no client normalises it
/// (reqwest would resolve `/./`, fix percent-encoding and drop what it dislikes) —
/// plus the given headers, and reads the whole answer.
pub async fn raw_get(base: &str, target: &str, headers: &[(&str, &str)]) -> RawResponse {
    raw_request(base, "GET", target, headers, "").await
}

pub async fn raw_request(
    base: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> RawResponse {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    let mut request =
        format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        request.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.expect("writes");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    parse_raw(&raw)
}

fn parse_raw(raw: &[u8]) -> RawResponse {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut body = raw.get(split + 4..).unwrap_or_default().to_vec();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..end]).trim(), 16)
                .unwrap_or(0);
            if size == 0 || rest.len() < end + 2 + size {
                break;
            }
            out.extend_from_slice(&rest[end + 2..end + 2 + size]);
            rest = &rest[(end + 4 + size).min(rest.len())..];
        }
        body = out;
    }
    RawResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
    }
}

/// Every published cell of a snapshot: (measure, breakdown|dims) → (value, suppressed).
pub fn all_cells(
    snapshot: &Path,
) -> std::collections::BTreeMap<(String, String), (Option<f64>, bool)> {
    let conn = reintegra::snapshot::open_read_only(snapshot).unwrap();
    let measures: Vec<(String, Vec<String>)> = {
        let mut stmt = conn.prepare("SELECT id, dimensions FROM measures").unwrap();
        stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .unwrap()
            .map(|r| {
                let (id, dims) = r.unwrap();
                (id, serde_json::from_str(&dims).unwrap())
            })
            .collect()
    };
    let mut out = std::collections::BTreeMap::new();
    for (id, dims) in measures {
        let key: String = dims
            .iter()
            .map(|d| format!(" || '|' || coalesce({d}, '')"))
            .collect();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT breakdown{key}, value, suppressed FROM cells_{id}"
            ))
            .unwrap();
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<f64>>(1)?,
                    r.get::<_, bool>(2)?,
                ))
            })
            .unwrap();
        for row in rows {
            let (k, v, s) = row.unwrap();
            out.insert((id.clone(), k), (v, s));
        }
    }
    out
}

/// The cells that differ between two snapshots' cells.
pub fn changed_cells(
    before: &std::collections::BTreeMap<(String, String), (Option<f64>, bool)>,
    after: &std::collections::BTreeMap<(String, String), (Option<f64>, bool)>,
) -> Vec<(String, String)> {
    after
        .iter()
        .filter(|(k, v)| before.get(k).is_some_and(|b| b != *v))
        .map(|(k, _)| k.clone())
        .collect()
}
