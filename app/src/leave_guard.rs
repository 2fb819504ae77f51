//! Asking before the browser's Back or Forward button leaves a page with
//! unsaved work.
//!
//! Those buttons change the address before any event can be cancelled, and
//! the router follows the `popstate` event at once, unmounting the page. So
//! the browser entry installs one `popstate` listener before hydrating, which
//! makes it run before the router's. A page with unsaved work sets a guard;
//! when the guard says stay, the listener hides the event from the router and
//! puts the page's address back as a new history entry (the router never saw
//! it change).

/// What a guard answers for a Back or Forward to `to_pathname`.
pub enum Leave {
    Allow,
    /// Stay; restore this address (the page's own, before the button).
    Stay {
        href: String,
    },
}

#[cfg(feature = "hydrate")]
mod imp {
    use super::Leave;
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    type Guard = Rc<dyn Fn(&str) -> Leave>;

    thread_local! {
        static GUARD: RefCell<Option<(u64, Guard)>> = const { RefCell::new(None) };
        static NEXT_ID: Cell<u64> = const { Cell::new(0) };
    }

    /// Registers the listener; call once, before hydrating.
    pub fn install() {
        let on_pop = Closure::<dyn Fn(web_sys::PopStateEvent)>::new(|ev: web_sys::PopStateEvent| {
            let Some(guard) = GUARD.with(|g| g.borrow().as_ref().map(|(_, g)| g.clone())) else { return };
            let window = leptos::prelude::window();
            let to = window.location().pathname().unwrap_or_default();
            if let Leave::Stay { href } = guard(&to) {
                ev.stop_immediate_propagation();
                if let Ok(history) = window.history() {
                    let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&href));
                }
            }
        });
        let _ = leptos::prelude::window().add_event_listener_with_callback("popstate", on_pop.as_ref().unchecked_ref());
        // Lives as long as the page.
        on_pop.forget();
    }

    /// Sets the guard until the calling component is cleaned up.
    pub fn set(guard: impl Fn(&str) -> Leave + 'static) {
        let id = NEXT_ID.with(|n| {
            n.set(n.get() + 1);
            n.get()
        });
        GUARD.with(|g| *g.borrow_mut() = Some((id, Rc::new(guard))));
        leptos::prelude::on_cleanup(move || {
            // Only its own: the next page's guard may already be set.
            GUARD.with(|g| {
                let mut g = g.borrow_mut();
                if g.as_ref().is_some_and(|(current, _)| *current == id) {
                    *g = None;
                }
            })
        });
    }
}

#[cfg(feature = "hydrate")]
pub use imp::{install, set};
