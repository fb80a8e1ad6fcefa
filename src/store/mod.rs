//! store: the private store — microdata of accepted extracts and the record of every
//! load, in one DuckDB file on the job side (`DATA/private/store.duckdb`).
//!
//! Only the nightly job opens it. It must never be copied into `published/` or opened by
//! the server: it holds `person_ref` and person-level rows.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use duckdb::{Connection, params};

use crate::domain::{Kind, MonthSpan};
use crate::extract::contract::{self, stored_columns};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("private store {path}: {source}")]
    Db {
        path: PathBuf,
        source: duckdb::Error,
    },
    #[error("private store folder {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The outcome of a file, as recorded in the load log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    Rejected,
    /// The same bytes were accepted before; nothing changed.
    Duplicate,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Rejected => "rejected",
            Outcome::Duplicate => "duplicate",
        }
    }

    fn parse(s: &str) -> Outcome {
        match s {
            "accepted" => Outcome::Accepted,
            "duplicate" => Outcome::Duplicate,
            _ => Outcome::Rejected,
        }
    }
}

/// One line of the load log.
#[derive(Debug, Clone)]
pub struct LoadRecord {
    pub load_id: i64,
    pub file: String,
    pub sha256: String,
    pub kind: Option<Kind>,
    pub rows: u64,
    pub span: Option<MonthSpan>,
    pub outcome: Outcome,
    pub at: DateTime<Utc>,
    /// Rows of earlier loads that this one replaced (accepted loads only).
    pub replaced: u64,
    /// Problems found (rejected loads only).
    pub problems: u64,
}

/// What an accepted load did.
#[derive(Debug, Clone, Copy)]
pub struct Loaded {
    pub load_id: i64,
    pub inserted: u64,
    pub replaced: u64,
}

pub struct PrivateStore {
    conn: Connection,
    path: PathBuf,
}

impl PrivateStore {
    /// Opens (creating if needed) the store in `dir`. Call once per process.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join("store.duckdb");
        let conn = Connection::open(&path).map_err(|source| StoreError::Db {
            path: path.clone(),
            source,
        })?;
        // Owner-only whatever the umask (the folder is 0700 too).
        crate::status::set_mode(&path, 0o600).map_err(|source| StoreError::Io {
            path: path.clone(),
            source,
        })?;
        let store = PrivateStore { conn, path };
        store.create_schema()?;
        Ok(store)
    }

    /// An empty store in memory, with the schema: for checking definitions without data.
    pub fn in_memory() -> Result<Self, StoreError> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Db {
            path: path.clone(),
            source,
        })?;
        let store = PrivateStore { conn, path };
        store.create_schema()?;
        Ok(store)
    }

    /// Bounds the memory DuckDB takes for loads and measures (it spills to
    /// `spill_dir` beyond it), e.g. `2GB`.
    pub fn limit_memory(&self, limit: &str, spill_dir: &Path) -> Result<(), StoreError> {
        let ok = limit
            .trim()
            .trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .trim()
            .parse::<f64>()
            .is_ok();
        if !ok {
            return Err(StoreError::Io {
                path: self.path.clone(),
                source: std::io::Error::other(format!(
                    "store_memory must read like 2GB or 512MB, not {limit:?}"
                )),
            });
        }
        std::fs::create_dir_all(spill_dir).map_err(|source| StoreError::Io {
            path: spill_dir.to_path_buf(),
            source,
        })?;
        self.conn
            .execute_batch(&format!(
                "SET memory_limit = '{}'; SET temp_directory = '{}';",
                limit.trim().replace('\'', ""),
                spill_dir.display().to_string().replace('\'', "''")
            ))
            .map_err(|e| self.err(e))
    }

    /// Runs statements on the job's connection (temporary tables of the measures).
    pub fn execute_batch(&self, sql: &str) -> Result<(), StoreError> {
        self.conn.execute_batch(sql).map_err(|e| self.err(e))
    }

    fn err(&self, source: duckdb::Error) -> StoreError {
        StoreError::Db {
            path: self.path.clone(),
            source,
        }
    }

    fn create_schema(&self) -> Result<(), StoreError> {
        let mut sql = String::from(
            "CREATE TABLE IF NOT EXISTS loads (
                load_id BIGINT PRIMARY KEY,
                file VARCHAR NOT NULL,
                sha256 VARCHAR NOT NULL,
                kind VARCHAR,
                rows BIGINT NOT NULL,
                first_month VARCHAR,
                last_month VARCHAR,
                outcome VARCHAR NOT NULL,
                loaded_at TIMESTAMPTZ NOT NULL,
                replaced_rows BIGINT NOT NULL,
                problems BIGINT NOT NULL
            );
            CREATE TABLE IF NOT EXISTS exchange_rates (
                month DATE NOT NULL,
                currency VARCHAR NOT NULL,
                rate DOUBLE NOT NULL
            );
            CREATE TABLE IF NOT EXISTS quarantine_purges (
                file VARCHAR NOT NULL,
                quarantined_at TIMESTAMPTZ NOT NULL,
                purged_at TIMESTAMPTZ NOT NULL
            );\n",
        );
        for kind in Kind::ALL {
            let columns: Vec<String> = stored_columns(kind)
                .iter()
                .map(|c| format!("{} {}", c.name, c.sql_type))
                .collect();
            sql.push_str(&format!(
                "CREATE TABLE IF NOT EXISTS {} ({}, load_id BIGINT NOT NULL);\n",
                kind.name(),
                columns.join(", ")
            ));
        }
        self.conn.execute_batch(&sql).map_err(|e| self.err(e))
    }

    /// Replaces the exchange rates the spending measure converts with (units of the
    /// grant's currency per unit of `currency` in `month`, the grant's currency at 1),
    /// as the budget file gives them on this run.
    pub fn set_rates(&self, rates: &[(crate::domain::Month, &str, f64)]) -> Result<(), StoreError> {
        let result = (|| -> duckdb::Result<()> {
            self.conn
                .execute_batch("BEGIN TRANSACTION; DELETE FROM exchange_rates;")?;
            let mut stmt = self
                .conn
                .prepare("INSERT INTO exchange_rates VALUES (CAST(? AS DATE), ?, ?)")?;
            for (month, currency, rate) in rates {
                stmt.execute(params![month.first_day().to_string(), currency, rate])?;
            }
            self.conn.execute_batch("COMMIT")
        })();
        result.map_err(|e| {
            let _ = self.conn.execute_batch("ROLLBACK");
            self.err(e)
        })
    }

    /// The connection, for the measures that run over the microdata.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The accepted load of a file with these bytes, if any.
    pub fn accepted_load(&self, sha256: &str) -> Result<Option<LoadRecord>, StoreError> {
        let records = self.loads_where("outcome = 'accepted' AND sha256 = ?", &[&sha256])?;
        Ok(records.into_iter().next())
    }

    /// The whole load log, oldest first.
    pub fn loads(&self) -> Result<Vec<LoadRecord>, StoreError> {
        self.loads_where("true", &[])
    }

    fn loads_where(
        &self,
        condition: &str,
        args: &[&dyn duckdb::ToSql],
    ) -> Result<Vec<LoadRecord>, StoreError> {
        let sql = format!(
            "SELECT load_id, file, sha256, kind, rows, first_month, last_month, outcome,
                    epoch_ms(loaded_at), replaced_rows, problems
             FROM loads WHERE {condition} ORDER BY load_id"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(args, |row| {
                let kind: Option<String> = row.get(3)?;
                let first: Option<String> = row.get(5)?;
                let last: Option<String> = row.get(6)?;
                let outcome: String = row.get(7)?;
                let at: i64 = row.get(8)?;
                Ok(LoadRecord {
                    load_id: row.get(0)?,
                    file: row.get(1)?,
                    sha256: row.get(2)?,
                    kind: kind.and_then(|k| Kind::ALL.into_iter().find(|x| x.name() == k)),
                    rows: row.get::<_, i64>(4)? as u64,
                    span: first.zip(last).and_then(|(f, l)| {
                        Some(MonthSpan {
                            first: crate::domain::Month::parse(&f)?,
                            last: crate::domain::Month::parse(&l)?,
                        })
                    }),
                    outcome: Outcome::parse(&outcome),
                    at: DateTime::from_timestamp_millis(at).unwrap_or_default(),
                    replaced: row.get::<_, i64>(9)? as u64,
                    problems: row.get::<_, i64>(10)? as u64,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    fn next_load_id(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("SELECT coalesce(max(load_id), 0) + 1 FROM loads", [], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(e))
    }

    /// Loads a staged file (the normalised CSV the validator wrote) as the new content of
    /// `kind` for the months of `span`: earlier rows of those months are replaced, other
    /// months are left alone. All or nothing, in one transaction.
    pub fn load(
        &self,
        kind: Kind,
        staged: &Path,
        span: MonthSpan,
        file: &str,
        sha256: &str,
        rows: u64,
    ) -> Result<Loaded, StoreError> {
        let load_id = self.next_load_id()?;
        let table = kind.name();
        let date = contract::date_column(kind);
        let columns: Vec<String> = stored_columns(kind)
            .iter()
            .map(|c| {
                let ty = c.sql_type.trim_end_matches(" NOT NULL");
                format!("'{}': '{}'", c.name, ty)
            })
            .collect();
        let (from, until) = (span.first.first_day(), span.last.next().first_day());
        let staged_sql = staged.display().to_string().replace('\'', "''");
        let result = (|| -> duckdb::Result<Loaded> {
            self.conn.execute_batch("BEGIN TRANSACTION")?;
            let replaced = self.conn.execute(
                &format!("DELETE FROM {table} WHERE {date} >= ?::DATE AND {date} < ?::DATE"),
                params![from.to_string(), until.to_string()],
            )? as u64;
            let inserted = self.conn.execute(
                &format!(
                    "INSERT INTO {table} SELECT *, {load_id} FROM read_csv('{staged_sql}',
                        header = false, delim = ',', quote = '\"', escape = '\"',
                        auto_detect = false, nullstr = '', columns = {{{}}})",
                    columns.join(", ")
                ),
                [],
            )? as u64;
            self.conn.execute(
                "INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, ?, 'accepted', now(), ?, 0)",
                params![
                    load_id,
                    file,
                    sha256,
                    table,
                    rows as i64,
                    span.first.to_string(),
                    span.last.to_string(),
                    replaced as i64
                ],
            )?;
            self.conn.execute_batch("COMMIT")?;
            Ok(Loaded {
                load_id,
                inserted,
                replaced,
            })
        })();
        result.map_err(|e| {
            let _ = self.conn.execute_batch("ROLLBACK");
            self.err(e)
        })
    }

    /// Records a file that was not loaded: rejected (with its problem count) or a
    /// re-delivery of bytes already accepted.
    pub fn record_unloaded(
        &self,
        file: &str,
        sha256: &str,
        kind: Option<Kind>,
        rows: u64,
        outcome: Outcome,
        problems: u64,
    ) -> Result<i64, StoreError> {
        let load_id = self.next_load_id()?;
        self.conn
            .execute(
                "INSERT INTO loads VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, now(), 0, ?)",
                params![
                    load_id,
                    file,
                    sha256,
                    kind.map(Kind::name),
                    rows as i64,
                    outcome.as_str(),
                    problems as i64
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(load_id)
    }

    /// The id of the newest accepted load, if any.
    pub fn last_accepted_load(&self) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row(
                "SELECT max(load_id) FROM loads WHERE outcome = ?",
                params![Outcome::Accepted.as_str()],
                |r| r.get::<_, Option<i64>>(0),
            )
            .map_err(|e| self.err(e))
    }

    /// Records that a quarantined file (and its reports) was deleted.
    pub fn record_purge(
        &self,
        file: &str,
        quarantined_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO quarantine_purges VALUES (?, CAST(? AS TIMESTAMPTZ), now())",
                params![file, quarantined_at.to_rfc3339()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Quarantined files deleted so far: (file, quarantined at), oldest first.
    pub fn purges(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT file, CAST(quarantined_at AS VARCHAR) FROM quarantine_purges ORDER BY purged_at, file")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Rows currently held for a kind.
    pub fn row_count(&self, kind: Kind) -> Result<u64, StoreError> {
        self.conn
            .query_row(&format!("SELECT count(*) FROM {}", kind.name()), [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// The first and last date each kind's rows cover (kinds without rows are left out).
    pub fn coverage(&self) -> Result<Vec<(Kind, NaiveDate, NaiveDate)>, StoreError> {
        let mut out = Vec::new();
        for kind in Kind::ALL {
            let date = contract::date_column(kind);
            let (first, last): (Option<String>, Option<String>) = self
                .conn
                .query_row(
                    &format!(
                        "SELECT CAST(min({date}) AS VARCHAR), CAST(max({date}) AS VARCHAR) FROM {}",
                        kind.name()
                    ),
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(|e| self.err(e))?;
            let parse = |s: Option<String>| s.and_then(|s| s.parse::<NaiveDate>().ok());
            if let (Some(first), Some(last)) = (parse(first), parse(last)) {
                out.push((kind, first, last));
            }
        }
        Ok(out)
    }

    /// Forces the write-ahead log into the database file.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("CHECKPOINT")
            .map_err(|e| self.err(e))
    }
}
