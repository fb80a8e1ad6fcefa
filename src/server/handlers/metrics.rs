//! `GET /metrics` (administrators): the server's figures in the Prometheus text format.

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
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        shared.metrics.render(),
    )
        .into_response()
}
