//! Reading a file as a table of text cells, whatever its dialect: CSV with `,`, `;` or
//! tab, UTF-8 with or without BOM, UTF-16 with BOM, or Windows-1252, any line ending,
//! quoted fields; or the single data sheet of an XLSX workbook.
//!
//! Everything is read as a stream with bounded work (`Limits`): CSV through a guard
//! that refuses an endless record (an unclosed quote), UTF-16 decoded on the fly, and
//! XLSX cell by cell — never the whole sheet rectangle — after checking the archive's
//! declared sizes. This layer knows nothing of the contract; it hands rows of `&str`
//! to the validator.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use calamine::{DataRef, Reader, Xlsx};
use sha2::{Digest, Sha256};

use super::limits::{Limit, Limits};

/// The text encoding of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    Windows1252,
}

/// How a file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Csv { delimiter: u8, encoding: Encoding },
    Xlsx,
}

impl std::fmt::Display for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dialect::Csv {
                delimiter,
                encoding,
            } => {
                let sep = match delimiter {
                    b'\t' => "tab".to_string(),
                    d => format!("'{}'", *d as char),
                };
                write!(f, "CSV, {sep}-separated, {encoding:?}")
            }
            Dialect::Xlsx => f.write_str("XLSX"),
        }
    }
}

/// Why a file could not be read at all (as opposed to rows breaking the contract).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read the file: {0}")]
    Io(#[from] io::Error),
    #[error("not a readable workbook: {0}")]
    Workbook(String),
    #[error("the workbook has several sheets holding data; send one sheet per file")]
    SeveralSheets,
    #[error("the file has no header row")]
    Empty,
    #[error("CSV structure broken at line {line}: {reason}")]
    Csv { line: u64, reason: String },
    /// A limit was passed, at a row when known.
    #[error("the file passes the limit {}", .limit.id())]
    Limit { limit: Limit, row: Option<u64> },
}

/// The SHA-256 of a file's bytes, and what a first pass learns about its text.
#[derive(Debug, Clone)]
pub struct Fingerprint {
    pub sha256: String,
    pub bytes: u64,
    utf8: bool,
    head: Vec<u8>,
}

/// Hashes the file and checks in the same pass whether it is valid UTF-8.
pub fn fingerprint(path: &Path) -> io::Result<Fingerprint> {
    const HEAD: usize = 64 * 1024;
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut carry: Vec<u8> = Vec::new();
    let (mut utf8, mut bytes, mut head) = (true, 0u64, Vec::new());
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        hasher.update(chunk);
        bytes += n as u64;
        if head.len() < HEAD {
            let take = (HEAD - head.len()).min(n);
            head.extend_from_slice(&chunk[..take]);
        }
        if utf8 {
            carry.extend_from_slice(chunk);
            match std::str::from_utf8(&carry) {
                Ok(_) => carry.clear(),
                // An incomplete sequence at the end of the chunk continues in the next one.
                Err(e) if e.error_len().is_none() => {
                    carry.drain(..e.valid_up_to());
                }
                Err(_) => {
                    utf8 = false;
                    carry = Vec::new();
                }
            }
        }
    }
    Ok(Fingerprint {
        sha256: hex::encode(hasher.finalize()),
        bytes,
        utf8: utf8 && carry.is_empty(),
        head,
    })
}

/// A file opened as a table: its header row, and its data rows on demand.
pub struct Table {
    /// The first row's cells (the header, if the file has one).
    pub header: Vec<String>,
    pub dialect: Dialect,
    pub bytes: u64,
    rows: Rows,
    limits: Limits,
}

enum Rows {
    Csv {
        reader: csv::Reader<Box<dyn Read + Send>>,
        encoding: Encoding,
    },
    Sheet {
        path: PathBuf,
        sheet: String,
        /// The header's row (0-based): data rows come after it.
        header_row: u32,
    },
}

fn is_xlsx(path: &Path, fp: &Fingerprint) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    matches!(ext.as_str(), "xlsx" | "xlsm") || fp.head.starts_with(b"PK\x03\x04")
}

/// Opens a file as a table, sniffing its dialect.
pub fn open(path: &Path, fp: &Fingerprint, limits: &Limits) -> Result<Table, SourceError> {
    if fp.bytes > limits.max_file_bytes {
        return Err(SourceError::Limit {
            limit: Limit::FileBytes,
            row: None,
        });
    }
    if is_xlsx(path, fp) {
        return open_sheet(path, fp, limits);
    }
    let encoding = if fp.head.starts_with(&[0xFF, 0xFE]) {
        Encoding::Utf16Le
    } else if fp.head.starts_with(&[0xFE, 0xFF]) {
        Encoding::Utf16Be
    } else if fp.head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        Encoding::Utf8Bom
    } else if fp.utf8 {
        Encoding::Utf8
    } else {
        Encoding::Windows1252
    };
    let file = BufReader::with_capacity(1 << 20, File::open(path)?);
    let (input, head): (Box<dyn Read + Send>, Cow<[u8]>) = match encoding {
        Encoding::Utf16Le | Encoding::Utf16Be => {
            // Excel's "Unicode text": decoded to UTF-8 as it is read (the BOM is
            // dropped); the head is decoded the same way to sniff the separator.
            let codec = if encoding == Encoding::Utf16Le {
                encoding_rs::UTF_16LE
            } else {
                encoding_rs::UTF_16BE
            };
            let mut builder = encoding_rs_io::DecodeReaderBytesBuilder::new();
            builder.encoding(Some(codec)).bom_override(true);
            let mut head = Vec::new();
            builder.build(&fp.head[..]).read_to_end(&mut head)?;
            (Box::new(builder.build(file)), Cow::Owned(head))
        }
        Encoding::Utf8Bom => {
            let mut file = file;
            let mut bom = [0u8; 3];
            file.read_exact(&mut bom)?;
            (Box::new(file), Cow::Borrowed(&fp.head[3..]))
        }
        _ => (Box::new(file), Cow::Borrowed(&fp.head[..])),
    };
    let input: Box<dyn Read + Send> = Box::new(RecordGuard::new(input, limits.max_record_bytes));
    let delimiter = sniff_delimiter(&head);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .buffer_capacity(1 << 20)
        .from_reader(input);
    let mut record = csv::ByteRecord::new();
    let has_header = reader
        .read_byte_record(&mut record)
        .map_err(|e| csv_error(&e))?;
    if !has_header {
        return Err(SourceError::Empty);
    }
    if record.len() > limits.max_fields_per_row {
        return Err(SourceError::Limit {
            limit: Limit::FieldsPerRow,
            row: Some(1),
        });
    }
    let header = record
        .iter()
        .map(|f| decode(f, encoding).into_owned())
        .collect();
    Ok(Table {
        header,
        dialect: Dialect::Csv {
            delimiter,
            encoding,
        },
        bytes: fp.bytes,
        rows: Rows::Csv { reader, encoding },
        limits: *limits,
    })
}

/// A CSV record longer than the limit: the guard stops reading there.
#[derive(Debug)]
struct RecordTooLong {
    line: u64,
}

impl std::fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a record starting on line {} is too long", self.line)
    }
}

impl std::error::Error for RecordTooLong {}

/// Passes bytes through while following quotes the way a CSV reader does, and fails
/// once one record (line ends inside quotes included) passes `max` bytes — so an
/// unclosed quote cannot turn the rest of a large file into one field held in memory.
struct RecordGuard<R> {
    inner: R,
    max: usize,
    quoted: bool,
    record: usize,
    /// Line (1-based) on which the current record started, and the current line.
    start_line: u64,
    line: u64,
}

impl<R: Read> RecordGuard<R> {
    fn new(inner: R, max: usize) -> Self {
        RecordGuard {
            inner,
            max,
            quoted: false,
            record: 0,
            start_line: 1,
            line: 1,
        }
    }
}

impl<R: Read> Read for RecordGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut rest = &buf[..n];
        // Jump from one quote or line end to the next: most bytes are neither.
        loop {
            let (skipped, found) = match memchr::memchr3(b'"', b'\n', b'\r', rest) {
                Some(j) => (j, Some(rest[j])),
                None => (rest.len(), None),
            };
            self.record += skipped;
            if self.record > self.max {
                return Err(io::Error::other(RecordTooLong {
                    line: self.start_line,
                }));
            }
            let Some(b) = found else { break };
            rest = &rest[skipped + 1..];
            match b {
                b'"' => {
                    self.quoted = !self.quoted;
                    self.record += 1;
                }
                b'\n' => {
                    self.line += 1;
                    if self.quoted {
                        self.record += 1;
                    } else {
                        self.record = 0;
                        self.start_line = self.line;
                    }
                }
                _ if self.quoted => self.record += 1,
                _ => self.record = 0,
            }
        }
        Ok(n)
    }
}

/// The separator that occurs most often, outside quotes, in the first line.
fn sniff_delimiter(head: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in head {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3)
        .max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))
        .unwrap_or(0);
    [b',', b';', b'\t'][best]
}

fn decode(field: &[u8], encoding: Encoding) -> Cow<'_, str> {
    match encoding {
        Encoding::Windows1252 => {
            encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(field)
                .0
        }
        // Checked valid by `fingerprint` (or produced by the UTF-16 decoder).
        _ => String::from_utf8_lossy(field),
    }
}

fn csv_error(e: &csv::Error) -> SourceError {
    let line = e.position().map_or(0, |p| p.line());
    if let csv::ErrorKind::Io(io) = e.kind()
        && let Some(long) = io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<RecordTooLong>())
    {
        return SourceError::Limit {
            limit: Limit::RecordBytes,
            row: Some(long.line),
        };
    }
    let reason = match e.kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        _ => "malformed quoting".to_string(),
    };
    SourceError::Csv { line, reason }
}

fn workbook_error(e: impl std::fmt::Display) -> SourceError {
    SourceError::Workbook(e.to_string())
}

/// Checks an XLSX archive's declared sizes before anything decompresses it: the
/// number of entries, their total uncompressed size and each one's ratio.
fn check_archive(path: &Path, limits: &Limits) -> Result<(), SourceError> {
    let mut zip =
        zip::ZipArchive::new(BufReader::new(File::open(path)?)).map_err(workbook_error)?;
    if zip.len() > limits.max_zip_entries {
        return Err(SourceError::Limit {
            limit: Limit::ZipEntries,
            row: None,
        });
    }
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(workbook_error)?;
        let (size, packed) = (entry.size(), entry.compressed_size().max(1));
        total = total.saturating_add(size);
        if size > 1 << 20 && size / packed > limits.max_zip_ratio {
            return Err(SourceError::Limit {
                limit: Limit::ZipRatio,
                row: None,
            });
        }
    }
    if total > limits.max_xlsx_uncompressed_bytes {
        return Err(SourceError::Limit {
            limit: Limit::XlsxUncompressed,
            row: None,
        });
    }
    Ok(())
}

fn open_book(path: &Path) -> Result<Xlsx<BufReader<File>>, SourceError> {
    Xlsx::new(BufReader::new(File::open(path)?)).map_err(workbook_error)
}

fn is_blank(value: &DataRef<'_>) -> bool {
    match value {
        DataRef::Empty => true,
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
            s.trim().is_empty()
        }
        DataRef::SharedString(s) => s.trim().is_empty(),
        _ => false,
    }
}

fn open_sheet(path: &Path, fp: &Fingerprint, limits: &Limits) -> Result<Table, SourceError> {
    check_archive(path, limits)?;
    let mut book = open_book(path)?;
    // The one sheet holding data: each sheet is read only up to its first value.
    let mut data_sheet = None;
    for name in book.sheet_names() {
        let mut cells = book.worksheet_cells_reader(&name).map_err(workbook_error)?;
        let mut seen: u64 = 0;
        let mut has_data = false;
        while let Some(cell) = cells.next_cell().map_err(workbook_error)? {
            seen += 1;
            if seen > limits.max_sheet_cells {
                return Err(SourceError::Limit {
                    limit: Limit::SheetCells,
                    row: None,
                });
            }
            if !is_blank(cell.get_value()) {
                has_data = true;
                break;
            }
        }
        if has_data {
            if data_sheet.is_some() {
                return Err(SourceError::SeveralSheets);
            }
            data_sheet = Some(name);
        }
    }
    let sheet = data_sheet.ok_or(SourceError::Empty)?;
    let mut header: Option<(u32, Vec<String>)> = None;
    for_each_sheet_row(&mut book, &sheet, limits, None, |row, cells| {
        header = Some((row, cells.iter().map(|c| c.to_string()).collect()));
        false
    })?;
    let (header_row, header) = header.ok_or(SourceError::Empty)?;
    Ok(Table {
        header,
        dialect: Dialect::Xlsx,
        bytes: fp.bytes,
        rows: Rows::Sheet {
            path: path.to_path_buf(),
            sheet,
            header_row,
        },
        limits: *limits,
    })
}

/// Streams the non-blank rows of a sheet after `after` (0-based), in order, each as
/// the text of its cells from column A; `f` returns whether to go on. Bounded: a cell
/// beyond the fields limit, more cells than the sheet limit, or a declared used range
/// far larger than the cells present stop it with the limit passed.
fn for_each_sheet_row(
    book: &mut Xlsx<BufReader<File>>,
    sheet: &str,
    limits: &Limits,
    after: Option<u32>,
    mut f: impl FnMut(u32, &[Cow<'_, str>]) -> bool,
) -> Result<(), SourceError> {
    let mut reader = book.worksheet_cells_reader(sheet).map_err(workbook_error)?;
    let dims = reader.dimensions();
    let mut row: Vec<Cow<'_, str>> = Vec::new();
    let mut current: Option<u32> = None;
    let mut cells: u64 = 0;
    let flush = |r: u32,
                 row: &mut Vec<Cow<'_, str>>,
                 f: &mut dyn FnMut(u32, &[Cow<'_, str>]) -> bool| {
        let go_on = if row.iter().all(|c| c.trim().is_empty()) || after.is_some_and(|a| r <= a) {
            true
        } else {
            f(r, row)
        };
        row.clear();
        go_on
    };
    loop {
        let next = reader.next_cell().map_err(workbook_error)?;
        let Some(cell) = next else { break };
        let (r, c) = cell.get_position();
        cells += 1;
        if cells > limits.max_sheet_cells {
            return Err(SourceError::Limit {
                limit: Limit::SheetCells,
                row: Some(r as u64 + 1),
            });
        }
        if current != Some(r) {
            if let Some(prev) = current
                && !flush(prev, &mut row, &mut f)
            {
                return Ok(());
            }
            current = Some(r);
        }
        if is_blank(cell.get_value()) {
            continue;
        }
        if c as usize >= limits.max_fields_per_row {
            return Err(SourceError::Limit {
                limit: Limit::FieldsPerRow,
                row: Some(r as u64 + 1),
            });
        }
        if row.len() <= c as usize {
            row.resize(c as usize + 1, Cow::Borrowed(""));
        }
        row[c as usize] = cell_text(cell.get_value());
    }
    if let Some(prev) = current
        && !flush(prev, &mut row, &mut f)
    {
        return Ok(());
    }
    let area = (u64::from(dims.end.0.saturating_sub(dims.start.0)) + 1)
        * (u64::from(dims.end.1.saturating_sub(dims.start.1)) + 1);
    if area > 1_000_000 && area > cells.max(1).saturating_mul(limits.max_sparse_ratio) {
        return Err(SourceError::Limit {
            limit: Limit::SparseSheet,
            row: None,
        });
    }
    Ok(())
}

/// A workbook cell as the text a CSV export would hold.
fn cell_text<'a>(cell: &DataRef<'a>) -> Cow<'a, str> {
    match cell {
        DataRef::Empty => Cow::Borrowed(""),
        DataRef::SharedString(s) => Cow::Borrowed(s),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
            Cow::Owned(s.clone())
        }
        DataRef::Int(i) => Cow::Owned(i.to_string()),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
            Cow::Owned(format!("{}", *f as i64))
        }
        DataRef::Float(f) => Cow::Owned(f.to_string()),
        DataRef::Bool(b) => Cow::Owned(b.to_string()),
        DataRef::DateTime(dt) => {
            let (y, m, d, hh, mm, ss, ms) = dt.to_ymd_hms_milli();
            Cow::Owned(if (hh, mm, ss, ms) == (0, 0, 0, 0) {
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}")
            })
        }
        DataRef::Error(_) => Cow::Borrowed("#ERROR"),
    }
}

impl Table {
    /// Calls `f(row_number, cells, bytes_read)` for every data row, in order, while it
    /// returns true. Row numbers follow the file: the line a CSV record starts on, or
    /// the sheet's row. Rows whose cells are all empty are skipped.
    pub fn for_each_row(
        &mut self,
        mut f: impl FnMut(u64, &[&str], u64) -> bool,
    ) -> Result<(), SourceError> {
        let limits = self.limits;
        match &mut self.rows {
            Rows::Csv { reader, encoding } => {
                let encoding = *encoding;
                let mut record = csv::ByteRecord::new();
                while reader
                    .read_byte_record(&mut record)
                    .map_err(|e| csv_error(&e))?
                {
                    if record
                        .iter()
                        .all(|field| field.iter().all(u8::is_ascii_whitespace))
                    {
                        continue;
                    }
                    let pos = record.position().expect("csv records carry their position");
                    let (line, byte) = (pos.line(), pos.byte());
                    if record.len() > limits.max_fields_per_row {
                        return Err(SourceError::Limit {
                            limit: Limit::FieldsPerRow,
                            row: Some(line),
                        });
                    }
                    let go_on = if encoding == Encoding::Windows1252 {
                        let decoded: Vec<Cow<str>> =
                            record.iter().map(|field| decode(field, encoding)).collect();
                        let cells: Vec<&str> = decoded.iter().map(|c| c.as_ref()).collect();
                        f(line, &cells, byte)
                    } else {
                        // UTF-8 was checked by `fingerprint` (or produced by decoding).
                        let cells: Vec<&str> = record
                            .iter()
                            .map(|field| std::str::from_utf8(field).unwrap_or("\u{fffd}"))
                            .collect();
                        f(line, &cells, byte)
                    };
                    if !go_on {
                        break;
                    }
                }
            }
            Rows::Sheet {
                path,
                sheet,
                header_row,
            } => {
                let mut book = open_book(path)?;
                let bytes = self.bytes;
                for_each_sheet_row(&mut book, sheet, &limits, Some(*header_row), |r, cells| {
                    let refs: Vec<&str> = cells.iter().map(|c| c.as_ref()).collect();
                    // Progress of a sheet is not known in bytes; report none until the end.
                    let _ = bytes;
                    f(r as u64 + 1, &refs, 0)
                })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_is_the_commonest_separator_outside_quotes() {
        assert_eq!(sniff_delimiter(b"a;b;c\n1,5;2;3"), b';');
        assert_eq!(sniff_delimiter(b"\"a;b\",c,d\n"), b',');
        assert_eq!(sniff_delimiter(b"a\tb\tc"), b'\t');
        assert_eq!(sniff_delimiter(b"single"), b',');
    }

    #[test]
    fn workbook_cells_read_as_their_csv_text() {
        assert_eq!(cell_text(&DataRef::Float(12.0)), "12");
        assert_eq!(cell_text(&DataRef::Float(12.5)), "12.5");
        assert_eq!(cell_text(&DataRef::Empty), "");
    }

    #[test]
    fn the_record_guard_stops_an_endless_quoted_field() {
        let mut text = b"a,b\n1,2\n3,\"".to_vec();
        text.extend(std::iter::repeat_n(b'x', 200_000));
        let mut guard = RecordGuard::new(&text[..], 64 * 1024);
        let mut out = Vec::new();
        let err = guard.read_to_end(&mut out).unwrap_err();
        let long = err
            .get_ref()
            .unwrap()
            .downcast_ref::<RecordTooLong>()
            .unwrap();
        assert_eq!(long.line, 3);
        // Quoted line ends belong to their record; a normal file passes.
        let ok = b"a,b\n\"multi\nline\",2\n";
        let mut guard = RecordGuard::new(&ok[..], 64);
        let mut out = Vec::new();
        guard.read_to_end(&mut out).unwrap();
        assert_eq!(out, ok);
    }
}
