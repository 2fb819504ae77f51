//! Browsers a person has signed in from before, for the login flow's "new
//! device" condition. Stateless: after a completed sign-in the browser keeps a
//! long-lived cookie listing the people who signed in on it, each entry
//! signed with the server key, so it cannot be forged or copied to another
//! account. Clearing cookies makes the browser new again, which is the safe
//! direction.

use uuid::Uuid;

use crate::keys::Keys;

/// Most people remembered per browser (the oldest fall off).
pub const MAX_ENTRIES: usize = 5;
/// How long a browser is remembered after the last sign-in on it.
pub const REMEMBER_DAYS: u32 = 400;

fn entry(keys: &Keys, user_id: Uuid) -> String {
    let id = user_id.simple().to_string();
    let mac = keys.mac(format!("known-device:{id}").as_bytes());
    format!("{id}.{}", &mac[..mac.len().min(32)])
}

fn entries(cookie: Option<&str>) -> impl Iterator<Item = &str> {
    cookie.unwrap_or("").split('~').filter(|e| !e.is_empty()).take(MAX_ENTRIES)
}

/// Whether the browser's cookie shows that `user_id` signed in on it before.
pub fn is_known(keys: &Keys, cookie: Option<&str>, user_id: Uuid) -> bool {
    let want = entry(keys, user_id);
    entries(cookie).any(|e| bool::from(subtle::ConstantTimeEq::ct_eq(e.as_bytes(), want.as_bytes())))
}

/// The cookie value after `user_id` signed in on this browser.
pub fn remember(keys: &Keys, cookie: Option<&str>, user_id: Uuid) -> String {
    let mine = entry(keys, user_id);
    let mut list: Vec<&str> = vec![&mine];
    list.extend(entries(cookie).filter(|e| *e != mine).take(MAX_ENTRIES - 1));
    list.join("~")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browser_is_known_only_for_people_who_signed_in_on_it() {
        let keys = Keys::from_master(&[7; 32]);
        let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
        assert!(!is_known(&keys, None, alice));
        let c = remember(&keys, None, alice);
        assert!(is_known(&keys, Some(&c), alice));
        assert!(!is_known(&keys, Some(&c), bob));
        let c2 = remember(&keys, Some(&c), bob);
        assert!(is_known(&keys, Some(&c2), alice) && is_known(&keys, Some(&c2), bob));
        // Threat: a forged entry (another server's key, or edited by hand).
        let other = Keys::from_master(&[8; 32]);
        assert!(!is_known(&keys, Some(&remember(&other, None, alice)), alice));
        assert!(!is_known(&keys, Some(&c.replace(&alice.simple().to_string(), &bob.simple().to_string())), bob));
        // The list stays bounded.
        let mut c = String::new();
        for _ in 0..20 {
            c = remember(&keys, Some(&c), Uuid::now_v7());
        }
        assert_eq!(c.split('~').count(), MAX_ENTRIES);
    }
}
