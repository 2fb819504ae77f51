//! The browser entry: hydrates the server-rendered My Account app. Built
//! twice (`scripts/tools.sh`): `frontend/index.html` for everyone, and
//! `frontend/console.html` with the `console` feature for administrators.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Before the router's own listener, which it must be able to stop.
    app::leave_guard::install();
    leptos::mount::hydrate_body(app::App);
    // Time to interactive, for `bench/`: the page's handlers are attached.
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(INTERACTIVE_MARK);
    }
}

/// The `performance.mark` set when the page can be used (also set by
/// `/pkg/signin.js` on the sign-in pages).
const INTERACTIVE_MARK: &str = "latchkey:interactive";
