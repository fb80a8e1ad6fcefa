//! How much work one delivered file may cause. A file that passes a limit is
//! quarantined with a rule naming the limit; nothing it holds reaches the store.
//!
//! Reading is streamed (CSV through a record-length guard, XLSX cell by cell), so the
//! memory one file can take is bounded by these numbers, whatever the file holds:
//! about `max_record_bytes` plus a 1 MiB read buffer for CSV, the shared strings of an
//! XLSX (at most `max_xlsx_uncompressed_bytes`) plus one row, and 32 bytes per row for
//! the duplicate-key check (`max_rows`).

use serde::Deserialize;

/// Limits on one file; the defaults suit the programme's largest real exports many
/// times over. Set in `ingest.toml` under `[limits]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Bytes of the file as delivered.
    pub max_file_bytes: u64,
    /// Data rows.
    pub max_rows: u64,
    /// Fields (columns) in a row or the header.
    pub max_fields_per_row: usize,
    /// Bytes of one field.
    pub max_field_bytes: usize,
    /// Bytes of one CSV record (an unclosed quote makes one endless record).
    pub max_record_bytes: usize,
    /// Uncompressed bytes of all the entries of an XLSX (a ZIP archive).
    pub max_xlsx_uncompressed_bytes: u64,
    /// Entries of an XLSX archive.
    pub max_zip_entries: usize,
    /// Largest ratio of an entry's uncompressed to compressed size (a ZIP bomb's is
    /// in the thousands; real worksheets compress 5 to 30 times).
    pub max_zip_ratio: u64,
    /// Non-empty cells of a worksheet.
    pub max_sheet_cells: u64,
    /// How much larger a worksheet's declared used range may be than the cells it
    /// holds (checked once the range passes a million cells).
    pub max_sparse_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 1 << 30,
            max_rows: 5_000_000,
            max_fields_per_row: 64,
            max_field_bytes: 1024,
            max_record_bytes: 64 * 1024,
            max_xlsx_uncompressed_bytes: 512 << 20,
            max_zip_entries: 10_000,
            max_zip_ratio: 1_000,
            max_sheet_cells: 20_000_000,
            max_sparse_ratio: 1_000,
        }
    }
}

/// Which limit a file passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Limit {
    FileBytes,
    Rows,
    FieldsPerRow,
    FieldBytes,
    RecordBytes,
    XlsxUncompressed,
    ZipEntries,
    ZipRatio,
    SheetCells,
    SparseSheet,
}

impl Limit {
    /// The rule identifier: `limit-<name>`.
    pub fn id(self) -> &'static str {
        match self {
            Limit::FileBytes => "limit-file-bytes",
            Limit::Rows => "limit-rows",
            Limit::FieldsPerRow => "limit-fields-per-row",
            Limit::FieldBytes => "limit-field-bytes",
            Limit::RecordBytes => "limit-record-bytes",
            Limit::XlsxUncompressed => "limit-xlsx-uncompressed-bytes",
            Limit::ZipEntries => "limit-zip-entries",
            Limit::ZipRatio => "limit-zip-ratio",
            Limit::SheetCells => "limit-sheet-cells",
            Limit::SparseSheet => "limit-sparse-sheet",
        }
    }

    /// The setting that holds the limit in `ingest.toml`.
    pub fn setting(self) -> &'static str {
        match self {
            Limit::FileBytes => "max_file_bytes",
            Limit::Rows => "max_rows",
            Limit::FieldsPerRow => "max_fields_per_row",
            Limit::FieldBytes => "max_field_bytes",
            Limit::RecordBytes => "max_record_bytes",
            Limit::XlsxUncompressed => "max_xlsx_uncompressed_bytes",
            Limit::ZipEntries => "max_zip_entries",
            Limit::ZipRatio => "max_zip_ratio",
            Limit::SheetCells => "max_sheet_cells",
            Limit::SparseSheet => "max_sparse_ratio",
        }
    }
}

impl Limits {
    /// The value of a limit.
    pub fn value(&self, limit: Limit) -> u64 {
        match limit {
            Limit::FileBytes => self.max_file_bytes,
            Limit::Rows => self.max_rows,
            Limit::FieldsPerRow => self.max_fields_per_row as u64,
            Limit::FieldBytes => self.max_field_bytes as u64,
            Limit::RecordBytes => self.max_record_bytes as u64,
            Limit::XlsxUncompressed => self.max_xlsx_uncompressed_bytes,
            Limit::ZipEntries => self.max_zip_entries as u64,
            Limit::ZipRatio => self.max_zip_ratio,
            Limit::SheetCells => self.max_sheet_cells,
            Limit::SparseSheet => self.max_sparse_ratio,
        }
    }
}
