use leptos::prelude::*;

use super::api::{ChangePassword, change_password, password_strength};
use super::{StrengthView, strength_label};
use crate::components::{ErrorAlert, TextField};
use crate::error::message_for;
use crate::validation::{password_policy_hint, validate_new_password};

/// The strength of what is typed in `password`, asked of the server a moment
/// after typing stops (older answers are dropped).
pub fn strength_of(password: RwSignal<String>) -> RwSignal<Option<StrengthView>> {
    let strength = RwSignal::new(None::<StrengthView>);
    let asked = StoredValue::new(0u32);
    Effect::new(move |_| {
        let pw = password.get();
        asked.update_value(|n| *n += 1);
        let this = asked.get_value();
        if pw.is_empty() {
            strength.set(None);
            return;
        }
        // The section may be gone by the time the timer fires or the answer
        // comes (e.g. rebuilt after a change): then nothing is done.
        set_timeout(
            move || {
                if asked.try_get_value() != Some(this) {
                    return;
                }
                leptos::task::spawn_local(async move {
                    if let Ok(s) = password_strength(pw).await
                        && asked.try_get_value() == Some(this)
                    {
                        strength.try_set(Some(s));
                    }
                });
            },
            std::time::Duration::from_millis(300),
        );
    });
    strength
}

/// A meter with a word and the main advice.
#[component]
pub fn StrengthMeter(strength: RwSignal<Option<StrengthView>>) -> impl IntoView {
    let score = move || strength.get().map(|s| s.score).unwrap_or(0);
    let advice = move || strength.get().and_then(|s| s.warning.or(s.suggestion));
    view! {
        <div class="strength" data-testid="strength" aria-live="polite" hidden=move || strength.get().is_none()>
            <meter min="0" max="4" low="2" high="3" optimum="4" value=move || score().to_string() aria-label="Password strength"></meter>
            <span class="strength__label" data-testid="strength-label">{move || format!("Strength: {}", strength_label(score()))}</span>
            <span class="strength__advice small muted">{advice}</span>
        </div>
    }
}

/// What the Security page says after a password change: `ended` other
/// sessions were signed out.
pub fn changed_message(ended: u64) -> String {
    let tail = match ended {
        0 => String::new(),
        1 => " 1 other session was signed out.".into(),
        n => format!(" {n} other sessions were signed out."),
    };
    format!("Your password was changed.{tail}")
}

/// Change password: current, new and confirmation, then a choice to sign out
/// the other sessions (on by default). A real form posting to the server
/// function: without JavaScript it works the same (the server redirects back
/// with `password_changed=N`, or with the error), and secrets never travel
/// in an address.
#[component]
pub fn ChangePasswordSection(
    min: usize,
    on_changed: Callback<String>,
    /// A refused plain form post (no JavaScript), brought back by the redirect.
    initial_error: Option<crate::error::AppError>,
) -> impl IntoView {
    let url = <ChangePassword as leptos::server_fn::ServerFn>::url();
    let current = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let others = RwSignal::new(true);
    let touched = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(initial_error);
    let strength = strength_of(password);
    let live = Memo::new(move |_| validate_new_password(&password.get(), &confirm.get(), min));
    let field = move |f: &'static str| {
        Signal::derive(move || {
            let client = if touched.get() && f != "current" { message_for(&live.get(), f) } else { None };
            client.or_else(|| error.get().and_then(|e| message_for(e.field_errors(), f)))
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        touched.set(true);
        if !live.get_untracked().is_empty() {
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            let r =
                change_password(current.get_untracked(), password.get_untracked(), confirm.get_untracked(), Some(others.get_untracked()))
                    .await;
            busy.set(false);
            match r {
                Ok(ended) => {
                    error.set(None);
                    touched.set(false);
                    for s in [current, password, confirm] {
                        s.set(String::new());
                    }
                    on_changed.run(changed_message(ended));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section class="card security-section" aria-labelledby="password-title" data-testid="change-password">
            <h2 id="password-title">"Password"</h2>
            <p class="muted">"Change the password you sign in with. We'll email you when it changes."</p>
            {move || error.get().filter(|e| e.field_errors().is_empty()).map(|e| view! { <ErrorAlert error=e/> })}
            <form class="form-grid" action=url method="post" on:submit=submit novalidate>
                <TextField label="Current password" name="current" id="pw-current" kind="password" autocomplete="current-password"
                    value=current controlled=true on_input=move |v| current.set(v) error=field("current")/>
                <TextField label="New password" name="password" id="pw-new" kind="password" autocomplete="new-password"
                    hint=password_policy_hint(min) value=password controlled=true
                    on_input=move |v| { password.set(v); touched.set(true) } error=field("password")/>
                <StrengthMeter strength=strength/>
                <TextField label="Confirm new password" name="confirm" id="pw-confirm" kind="password" autocomplete="new-password"
                    value=confirm controlled=true on_input=move |v| confirm.set(v) error=field("confirm")/>
                <label class="check">
                    <input type="checkbox" name="sign_out_others" value="true" checked=move || others.get()
                        on:change=move |ev| others.set(event_target_checked(&ev))/>
                    " Sign out of all other sessions"
                </label>
                <div class="form-actions">
                    <button class="button button--primary" type="submit" data-testid="change-password-submit" disabled=move || busy.get()>
                        {move || if busy.get() { "Changing…" } else { "Change password" }}
                    </button>
                </div>
            </form>
        </section>
    }
}
