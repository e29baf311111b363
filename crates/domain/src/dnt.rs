//! The do-not-text list as CSV: export for a spreadsheet, import from whatever a spreadsheet or
//! another tool wrote.
//!
//! Export writes `phone,opted_out_at,source,note` (RFC 4180, CRLF), with every cell that a
//! spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return)
//! prefixed by a single quote; import strips that quote again.
//!
//! Import never gives up on the file for one bad row: it takes a UTF-8 or UTF-16 file with or
//! without a byte-order mark, CRLF or LF, commas, semicolons or tabs, quoted fields holding
//! delimiters, quotes and line breaks, extra or missing columns, a header or none, and numbers
//! in any common form. A quote that is never closed costs its own row: reading resumes on the
//! next line. Rows it cannot use are reported with their line number and the reason;
//! a readable number with an unreadable date is imported without the date (an opt-out is never
//! dropped for a bad date) and reported as a warning; duplicates are merged. Only a file over
//! the size or row cap, or a header without a phone column, is refused as a whole.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, Utc};
use thiserror::Error;

use crate::phone::{PhoneNumber, Region};

/// The export's header, and the columns an import without a header is read as.
pub const HEADER: &str = "phone,opted_out_at,source,note";

/// Characters kept of one field (the rest is read past); columns past `MAX_FIELDS` are
/// ignored; source and note are cut to `MAX_TEXT_CHARS`.
const MAX_FIELD_CHARS: usize = 4000;
const MAX_FIELDS: usize = 64;
const MAX_TEXT_CHARS: usize = 500;

/// One number on the do-not-text list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DntEntry {
    pub phone: PhoneNumber,
    pub opted_out_at: Option<DateTime<Utc>>,
    /// Where the opt-out came from ("keyword", "import", "staff").
    pub source: Option<String>,
    pub note: Option<String>,
}

/// How much an import may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportLimits {
    pub max_bytes: usize,
    pub max_rows: usize,
}

impl Default for ImportLimits {
    fn default() -> Self {
        Self {
            max_bytes: 5 * 1024 * 1024,
            max_rows: 100_000,
        }
    }
}

/// Why a whole file was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DntError {
    #[error(
        "the file is {bytes} bytes; the most one import takes is {max} bytes. Split it into smaller files"
    )]
    TooLarge { bytes: usize, max: usize },
    #[error("the file has more than {max} rows; split it into smaller files")]
    TooManyRows { max: usize },
    #[error(
        "the header ({header}) names no phone column; name the column with the numbers \"phone\""
    )]
    NoPhoneColumn { header: String },
}

/// A row that could not be used, or was used with a caveat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowIssue {
    /// The line the row starts on, counting from 1.
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for RowIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// What an import found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DntImport {
    /// One per number, in the order first seen.
    pub entries: Vec<DntEntry>,
    /// Rows left out.
    pub rejected: Vec<RowIssue>,
    /// Rows imported with a caveat (an unreadable date).
    pub warnings: Vec<RowIssue>,
    /// Rows whose number was already in the file, merged into the first.
    pub duplicates_merged: usize,
}

/// Writes the list as CSV, safe to open in a spreadsheet.
pub fn export_csv(entries: &[DntEntry]) -> String {
    let mut out = String::with_capacity(64 * (entries.len() + 1));
    out.push_str(HEADER);
    out.push_str("\r\n");
    for e in entries {
        let at = e
            .opted_out_at
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
            .unwrap_or_default();
        let cells = [
            e.phone.as_str(),
            &at,
            e.source.as_deref().unwrap_or(""),
            e.note.as_deref().unwrap_or(""),
        ];
        let row: Vec<String> = cells.iter().map(|c| cell(c)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Characters that make a spreadsheet read a cell as a formula.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `value` starts with what import reads as a guard: a quote before a formula
/// character or before another quote.
fn looks_guarded(value: &str) -> bool {
    value
        .strip_prefix('\'')
        .is_some_and(|rest| rest.starts_with(FORMULA_START) || rest.starts_with('\''))
}

/// One exported cell: formula-guarded, quoted when it holds a delimiter, quote or line break.
/// A value that already looks guarded ("'=x") gets a second quote, so import gives it back.
fn cell(value: &str) -> String {
    let guarded = if value.starts_with(FORMULA_START) || looks_guarded(value) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if guarded.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// Reads a do-not-text CSV. Numbers without a country code are read as `default_region`'s.
pub fn import_csv(
    input: &[u8],
    default_region: Region,
    limits: &ImportLimits,
) -> Result<DntImport, DntError> {
    if input.len() > limits.max_bytes {
        return Err(DntError::TooLarge {
            bytes: input.len(),
            max: limits.max_bytes,
        });
    }
    let text = decode(input);
    let chars: Vec<char> = text.chars().collect();
    let mut reader = Reader::new(&chars);
    let mut import = Import::new(default_region);
    let mut columns: Option<Columns> = None;
    let mut rows = 0usize;
    while let Some(record) = reader.next_record() {
        let (line, fields) = match record {
            Record::Fields { line, fields } => (line, fields),
            Record::Unclosed { line } => {
                import.reject(
                    line,
                    "a quoted field is never closed; check the quotes on this line",
                );
                rows += 1;
                continue;
            }
        };
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let cols = match &columns {
            Some(c) => c,
            None => {
                let (found, is_header) = Columns::detect(&fields)?;
                let cols = columns.insert(found);
                if is_header {
                    continue;
                }
                cols
            }
        };
        rows += 1;
        if rows > limits.max_rows {
            return Err(DntError::TooManyRows {
                max: limits.max_rows,
            });
        }
        import.row(line, cols, &fields);
    }
    Ok(import.done())
}

/// Text from bytes: UTF-16 when it carries a UTF-16 byte-order mark, else UTF-8 (invalid bytes
/// become U+FFFD rather than failing the file). A UTF-8 BOM is dropped.
fn decode(input: &[u8]) -> String {
    let utf16 = |le: bool| {
        let units = input[2..].chunks_exact(2).map(|p| {
            if le {
                u16::from_le_bytes([p[0], p[1]])
            } else {
                u16::from_be_bytes([p[0], p[1]])
            }
        });
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    };
    match input {
        [0xFF, 0xFE, ..] => utf16(true),
        [0xFE, 0xFF, ..] => utf16(false),
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8_lossy(rest).into_owned(),
        _ => String::from_utf8_lossy(input).into_owned(),
    }
}

/// One record of the file.
enum Record {
    Fields {
        line: usize,
        fields: Vec<String>,
    },
    /// A quoted field ran to the end of the file or past the limits.
    Unclosed {
        line: usize,
    },
}

/// An RFC 4180 reader that forgives: a quote inside an unquoted field is literal, text after a
/// closing quote joins the field, and a lone CR ends a line like LF and CRLF do.
struct Reader<'a> {
    chars: &'a [char],
    pos: usize,
    /// The line `pos` is on, from 1.
    line: usize,
    delimiter: char,
}

impl<'a> Reader<'a> {
    fn new(chars: &'a [char]) -> Self {
        Self {
            chars,
            pos: 0,
            line: 1,
            delimiter: sniff_delimiter(chars),
        }
    }

    /// Consumes a line break at `pos` (CRLF, LF or CR), if there is one.
    fn line_break(&mut self) -> bool {
        match self.chars.get(self.pos) {
            Some('\r') => {
                self.pos += 1;
                if self.chars.get(self.pos) == Some(&'\n') {
                    self.pos += 1;
                }
            }
            Some('\n') => self.pos += 1,
            _ => return false,
        }
        self.line += 1;
        true
    }

    fn next_record(&mut self) -> Option<Record> {
        if self.pos >= self.chars.len() {
            return None;
        }
        let (start, start_line) = (self.pos, self.line);
        let mut fields = Vec::new();
        let mut field = String::new();
        // Characters in `field`, kept so a long field costs no recounting.
        let mut len = 0;
        loop {
            let Some(&c) = self.chars.get(self.pos) else {
                push_field(&mut fields, &mut field);
                return Some(Record::Fields {
                    line: start_line,
                    fields,
                });
            };
            if c == '"' && field.is_empty() {
                self.pos += 1;
                if !self.quoted(&mut field) {
                    self.resume_after(start, start_line);
                    return Some(Record::Unclosed { line: start_line });
                }
                len = field.chars().count();
            } else if c == self.delimiter {
                self.pos += 1;
                push_field(&mut fields, &mut field);
                len = 0;
            } else if self.line_break() {
                push_field(&mut fields, &mut field);
                return Some(Record::Fields {
                    line: start_line,
                    fields,
                });
            } else {
                self.pos += 1;
                if len < MAX_FIELD_CHARS {
                    field.push(c);
                    len += 1;
                }
            }
        }
    }

    /// Reads a quoted field's contents up to its closing quote, however many lines it spans
    /// (RFC 4180). False if it never closes before the end of the file.
    fn quoted(&mut self, field: &mut String) -> bool {
        let mut len = 0;
        let mut keep = |field: &mut String, c: char| {
            if len < MAX_FIELD_CHARS {
                field.push(c);
                len += 1;
            }
        };
        while let Some(&c) = self.chars.get(self.pos) {
            if c == '"' {
                self.pos += 1;
                if self.chars.get(self.pos) == Some(&'"') {
                    self.pos += 1;
                    keep(field, '"');
                } else {
                    return true;
                }
            } else if self.line_break() {
                keep(field, '\n');
            } else {
                self.pos += 1;
                keep(field, c);
            }
        }
        false
    }

    /// After a quote that never closes, carries on from the line after the one the record
    /// began on. This costs one more pass at most: past an unclosed quote every quote
    /// character comes in doubled pairs, which read as closed fields or literal text.
    fn resume_after(&mut self, start: usize, start_line: usize) {
        self.pos = start;
        self.line = start_line;
        while self.pos < self.chars.len() && !self.line_break() {
            self.pos += 1;
        }
    }
}

fn push_field(fields: &mut Vec<String>, field: &mut String) {
    let value = std::mem::take(field);
    if fields.len() < MAX_FIELDS {
        fields.push(value);
    }
}

/// Comma, unless the first line holds more semicolons or tabs (as European spreadsheets and
/// "tab-separated" exports write).
fn sniff_delimiter(chars: &[char]) -> char {
    let first_line = chars.iter().take_while(|c| !matches!(c, '\r' | '\n'));
    let (mut commas, mut semicolons, mut tabs) = (0, 0, 0);
    for c in first_line {
        match c {
            ',' => commas += 1,
            ';' => semicolons += 1,
            '\t' => tabs += 1,
            _ => {}
        }
    }
    if semicolons > commas && semicolons >= tabs {
        ';'
    } else if tabs > commas {
        '\t'
    } else {
        ','
    }
}

/// Which column holds what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Columns {
    phone: usize,
    opted_out_at: Option<usize>,
    source: Option<usize>,
    note: Option<usize>,
}

const PHONE_NAMES: &[&str] = &[
    "phone",
    "phonenumber",
    "number",
    "mobile",
    "mobilenumber",
    "cell",
    "cellphone",
    "telephone",
    "tel",
    "msisdn",
    "e164",
];
const DATE_NAMES: &[&str] = &[
    "optedoutat",
    "optedout",
    "optoutdate",
    "date",
    "since",
    "timestamp",
];
const SOURCE_NAMES: &[&str] = &["source", "origin"];
const NOTE_NAMES: &[&str] = &["note", "notes", "comment", "comments", "reason"];

fn header_key(cell: &str) -> String {
    cell.chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase()
}

impl Columns {
    /// The columns the first record names, and whether it is a header at all. A first row
    /// that names none of the known columns is data, read in the export's order.
    fn detect(first: &[String]) -> Result<(Self, bool), DntError> {
        let keys: Vec<String> = first.iter().map(|c| header_key(c)).collect();
        let find = |names: &[&str]| keys.iter().position(|k| names.contains(&k.as_str()));
        let phone = find(PHONE_NAMES);
        let (date, source, note) = (find(DATE_NAMES), find(SOURCE_NAMES), find(NOTE_NAMES));
        if phone.is_none() && date.is_none() && source.is_none() && note.is_none() {
            let positional = Columns {
                phone: 0,
                opted_out_at: Some(1),
                source: Some(2),
                note: Some(3),
            };
            return Ok((positional, false));
        }
        let phone = phone.ok_or_else(|| DntError::NoPhoneColumn {
            header: first.join(", "),
        })?;
        let columns = Columns {
            phone,
            opted_out_at: date,
            source,
            note,
        };
        Ok((columns, true))
    }
}

/// The import being built.
struct Import {
    region: Region,
    result: DntImport,
    seen: BTreeMap<PhoneNumber, usize>,
}

impl Import {
    fn new(region: Region) -> Self {
        Self {
            region,
            result: DntImport::default(),
            seen: BTreeMap::new(),
        }
    }

    fn reject(&mut self, line: usize, reason: &str) {
        self.result.rejected.push(RowIssue {
            line,
            reason: reason.to_owned(),
        });
    }

    fn row(&mut self, line: usize, cols: &Columns, fields: &[String]) {
        let get = |i: Option<usize>| {
            i.and_then(|i| fields.get(i))
                .map(|s| unguard(s.trim()).trim())
                .filter(|s| !s.is_empty())
        };
        let Some(raw_phone) = get(Some(cols.phone)) else {
            self.reject(line, "no phone number in this row");
            return;
        };
        if raw_phone.contains('\n') {
            let lines = raw_phone.lines().count();
            self.reject(
                line,
                &format!(
                    "the phone cell runs over {lines} lines, so a quote on this line is probably \
                     not closed and the rows it swallowed were not read; check the quotes"
                ),
            );
            return;
        }
        let phone = match PhoneNumber::parse(&spreadsheet_number(raw_phone), self.region) {
            Ok(p) => p,
            Err(e) => {
                self.reject(line, &e.to_string());
                return;
            }
        };
        let opted_out_at = get(cols.opted_out_at).and_then(|raw| {
            let parsed = parse_date(raw, self.region);
            if parsed.is_none() {
                self.result.warnings.push(RowIssue {
                    line,
                    reason: format!(
                        "could not read the date {:?}; imported without it (use 2026-03-08 or 2026-03-08T14:00:00Z)",
                        short(raw)
                    ),
                });
            }
            parsed
        });
        let entry = DntEntry {
            phone,
            opted_out_at,
            source: get(cols.source).map(short),
            note: get(cols.note).map(short),
        };
        self.add(entry);
    }

    fn add(&mut self, entry: DntEntry) {
        let Some(&i) = self.seen.get(&entry.phone) else {
            self.seen
                .insert(entry.phone.clone(), self.result.entries.len());
            self.result.entries.push(entry);
            return;
        };
        self.result.duplicates_merged += 1;
        let kept = &mut self.result.entries[i];
        // Opted out since the earliest date given.
        kept.opted_out_at = match (kept.opted_out_at, entry.opted_out_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if kept.source.is_none() {
            kept.source = entry.source;
        }
        kept.note = match (kept.note.take(), entry.note) {
            (Some(a), Some(b)) if !a.split("; ").any(|n| n == b) => {
                Some(short(&format!("{a}; {b}")))
            }
            (a, b) => a.or(b),
        };
    }

    fn done(self) -> DntImport {
        self.result
    }
}

/// Text cut to the length kept for a source or note.
fn short(s: &str) -> String {
    s.chars().take(MAX_TEXT_CHARS).collect()
}

/// Drops the quote the export puts before a cell a spreadsheet would run as a formula.
fn unguard(cell: &str) -> &str {
    if looks_guarded(cell) {
        &cell[1..]
    } else {
        cell
    }
}

/// A number as a spreadsheet may have mangled it: "tel:" links, and scientific notation
/// ("1.4155552671E+10") for a column it took for numbers.
fn spreadsheet_number(raw: &str) -> String {
    let raw = raw.strip_prefix("tel:").unwrap_or(raw);
    let Some((mantissa, exponent)) = raw.split_once(['e', 'E']) else {
        return raw.to_owned();
    };
    let (Ok(exponent), Some((whole, fraction))) = (
        exponent.trim_start_matches('+').parse::<usize>(),
        mantissa.split_once('.').or(Some((mantissa, ""))),
    ) else {
        return raw.to_owned();
    };
    let digits =
        whole.len() == 1 && (whole.chars().chain(fraction.chars())).all(|c| c.is_ascii_digit());
    if !digits || fraction.len() > exponent || exponent > 15 {
        return raw.to_owned();
    }
    format!("{whole}{fraction}{}", "0".repeat(exponent - fraction.len()))
}

/// Reads an opt-out date: RFC 3339, "2026-03-08 14:00[:00]" (UTC), "2026-03-08", or the
/// region's slashed form (03/08/2026 in the US and Canada, 08/03/2026 elsewhere).
fn parse_date(raw: &str, region: Region) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(raw, format) {
            return Some(t.and_utc());
        }
    }
    let slashed = if matches!(region.as_str(), "US" | "CA") {
        "%m/%d/%Y"
    } else {
        "%d/%m/%Y"
    };
    ["%Y-%m-%d", slashed]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(raw, f).ok())
        .map(|d| d.and_time(NaiveTime::MIN).and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn import(text: &str) -> DntImport {
        import_csv(text.as_bytes(), Region::US, &ImportLimits::default())
            .expect("the file as a whole is readable")
    }

    fn phones(result: &DntImport) -> Vec<&str> {
        result.entries.iter().map(|e| e.phone.as_str()).collect()
    }

    fn lines(issues: &[RowIssue]) -> Vec<usize> {
        issues.iter().map(|i| i.line).collect()
    }

    #[test]
    fn export_then_import_round_trips() {
        let entries = vec![
            DntEntry {
                phone: PhoneNumber::parse_e164("+14155552671").expect("valid"),
                opted_out_at: Utc.with_ymd_and_hms(2026, 3, 8, 14, 0, 0).single(),
                source: Some("keyword".into()),
                note: Some("said \"stop, please\"\nthen called".into()),
            },
            DntEntry {
                phone: PhoneNumber::parse_e164("+442079460018").expect("valid"),
                opted_out_at: None,
                source: None,
                note: Some("=HYPERLINK(\"http://evil\")".into()),
            },
        ];
        let csv = export_csv(&entries);
        assert!(
            csv.starts_with("phone,opted_out_at,source,note\r\n"),
            "the documented header"
        );
        assert!(
            csv.contains("'+14155552671,2026-03-08T14:00:00Z,keyword,"),
            "numbers starting with + are guarded against formula injection: {csv}"
        );
        assert!(
            csv.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""),
            "a formula in a note is guarded and quoted: {csv}"
        );
        let back = import(&csv);
        assert_eq!(back.entries, entries, "what is exported imports unchanged");
        assert!(
            back.rejected.is_empty() && back.warnings.is_empty(),
            "{back:?}"
        );
    }

    #[test]
    fn tolerates_bom_crlf_semicolons_and_missing_header() {
        let bom = "\u{feff}phone,note\r\n(415) 555-2671,old customer\r\n";
        assert_eq!(
            phones(&import(bom)),
            vec!["+14155552671"],
            "UTF-8 BOM and CRLF"
        );
        let semis = "Phone Number;Date\n415.555.2671;2026-03-08\n";
        let r = import(semis);
        assert_eq!(
            phones(&r),
            vec!["+14155552671"],
            "semicolon-separated, header in words"
        );
        assert_eq!(
            r.entries[0].opted_out_at,
            Utc.with_ymd_and_hms(2026, 3, 8, 0, 0, 0).single(),
            "an ISO date is read"
        );
        let headerless = "4155552671,03/08/2026,import\n+1 212 555 0123\n";
        let r = import(headerless);
        assert_eq!(
            phones(&r),
            vec!["+14155552671", "+12125550123"],
            "no header: read in the export's column order, missing columns left empty"
        );
        assert_eq!(
            r.entries[0].opted_out_at,
            Utc.with_ymd_and_hms(2026, 3, 8, 0, 0, 0).single(),
            "US slashed dates are month first"
        );
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(
                "phone\r\n4155552671\r\n"
                    .encode_utf16()
                    .flat_map(u16::to_le_bytes),
            )
            .collect();
        let r = import_csv(&utf16, Region::US, &ImportLimits::default()).expect("readable");
        assert_eq!(
            phones(&r),
            vec!["+14155552671"],
            "Excel's UTF-16 text export"
        );
    }

    #[test]
    fn quoted_fields_hold_commas_quotes_and_newlines() {
        let text = "phone,opted_out_at,source,note\n\
            \"(415) 555-2671\",,\"desk, front\",\"she said \"\"STOP\"\"\nand hung up\"\n\
            2125550123,,,plain\n";
        let r = import(text);
        assert_eq!(
            phones(&r),
            vec!["+14155552671", "+12125550123"],
            "both rows read"
        );
        assert_eq!(
            r.entries[0].source.as_deref(),
            Some("desk, front"),
            "comma inside quotes"
        );
        assert_eq!(
            r.entries[0].note.as_deref(),
            Some("she said \"STOP\"\nand hung up"),
            "doubled quotes and a line break inside quotes"
        );
    }

    #[test]
    fn bad_rows_are_reported_by_line_and_the_rest_imported() {
        let text = "phone,date,note\n\
            4155552671,2026-03-08,ok\n\
            not a number,2026-03-08,x\n\
            ,2026-03-08,no phone\n\
            555-0000,,too short\n\
            2125550123,yesterday,bad date\n\
            \"6175550123,2026-03-08,unclosed quote\n\
            3125550123,,after the stray quote\n";
        let r = import(text);
        assert_eq!(
            phones(&r),
            vec!["+14155552671", "+12125550123", "+13125550123"],
            "good rows survive the bad ones, including after an unclosed quote"
        );
        assert_eq!(
            lines(&r.rejected),
            vec![3, 4, 5, 7],
            "each bad row by its line"
        );
        assert!(
            r.rejected[0]
                .to_string()
                .starts_with("line 3: \"not a number\""),
            "the reason says what was wrong: {}",
            r.rejected[0]
        );
        assert!(
            r.rejected[3].reason.contains("never closed"),
            "an unclosed quote is explained: {}",
            r.rejected[3]
        );
        assert_eq!(lines(&r.warnings), vec![6], "a bad date is a warning");
        assert_eq!(
            r.entries[1].opted_out_at, None,
            "the number is imported without the date: an opt-out is never dropped"
        );
    }

    #[test]
    fn duplicates_merge_and_extra_columns_are_ignored() {
        let text = "phone,opted_out_at,source,note,extra,more\n\
            +14155552671,2026-03-09,,first,x,y\n\
            (415) 555-2671,2026-03-01,keyword,second\n\
            '+14155552671,,,first\n";
        let r = import(text);
        assert_eq!(
            phones(&r),
            vec!["+14155552671"],
            "one number, written three ways"
        );
        assert_eq!(r.duplicates_merged, 2, "two rows merged into the first");
        let e = &r.entries[0];
        assert_eq!(
            e.opted_out_at,
            Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).single(),
            "opted out since the earliest date"
        );
        assert_eq!(
            e.source.as_deref(),
            Some("keyword"),
            "the first source given"
        );
        assert_eq!(
            e.note.as_deref(),
            Some("first; second"),
            "distinct notes are kept"
        );
    }

    #[test]
    fn spreadsheet_mangled_numbers() {
        let r = import("phone\n1.4155552671E+10\ntel:+12125550123\n");
        assert_eq!(
            phones(&r),
            vec!["+14155552671", "+12125550123"],
            "scientific notation and tel: links are read"
        );
        assert_eq!(spreadsheet_number("1.5E+3"), "1500", "exponent expands");
        assert_eq!(
            spreadsheet_number("1.23456E+2"),
            "1.23456E+2",
            "not a whole number: left as is"
        );
    }

    #[test]
    fn caps_and_a_header_without_a_phone_column_refuse_the_file() {
        let limits = ImportLimits {
            max_bytes: 64,
            max_rows: 2,
        };
        let big = "x".repeat(65);
        assert_eq!(
            import_csv(big.as_bytes(), Region::US, &limits),
            Err(DntError::TooLarge { bytes: 65, max: 64 }),
            "over the size cap"
        );
        let rows = "4155552671\n2125550123\n3125550123\n";
        let err = import_csv(rows.as_bytes(), Region::US, &limits).expect_err("three rows");
        assert_eq!(err, DntError::TooManyRows { max: 2 }, "over the row cap");
        assert!(
            err.to_string().contains("split it"),
            "the error says what to do: {err}"
        );
        let err = import_csv(b"name,date\nAna,2026-03-08\n", Region::US, &limits)
            .expect_err("no phone column");
        assert!(
            err.to_string().contains("\"phone\""),
            "names the column to add: {err}"
        );
    }

    #[test]
    fn a_long_multi_line_note_round_trips() {
        let entry = DntEntry {
            phone: PhoneNumber::parse_e164("+14155552671").expect("valid"),
            opted_out_at: None,
            source: Some("staff".into()),
            note: Some("called again, \"stop\"\n".repeat(40).trim_end().to_owned()),
        };
        let back = import(&export_csv(std::slice::from_ref(&entry)));
        assert_eq!(
            phones(&back),
            vec!["+14155552671"],
            "a 40-line note is one quoted field, not a stray quote: {:?}",
            back.rejected
        );
    }

    #[test]
    fn a_stray_quote_closed_far_below_is_explained() {
        let text =
            "phone,note\n\"4155552671,oops\n2125550123,a\n3125550123,\"quoted\"\n6175550123,b\n";
        let r = import(text);
        assert_eq!(
            phones(&r),
            vec!["+16175550123"],
            "rows after the pair are read again"
        );
        assert_eq!(
            lines(&r.rejected),
            vec![2],
            "the swallowed rows are reported at the quote"
        );
        assert!(
            r.rejected[0].reason.contains("check the quotes"),
            "the reason points at the quote: {}",
            r.rejected[0]
        );
    }

    #[test]
    fn a_stray_quote_costs_one_row_not_the_file() {
        // By RFC 4180 this quote swallows every line after it, up to the end of the file.
        let mut text = String::from("\"an unclosed note\n");
        for i in 0..1_000 {
            text.push_str(&format!("415555{i:04},,,row {i}\n"));
        }
        let r = import(&text);
        assert_eq!(
            lines(&r.rejected),
            vec![1],
            "only the line with the stray quote is lost"
        );
        assert_eq!(r.entries.len(), 1_000, "every row after it is imported");
        assert_eq!(
            r.entries[999].note.as_deref(),
            Some("row 999"),
            "rows keep their own fields after the recovery"
        );
    }

    #[test]
    fn a_huge_line_is_cut_not_choked_on() {
        let mut text = format!("4155552671,,,{}\n", "n".repeat(2_000_000));
        text.push_str(&",".repeat(1_000_000));
        text.push_str("\n2125550123\n");
        let r = import(&text);
        assert_eq!(
            phones(&r),
            vec!["+14155552671", "+12125550123"],
            "both numbers read"
        );
        assert_eq!(
            r.entries[0].note.as_ref().map(|n| n.chars().count()),
            Some(MAX_TEXT_CHARS),
            "a note is cut to the kept length"
        );
        assert!(
            r.rejected.is_empty(),
            "a row of only commas is blank, skipped like an empty line"
        );
    }

    #[test]
    fn empty_and_blank_files() {
        for text in ["", "\r\n\r\n", "phone\n", ",,,\n"] {
            let r = import(text);
            assert!(
                r.entries.is_empty() && r.rejected.is_empty(),
                "{text:?} has nothing to import and nothing wrong"
            );
        }
    }

    proptest! {
        // NOTE: tests write nothing outside temp dirs, so no proptest-regressions files; a
        // failing case worth keeping becomes a named test.
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn import_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = import_csv(&bytes, Region::US, &ImportLimits::default());
        }

        #[test]
        fn import_never_panics_on_csv_soup(text in "[\",;\t\r\n '=+a-z0-9()-]{0,300}") {
            let _ = import_csv(text.as_bytes(), Region::US, &ImportLimits::default());
        }

        #[test]
        fn notes_and_sources_round_trip(
            // Values are trimmed on import, so they start and end with a visible character.
            note in "[a-zA-Z0-9,;\"'=+@-]([a-zA-Z0-9 ,;\"'=+@\n-]{0,30}[a-zA-Z0-9,;\"'=+@-])?",
            source in "[a-z'=+-]{1,12}",
            line in 0u32..10_000,
        ) {
            let entry = DntEntry {
                phone: PhoneNumber::parse(&format!("415555{line:04}"), Region::US)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?,
                opted_out_at: None,
                source: Some(source),
                note: Some(note),
            };
            let back = import(&export_csv(std::slice::from_ref(&entry)));
            prop_assert_eq!(back.entries, vec![entry], "export then import gives the entry back");
        }
    }
}
