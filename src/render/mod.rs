//! render: what `present` prepares, as the bytes a reader gets — HTML pages (`html`),
//! files (`exports`: CSV, XLSX, SVG, PNG, the PDF briefing pack and report, the IATI
//! activity file) and the API's JSON and CSV (`api`).
//!
//! Rendering knows nothing of HTTP: it takes a snapshot, definitions, a language and
//! filters (and, for a page's frame, who is reading) and returns text or bytes. The
//! server decides what to render, caches it and answers with it.

pub mod api;
pub mod exports;
pub mod html;
