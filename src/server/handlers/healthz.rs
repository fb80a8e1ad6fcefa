//! `GET /healthz`: whether a snapshot is served and the audit log is written (503
//! otherwise, so that a load balancer stops sending readers here), and which snapshot
//! `CURRENT` names that this server refused to serve, and why (still 200: it serves).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::server::state::Shared;

pub async fn status(State(shared): State<Arc<Shared>>) -> Response {
    let audit = shared.auth.audit_healthy();
    let live = shared.live();
    let refused = shared.refused();
    let body = serde_json::json!({
        "status": match (&live, audit) {
            (Some(_), true) if refused.is_some() => "ok, but CURRENT names a snapshot this server cannot serve: serving the one it has",
            (Some(_), true) => "ok",
            (None, _) => "no snapshot published yet",
            (Some(_), false) => "audit log cannot be written: person figures are refused",
        },
        "snapshot": live.as_ref().map(|l| l.snapshot.id.as_str().to_string()),
        "data_as_of": live.as_ref().and_then(|l| l.snapshot.data_as_of()).map(|d| d.to_string()),
        "audit_log": if audit { "ok" } else { "failing" },
        "snapshot_refused": refused.map(|r| serde_json::json!({"snapshot": r.snapshot, "reason": r.reason})),
    });
    let status = if live.is_some() && audit {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}
