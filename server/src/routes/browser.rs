//! What people's browsers use: the Leptos pages and server functions, under
//! the session, CSRF and plain-form layers, and the browser bundle.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::middleware;
use crate::state::AppState;

pub fn router(state: &AppState) -> Router<AppState> {
    let routes = generate_route_list(app::App);
    let context = {
        let services = state.services.clone();
        move || provide_context(services.clone())
    };
    let shell = {
        let options = state.leptos_options.clone();
        move || app::shell(options.clone())
    };
    let not_found = leptos_axum::render_app_async_with_context(context.clone(), shell.clone());

    // Pages and server functions: they need the session.
    let pages = Router::new()
        .route("/", get(|| async { Redirect::to(app::routes::ACCOUNT) }))
        .leptos_routes_with_context(state, routes, context, shell)
        .fallback(move |req| {
            let not_found = not_found.clone();
            async move { not_found(req).await.into_response() }
        })
        .layer(axum::middleware::from_fn(middleware::api_status::set_error_status))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::form_errors::sign_form_errors))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::session::resolve_session))
        .layer(axum::middleware::from_fn_with_state(state.web.clone(), middleware::csrf::refuse_cross_site))
        .layer(axum::middleware::from_fn(middleware::body_limit::limit_body));

    // The browser bundle: names carry no hash, so browsers revalidate (cheap 304s).
    let site = std::path::PathBuf::from(state.leptos_options.site_root.as_ref());
    let pkg = ServeDir::new(site.join("pkg")).precompressed_br().precompressed_gzip();
    let statics = Router::new()
        .nest_service("/pkg", pkg)
        .route_service("/favicon.ico", ServeFile::new(site.join("favicon.ico")))
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-cache")));

    // Uploaded application logos: public (no session), versioned by `?v=`.
    let logos = Router::new().route(&format!("{}/{{id}}", app::routes::LOGOS), get(logo));

    Router::new().merge(statics).merge(logos).merge(pages)
}

/// An uploaded logo, already sanitised (`domain::apps::logo`). Served with
/// a policy that lets nothing in it run or load, even opened on its own.
async fn logo(
    axum::extract::State(state): axum::extract::State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> axum::response::Response {
    let Ok(id) = uuid::Uuid::parse_str(&id) else { return http::StatusCode::NOT_FOUND.into_response() };
    match domain::apps::logo(&state.services.ctx.db, id).await {
        Ok((content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, content_type),
                (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'; sandbox".to_owned()),
                (header::CACHE_CONTROL, "public, max-age=86400".to_owned()),
                (header::CONTENT_DISPOSITION, "inline".to_owned()),
            ],
            bytes,
        )
            .into_response(),
        Err(domain::Error::NotFound) => http::StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "logo read failed");
            http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
