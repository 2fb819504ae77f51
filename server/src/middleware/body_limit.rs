//! Request body limits: small everywhere, larger only for the functions
//! that take an uploaded file (an application's logo). A body declared
//! too large is refused before it is read; one that grows past the limit
//! while streaming fails as it is read.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Largest request body accepted (forms and server-function calls).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest body of a function that takes an uploaded logo (the image,
/// base64 in a form, with the other fields).
pub const MAX_UPLOAD_BODY_BYTES: usize = 512 * 1024;
/// The functions that take an uploaded file.
const UPLOAD_PATHS: &[&str] = &["/api/admin/application_create", "/api/admin/application_update"];

/// The body limit of `path`.
pub fn body_limit(path: &str) -> usize {
    if UPLOAD_PATHS.contains(&path) { MAX_UPLOAD_BODY_BYTES } else { MAX_BODY_BYTES }
}

pub async fn limit_body(req: Request, next: Next) -> Response {
    let limit = body_limit(req.uri().path());
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return (StatusCode::PAYLOAD_TOO_LARGE, [(header::CONNECTION, "close")], "The request is too large.").into_response();
    }
    next.run(req.map(|b| Body::new(http_body_util::Limited::new(b, limit)))).await
}
