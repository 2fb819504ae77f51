//! The console's notice, also shown atop My Account to administrators.

use leptos::prelude::*;

use super::types::NEEDS_TWO_FACTORS;
use crate::routes;

/// Shown to an administrator signed in with one factor: reads work, changes
/// are refused until a second factor is shown.
#[component]
pub fn TwoFactorsNeeded() -> impl IntoView {
    view! {
        <div class="alert alert--info" role="status" data-testid="needs-two-factors">
            <p>{NEEDS_TWO_FACTORS}</p>
            <p><a href=routes::SECURITY>"Go to Security"</a></p>
        </div>
    }
}
