//! The `reintegra` command: parses the command line and calls the library.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use reintegra::access::commands::{self, AuditQuery, UsersCommand};
use reintegra::access::{Revoke, Role};
use reintegra::locale::Locale;
use reintegra::{check, demo, fixtures, ingest, ops, server};

#[derive(Parser)]
#[command(
    name = "reintegra",
    version,
    about = "Anonymised dashboards of a psychosocial reintegration programme"
)]
struct Cli {
    /// Write logs as JSON lines (for a log collector) instead of text.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum ExportCommand {
    /// The project as one IATI 2.03 activity (XML): organisations, dates, regions,
    /// sector, budgets per quarter, expenditure per quarter and results from the
    /// published snapshot (the same file as `/open/iati.xml`).
    Iati {
        #[arg(long, env = "REINTEGRA_DATA")]
        data: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// The folder holding `_iati.toml`, `_budget.toml` and `_results.toml`.
        #[arg(long, env = "REINTEGRA_DASHBOARDS", default_value = "dashboards")]
        dashboards: PathBuf,
    },
    /// One CSV per table the donor's (or, with --public, the public) dashboards show,
    /// with HXL hashtags on row 2, and datapackage.json (Frictionless v2) describing
    /// them; from the current snapshot of DATA. Same snapshot, same bytes.
    OpenData {
        #[arg(long, env = "REINTEGRA_DATA")]
        data: PathBuf,
        /// The folder to write into (created if needed; files replaced atomically).
        #[arg(long)]
        out: PathBuf,
        /// The tables of the public dashboards (what `/open/` serves) instead of the
        /// donor's.
        #[arg(long)]
        public: bool,
        #[arg(long, env = "REINTEGRA_DASHBOARDS", default_value = "dashboards")]
        dashboards: PathBuf,
        /// The licence's Open Definition id (CC-BY-4.0, CC0-1.0, ODC-BY-1.0, ODbL-1.0…).
        #[arg(long, default_value = "CC-BY-4.0")]
        licence: reintegra::render::exports::open_data::Licence,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Write realistic de-identified extracts (one CSV per kind).
    Fixtures {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 2019)]
        seed: u64,
        /// Multiplies volumes (e.g. 20 or 100 for benchmarks); shapes stay the same.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
    },
    /// Run the nightly job: load the inbox into the private store and publish a snapshot.
    ///
    /// Exit status: 0 when every file was accepted, 3 when some were quarantined (the
    /// rest published), 75 when another ingest holds the lock, 1 on any other error.
    Ingest {
        #[arg(long, env = "REINTEGRA_INBOX")]
        inbox: PathBuf,
        #[arg(long, env = "REINTEGRA_DATA")]
        data: PathBuf,
        /// The measure definitions.
        #[arg(long, env = "REINTEGRA_QUERIES", default_value = "queries")]
        queries: PathBuf,
        /// The disclosure policy (threshold, perturbation, person measures).
        #[arg(long, env = "REINTEGRA_POLICY", default_value = "disclosure.toml")]
        policy: PathBuf,
        /// Published snapshots to keep.
        #[arg(long, default_value_t = 7)]
        keep: usize,
        /// Wait for a running ingest to finish instead of exiting.
        #[arg(long)]
        wait: bool,
        /// Delete quarantined files (they may hold identifying data) and their reports
        /// this long after they were quarantined, e.g. 30d or 12h.
        #[arg(long, default_value = "30d", value_parser = humantime::parse_duration)]
        purge_quarantine_after: std::time::Duration,
        /// Leave files modified less than this many seconds ago for the next run (an
        /// upload may still be going on; the systemd unit uses 60).
        #[arg(long, default_value_t = 0)]
        settle: u64,
        /// The job's settings (limits on the work one file may cause); used when present.
        #[arg(long, env = "REINTEGRA_CONFIG", default_value = "ingest.toml")]
        config: PathBuf,
        /// The dashboards the servers serve: a snapshot that does not fit them is not
        /// published. Default: `dashboards/` beside the queries folder, when present.
        #[arg(long, env = "REINTEGRA_DASHBOARDS")]
        dashboards: Option<PathBuf>,
        /// The language of the text report written beside a quarantined file: fr or en
        /// (the JSON report carries both).
        #[arg(long, env = "REINTEGRA_LANG", default_value = "fr")]
        lang: Locale,
        /// The grant's budget (budget lines, exchange rates) finance extracts are
        /// checked and converted with. Default: `dashboards/_budget.toml` beside the
        /// queries folder, when present.
        #[arg(long, env = "REINTEGRA_BUDGET")]
        budget: Option<PathBuf>,
    },
    /// Copy the published snapshots of one data folder to another (a replica's), each
    /// snapshot file first and `CURRENT` last, then the job's status; removes snapshots
    /// the source no longer keeps. Safe while servers read the target.
    /// The quarterly donor report as a PDF (A4, fonts embedded): results framework, what
    /// changed since the previous quarter, key charts, the notes of the quarter, PONAM.
    Report {
        #[arg(long, env = "REINTEGRA_DATA")]
        data: PathBuf,
        /// The quarter, e.g. 2019-Q3.
        #[arg(long)]
        period: String,
        /// fr or en.
        #[arg(long, default_value = "fr")]
        lang: Locale,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, env = "REINTEGRA_DASHBOARDS", default_value = "dashboards")]
        dashboards: PathBuf,
        /// Whose dashboards the report covers (donor, programme, admin…).
        #[arg(long, default_value = "donor")]
        role: String,
    },
    /// Files in the formats other systems read: `export iati` writes the project as an
    /// IATI 2.03 activity file (XML); `export open-data` HXL-tagged CSV tables and a
    /// Frictionless data package.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    Sync {
        /// The data folder the job publishes into.
        #[arg(long)]
        from: PathBuf,
        /// The replica's data folder.
        #[arg(long)]
        to: PathBuf,
    },
    /// Disclosure control: `disclosure report` prints the report of the current
    /// snapshot (published, suppressed and held cells, deviations, attack results).
    Disclosure {
        #[command(subcommand)]
        action: DisclosureAction,
    },
    /// Make a new record-key secret, only when the old one is lost for good (every
    /// published figure then changes once; the next snapshot records it).
    Keygen {
        #[arg(long, env = "REINTEGRA_DATA")]
        data: PathBuf,
        /// Required: say that you know the consequences.
        #[arg(long)]
        confirm_new_secret: bool,
    },
    /// Check extract files, measure files (*.sql), dashboard files (*.toml) or notes
    /// (DATA/notes, or a file of it) — or a folder of them — without loading anything.
    Check {
        path: PathBuf,
        /// The measures dashboards are checked against.
        #[arg(long, default_value = "queries")]
        queries: PathBuf,
        /// The dashboards notes are checked against.
        #[arg(long, default_value = "dashboards")]
        dashboards: PathBuf,
        /// A data folder whose register (reference/sites.csv, departure.csv) extracts
        /// are checked against, besides the built-in one.
        #[arg(long, env = "REINTEGRA_DATA")]
        data: Option<PathBuf>,
        /// The language an extract's problems are told in: fr or en.
        #[arg(long, default_value = "fr")]
        lang: Locale,
        /// The grant's budget finance extracts are checked against, when present.
        #[arg(long, default_value = "dashboards/_budget.toml")]
        budget: PathBuf,
    },
    /// Serve the dashboards of the published snapshot (read-only).
    Serve {
        #[arg(long, env = "REINTEGRA_DATA")]
        data: PathBuf,
        #[arg(long, env = "REINTEGRA_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        #[arg(long, env = "REINTEGRA_DASHBOARDS", default_value = "dashboards")]
        dashboards: PathBuf,
        /// Let visitors who are not signed in open dashboards open to the `public` role.
        #[arg(long)]
        public: bool,
        /// Served over TLS by a proxy: cookies Secure with the __Host- prefix, and HSTS.
        #[arg(long)]
        secure_cookies: bool,
        /// The licence of the open data at /open/ (an Open Definition id).
        #[arg(long, env = "REINTEGRA_OPEN_LICENCE", default_value = "CC-BY-4.0")]
        open_licence: reintegra::render::exports::open_data::Licence,
        /// A proxy network whose X-Forwarded-For / X-Forwarded-Proto are believed
        /// (repeatable, e.g. 127.0.0.1/32); from anyone else they are ignored.
        #[arg(long = "trusted-proxy", value_name = "CIDR")]
        trusted_proxy: Vec<ipnet::IpNet>,
    },
    /// Manage the accounts that may sign in (works while the server runs).
    Users {
        #[command(subcommand)]
        action: UsersAction,
        #[arg(long, env = "REINTEGRA_DATA", global = true)]
        data: Option<PathBuf>,
    },
    /// Print the audit log: who saw what, and when (`audit verify` checks its chain).
    #[command(args_conflicts_with_subcommands = true)]
    Audit {
        #[command(subcommand)]
        check: Option<AuditAction>,
        #[arg(long, env = "REINTEGRA_DATA", global = true)]
        data: Option<PathBuf>,
        /// Only this user's entries.
        #[arg(long)]
        user: Option<String>,
        /// Only this action (view, api, export, login, logout, denied, admin, account,
        /// unmatched, audit).
        #[arg(long)]
        action: Option<String>,
        /// The last N entries.
        #[arg(long)]
        last: Option<usize>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Write one archive of a data folder (store, secret, disclosure state, accounts and
    /// audit log, the current snapshot), waiting for a running ingest.
    Backup {
        #[arg(long, env = "REINTEGRA_DATA")]
        data: PathBuf,
        /// The archive file to write (outside the data folder), e.g. /backup/reintegra-2026-12-01.tar.gz.
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a data folder from a backup archive (verified whole before anything moves).
    Restore {
        #[arg(long)]
        from: PathBuf,
        #[arg(long, env = "REINTEGRA_DATA")]
        data: PathBuf,
        /// Restore into a folder that is not empty, replacing the files the archive holds.
        #[arg(long)]
        force: bool,
    },
    /// Check a data folder's modes, owners, secret, snapshot and backup age (exit 1 on problems).
    Doctor {
        #[arg(long, env = "REINTEGRA_DATA")]
        data: PathBuf,
        /// The user the nightly job runs as (owner of private/).
        #[arg(long)]
        job_user: Option<String>,
        /// The user the server runs as (owner of access/).
        #[arg(long)]
        serve_user: Option<String>,
        /// The group the server reads published/ through.
        #[arg(long)]
        serve_group: Option<String>,
    },
    /// Build a snapshot from the bundled fixtures and serve it, in one command.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// Where the demo keeps its inbox and data (reused between runs).
        #[arg(long)]
        dir: Option<PathBuf>,
        #[arg(long, default_value = "fixtures")]
        fixtures: PathBuf,
        #[arg(long, default_value = "queries")]
        queries: PathBuf,
        #[arg(long, default_value = "disclosure.toml")]
        policy: PathBuf,
        #[arg(long, default_value = "dashboards")]
        dashboards: PathBuf,
    },
}

#[derive(Subcommand)]
enum DisclosureAction {
    /// The full report the job kept (private side) for the snapshot CURRENT names.
    Report {
        #[arg(long, env = "REINTEGRA_DATA")]
        data: PathBuf,
        /// The report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AuditAction {
    /// Check that no entry was edited, inserted or removed (exit 1 at the first
    /// broken link, naming the file and line).
    Verify,
}

#[derive(Subcommand)]
enum UsersAction {
    /// Add an account (prompts for the password when --password is not given).
    Add {
        name: String,
        /// donor, ministry, programme or admin.
        #[arg(long)]
        role: String,
        #[arg(long)]
        password: Option<String>,
    },
    /// List the accounts.
    List,
    /// Remove an account (its sessions and tokens stop working).
    Remove { name: String },
    /// Set a new password (sessions opened with the old one end).
    Passwd {
        name: String,
        #[arg(long)]
        password: Option<String>,
    },
    /// Print a new bearer token for scripts (`Authorization: Bearer …`).
    Token {
        name: String,
        /// How long the token works, e.g. 90d (the default), 30d, 12h.
        #[arg(long, default_value = "90d", value_parser = humantime::parse_duration)]
        expires: std::time::Duration,
    },
    /// List an account's tokens: id, created, last used, expiry.
    Tokens { name: String },
    /// Revoke an account's tokens at once: all of them, or one by id.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["all", "token"])))]
    Revoke {
        name: String,
        #[arg(long)]
        all: bool,
        #[arg(long, value_name = "ID")]
        token: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_json);
    // A panic inside a library met by a strange file could quote that file: its message
    // is shown only when the panic is in reintegra's own code.
    std::panic::set_hook(Box::new(|info| {
        let location = info.location();
        let ours = location.is_some_and(|l| l.file().starts_with("src/"));
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let where_ = location.map_or("?".to_string(), |l| format!("{}:{}", l.file(), l.line()));
        if ours {
            eprintln!("reintegra: internal error at {where_}: {message}");
        } else {
            eprintln!(
                "reintegra: internal error in a library at {where_} (its message is withheld: it may quote a delivered file)"
            );
        }
    }));
    match run(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if let Some(ingest::IngestError::Busy(_)) = e.downcast_ref() {
                eprintln!("reintegra: {e}");
                return ExitCode::from(75);
            }
            eprintln!("reintegra: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn run(command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Fixtures { out, seed, scale } => {
            anyhow::ensure!(
                scale > 0.0 && scale.is_finite(),
                "--scale must be a positive number"
            );
            let summary = fixtures::write(&out, seed, scale)
                .with_context(|| format!("writing fixtures into {}", out.display()))?;
            for (path, rows) in summary.files {
                println!("{}: {rows} rows", path.display());
            }
            Ok(0)
        }
        Command::Ingest {
            inbox,
            data,
            queries,
            policy,
            keep,
            wait,
            purge_quarantine_after,
            settle,
            config,
            dashboards,
            lang,
            budget,
        } => {
            let mut options = ingest::Options::new(inbox, data, queries);
            options.lang = lang;
            if budget.is_some() {
                options.budget = budget;
            }
            if dashboards.is_some() {
                options.dashboards = dashboards;
            }
            options.policy = policy;
            options.keep = keep;
            options.wait = wait;
            options.purge_quarantine_after = purge_quarantine_after;
            options.settle = std::time::Duration::from_secs(settle);
            if config.exists() {
                let config = ingest::Config::load(&config)?;
                options.limits = config.limits;
                options.store_memory = config.store_memory;
                options.stale_after_days = config.deliveries.stale_after_days;
            }
            let summary = ingest::run(&options)?;
            for file in &summary.files {
                println!("{file}");
            }
            for name in &summary.unsettled {
                println!(
                    "left        {name}: modified less than {settle} s ago; the next run reads it"
                );
            }
            match (&summary.published, &summary.current) {
                (Some(id), _) if summary.recovered => println!(
                    "published snapshot {id} (recovered loads an earlier run accepted but did not publish)"
                ),
                (Some(id), _) => println!("published snapshot {id}"),
                (None, Some(id)) => println!("nothing new: snapshot {id} stays current"),
                (None, None) => println!("nothing published yet"),
            }
            Ok(summary.exit_code() as u8)
        }
        Command::Report {
            data,
            period,
            lang,
            out,
            dashboards,
            role,
        } => {
            let role = Role::parse(&role)
                .ok_or_else(|| anyhow::anyhow!("--role: donor, ministry, programme or admin"))?;
            let pdf = reintegra::render::exports::report::for_data_folder(
                &data,
                &dashboards,
                &period,
                role,
                lang,
            )?;
            std::fs::write(&out, &pdf).with_context(|| format!("writing {}", out.display()))?;
            println!("wrote {} ({} bytes)", out.display(), pdf.len());
            Ok(0)
        }
        Command::Export {
            command:
                ExportCommand::Iati {
                    data,
                    out,
                    dashboards,
                },
        } => {
            let xml = reintegra::render::exports::iati::for_data_folder(&data, &dashboards)?;
            std::fs::write(&out, &xml).with_context(|| format!("writing {}", out.display()))?;
            println!("wrote {} ({} bytes)", out.display(), xml.len());
            Ok(0)
        }
        Command::Export {
            command:
                ExportCommand::OpenData {
                    data,
                    out,
                    public,
                    dashboards,
                    licence,
                },
        } => {
            use reintegra::render::exports::open_data::{self, Audience};
            let audience = if public {
                Audience::Public
            } else {
                Audience::Donor
            };
            let set = open_data::for_data_folder(&data, &dashboards, audience, &licence)?;
            open_data::write_dir(&out, &set)?;
            for file in set.files() {
                println!(
                    "wrote {} ({} bytes)",
                    out.join(&file.name).display(),
                    file.bytes.len()
                );
            }
            Ok(0)
        }
        Command::Sync { from, to } => {
            let summary = reintegra::snapshot::sync::sync_data(&from, &to)?;
            for id in &summary.copied {
                println!("copied   {id}");
            }
            for id in &summary.removed {
                println!("removed  {id}");
            }
            match &summary.current {
                Some(id) => println!("current  {id}"),
                None => println!("nothing published yet in {}", from.display()),
            }
            Ok(0)
        }
        Command::Disclosure {
            action: DisclosureAction::Report { data, json },
        } => {
            let report = ingest::disclosure_report(&data)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.to_text());
            }
            Ok(0)
        }
        Command::Keygen {
            data,
            confirm_new_secret,
        } => {
            anyhow::ensure!(
                confirm_new_secret,
                "a new secret re-perturbs every published figure once; restore secret.key from backup if you can, else pass --confirm-new-secret"
            );
            let path = ingest::keygen(&data)?;
            println!("made a new record-key secret: {}", path.display());
            println!("back it up with the store now; the next snapshot records the change");
            Ok(0)
        }
        Command::Check {
            path,
            queries,
            dashboards,
            data,
            lang,
            budget,
        } => {
            let results = if check::is_notes(&path) {
                check::check_notes(&path, &dashboards)
            } else {
                let register = check::register(data.as_deref()).map_err(|e| anyhow::anyhow!(e))?;
                let budget = check::budget(&budget).unwrap_or_else(|e| {
                    eprintln!("{} is invalid, so finance extracts are checked without it (check it on its own):\n{e}", budget.display());
                    None
                });
                check::check_path(&path, chrono::Utc::now().date_naive(), &queries, &register, budget.as_ref(), lang)
            }
            .with_context(|| format!("checking {}", path.display()))?;
            let mut ok = true;
            for r in &results {
                print!("{}", r.text);
                ok &= r.ok;
            }
            anyhow::ensure!(
                !results.is_empty(),
                "no file to check in {}",
                path.display()
            );
            Ok(if ok { 0 } else { 1 })
        }
        Command::Serve {
            data,
            bind,
            dashboards,
            public,
            secure_cookies,
            trusted_proxy,
            open_licence,
        } => {
            let mut settings = server::Settings::new(data, dashboards);
            settings.public = public;
            settings.open_licence = open_licence;
            settings.secure_cookies = secure_cookies;
            settings.trusted_proxies = trusted_proxy;
            serve(settings, bind, None)
        }
        Command::Demo {
            bind,
            dir,
            fixtures,
            queries,
            policy,
            dashboards,
        } => {
            let dir = dir.unwrap_or_else(|| std::env::temp_dir().join("reintegra-demo"));
            let demo = demo::prepare(&dir, &fixtures, queries, policy)?;
            for line in &demo.lines {
                println!("{line}");
            }
            let banner = format!(
                "data folder: {} (for `reintegra users|audit --data`)\nsign in as: demo (administrator)\npassword:   {}",
                demo.data.display(),
                demo.password
            );
            serve(
                server::Settings::new(demo.data, dashboards),
                bind,
                Some(banner),
            )
        }
        Command::Backup { data, out } => {
            println!("{}", ops::backup(&data, &out)?);
            Ok(0)
        }
        Command::Restore { from, data, force } => {
            println!("{}", ops::restore(&from, &data, force)?);
            Ok(0)
        }
        Command::Doctor {
            data,
            job_user,
            serve_user,
            serve_group,
        } => {
            let options = ops::DoctorOptions {
                job_user,
                serve_user,
                serve_group,
                ..ops::DoctorOptions::default()
            };
            let report = ops::doctor(&data, &options);
            println!("{report}");
            Ok(if report.problems() > 0 { 1 } else { 0 })
        }
        Command::Users { action, data } => {
            let data = data.context("--data (or REINTEGRA_DATA) names the server's data folder")?;
            users(&data, action)
        }
        Command::Audit {
            check,
            data,
            user,
            action,
            last,
            json,
        } => {
            let data = data.context("--data (or REINTEGRA_DATA) names the server's data folder")?;
            if let Some(AuditAction::Verify) = check {
                let (intact, report) = commands::audit_verify(&data)?;
                println!("{report}");
                return Ok(if intact { 0 } else { 1 });
            }
            let query = AuditQuery {
                user,
                action,
                last,
                json,
            };
            for line in commands::audit_lines(&data, &query)? {
                println!("{line}");
            }
            Ok(0)
        }
    }
}

/// Reads a new password: from --password, else prompted twice on a terminal, else one
/// line of standard input (for scripts).
fn new_password(given: Option<String>) -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if let Some(p) = given {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        anyhow::ensure!(first == again, "the two passwords differ");
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn users(data: &Path, action: UsersAction) -> anyhow::Result<u8> {
    let command = match action {
        UsersAction::Add {
            name,
            role,
            password,
        } => {
            let role = Role::parse(&role)
                .filter(|r| *r != Role::Public)
                .context("--role is one of donor, ministry, programme, admin")?;
            UsersCommand::Add {
                name,
                role,
                password: new_password(password)?,
            }
        }
        UsersAction::List => UsersCommand::List,
        UsersAction::Remove { name } => UsersCommand::Remove { name },
        UsersAction::Passwd { name, password } => UsersCommand::Passwd {
            name,
            password: new_password(password)?,
        },
        UsersAction::Token { name, expires } => UsersCommand::Token {
            name,
            lifetime: chrono::Duration::from_std(expires)
                .ok()
                .filter(|d| *d > chrono::Duration::zero() && *d <= chrono::Duration::days(3660))
                .context("--expires is a duration between a second and ten years, e.g. 90d")?,
        },
        UsersAction::Tokens { name } => UsersCommand::Tokens { name },
        UsersAction::Revoke { name, all, token } => UsersCommand::Revoke {
            name,
            which: match (all, token) {
                (_, Some(id)) => Revoke::Id(id),
                _ => Revoke::All,
            },
        },
    };
    println!("{}", commands::users(data, command)?);
    Ok(0)
}

fn serve(
    settings: server::Settings,
    bind: SocketAddr,
    banner: Option<String>,
) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut settings = settings;
    // REINTEGRA_PAGE_CACHE=0 renders every page afresh (for the benchmark's cold figures).
    settings.cache_pages = std::env::var("REINTEGRA_PAGE_CACHE").map_or(true, |v| v != "0");
    runtime.block_on(async move {
        let app = server::App::build(settings, bind).await?;
        let addr = app.local_addr();
        tracing::info!(%addr, "serving");
        println!("reintegra is serving on http://{addr}/");
        if let Some(banner) = banner {
            println!("{banner}");
        }
        app.run(server::shutdown_signal()).await?;
        Ok(0)
    })
}
