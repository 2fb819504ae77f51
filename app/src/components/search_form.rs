use leptos::prelude::*;

/// A search box as a GET form (`?search=`): submitting reloads the page
/// without JavaScript; with it, `search` follows every keystroke.
#[component]
pub fn SearchForm(label: &'static str, value: String, search: RwSignal<String>) -> impl IntoView {
    view! {
        <form class="search" method="get" role="search" on:submit=move |ev| {
            ev.prevent_default();
        }>
            <label class="sr-only" for="search">{label}</label>
            <input class="field__input" id="search" type="search" name="search" value=value placeholder="Search by name"
                maxlength="100" data-testid="search" on:input=move |ev| search.set(event_target_value(&ev))/>
            <button class="button" type="submit">"Search"</button>
        </form>
    }
}
