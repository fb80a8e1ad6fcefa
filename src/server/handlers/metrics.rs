//! `GET /metrics` (administrators): the server's figures in the Prometheus text format.
//! Reads `DATA/status/ingest.json` and `DATA/deliveries/deliveries.json` at each scrape.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::server::state::Shared;

pub async fn text(State(shared): State<Arc<Shared>>) -> Response {
    shared.metrics.audit(
        shared.auth.audit_healthy(),
        shared.auth.audit_write_failures(),
    );
    let now = chrono::Utc::now().timestamp();
    let ingest = crate::status::Status::read(&shared.settings.data);
    shared
        .metrics
        .scrape(now, shared.auth.sessions_alive(now), ingest.as_ref());
    let deliveries = crate::status::Deliveries::read(&shared.settings.data);
    shared
        .metrics
        .deliveries(chrono::Utc::now(), deliveries.as_ref());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        shared.metrics.render(),
    )
        .into_response()
}
