//! Reading a file as a table of text cells, whatever its dialect: CSV with `,`, `;` or
//! tab, UTF-8 with or without BOM, UTF-16 with BOM, or Windows-1252, any line ending,
//! quoted fields; or the single data sheet of an XLSX workbook.
//!
//! This layer knows nothing of the contract; it hands rows of `&str` to the validator.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use calamine::{Data, Reader, open_workbook_auto};
use sha2::{Digest, Sha256};

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
                Err(_) => utf8 = false,
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
    pub header: Vec<String>,
    pub dialect: Dialect,
    pub bytes: u64,
    rows: Rows,
}

enum Rows {
    Csv {
        reader: csv::Reader<Box<dyn Read + Send>>,
        encoding: Encoding,
    },
    Sheet {
        cells: Vec<Vec<String>>,
        first_row: u64,
    },
}

fn is_xlsx(path: &Path, fp: &Fingerprint) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    matches!(ext.as_str(), "xlsx" | "xlsm" | "xls" | "ods") || fp.head.starts_with(b"PK\x03\x04")
}

/// Opens a file as a table, sniffing its dialect.
pub fn open(path: &Path, fp: &Fingerprint) -> Result<Table, SourceError> {
    if is_xlsx(path, fp) {
        return open_sheet(path, fp);
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
            // Rare (Excel's "Unicode text"): decode the whole file to UTF-8 up front.
            let mut raw = Vec::new();
            File::open(path)?.read_to_end(&mut raw)?;
            let codec = if encoding == Encoding::Utf16Le {
                encoding_rs::UTF_16LE
            } else {
                encoding_rs::UTF_16BE
            };
            let (text, _, _) = codec.decode(&raw);
            let bytes = text.into_owned().into_bytes();
            let head = bytes[..bytes.len().min(64 * 1024)].to_vec();
            (Box::new(io::Cursor::new(bytes)), Cow::Owned(head))
        }
        Encoding::Utf8Bom => {
            let mut file = file;
            let mut bom = [0u8; 3];
            file.read_exact(&mut bom)?;
            (Box::new(file), Cow::Borrowed(&fp.head[3..]))
        }
        _ => (Box::new(file), Cow::Borrowed(&fp.head[..])),
    };
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
    })
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
    let reason = match e.kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        _ => "malformed quoting".to_string(),
    };
    SourceError::Csv { line, reason }
}

fn open_sheet(path: &Path, fp: &Fingerprint) -> Result<Table, SourceError> {
    let mut book = open_workbook_auto(path).map_err(|e| SourceError::Workbook(e.to_string()))?;
    let mut data_sheets = Vec::new();
    for name in book.sheet_names() {
        let range = book
            .worksheet_range(&name)
            .map_err(|e| SourceError::Workbook(e.to_string()))?;
        if range
            .rows()
            .any(|row| row.iter().any(|c| !matches!(c, Data::Empty)))
        {
            data_sheets.push(range);
        }
    }
    if data_sheets.len() > 1 {
        return Err(SourceError::SeveralSheets);
    }
    let range = data_sheets.pop().ok_or(SourceError::Empty)?;
    let first_row = range.start().map_or(0, |(row, _)| row as u64) + 1;
    let mut cells: Vec<Vec<String>> = range
        .rows()
        .map(|row| row.iter().map(cell_text).collect())
        .collect();
    if cells.is_empty() {
        return Err(SourceError::Empty);
    }
    let header = cells.remove(0);
    Ok(Table {
        header,
        dialect: Dialect::Xlsx,
        bytes: fp.bytes,
        rows: Rows::Sheet {
            cells,
            first_row: first_row + 1,
        },
    })
}

/// A workbook cell as the text a CSV export would hold.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            let (y, m, d, hh, mm, ss, ms) = dt.to_ymd_hms_milli();
            if (hh, mm, ss, ms) == (0, 0, 0, 0) {
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}")
            }
        }
        Data::Error(_) => "#ERROR".to_string(),
    }
}

impl Table {
    /// Calls `f(row_number, cells, bytes_read)` for every data row, in order. Row numbers
    /// follow the file: the line a CSV record starts on, or the sheet's row.
    /// Rows whose cells are all empty are skipped.
    pub fn for_each_row(
        &mut self,
        mut f: impl FnMut(u64, &[&str], u64),
    ) -> Result<(), SourceError> {
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
                    if encoding == Encoding::Windows1252 {
                        let decoded: Vec<Cow<str>> =
                            record.iter().map(|field| decode(field, encoding)).collect();
                        let cells: Vec<&str> = decoded.iter().map(|c| c.as_ref()).collect();
                        f(line, &cells, byte);
                    } else {
                        // UTF-8 was checked by `fingerprint` (or produced by decoding).
                        let cells: Vec<&str> = record
                            .iter()
                            .map(|field| std::str::from_utf8(field).unwrap_or("\u{fffd}"))
                            .collect();
                        f(line, &cells, byte);
                    }
                }
            }
            Rows::Sheet { cells, first_row } => {
                let total = cells.len().max(1) as u64;
                for (i, row) in cells.iter().enumerate() {
                    if row.iter().all(|c| c.trim().is_empty()) {
                        continue;
                    }
                    let refs: Vec<&str> = row.iter().map(String::as_str).collect();
                    f(*first_row + i as u64, &refs, self.bytes * i as u64 / total);
                }
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
        assert_eq!(cell_text(&Data::Float(12.0)), "12");
        assert_eq!(cell_text(&Data::Float(12.5)), "12.5");
        assert_eq!(cell_text(&Data::Empty), "");
    }
}
