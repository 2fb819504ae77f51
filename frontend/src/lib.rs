//! The browser entry: hydrates the server-rendered My Account app.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Before the router's own listener, which it must be able to stop.
    app::leave_guard::install();
    leptos::mount::hydrate_body(app::App);
}
