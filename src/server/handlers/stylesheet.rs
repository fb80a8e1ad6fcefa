//! `GET /static/app.css`: the stylesheet, kept a week by browsers (its address changes
//! with every release).

use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::render::html::CSS;

pub async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=604800, immutable"),
        ],
        CSS,
    )
        .into_response()
}
