use app::ssr::Services;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// What the HTTP edge needs to know about the deployment.
#[derive(Clone, Debug)]
pub struct Web {
    /// `scheme://host[:port]` that browsers use; the only origin allowed to
    /// make state-changing requests.
    pub public_origin: String,
    pub https: bool,
    pub trust_proxy: bool,
}

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: Services,
    pub web: Arc<Web>,
}
