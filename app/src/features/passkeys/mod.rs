//! Passkeys in the browser: the only place that calls
//! `navigator.credentials`. Server functions hand over WebAuthn options as
//! JSON; this module turns them into browser calls and the browser's answer
//! back into JSON, with a clear message when the browser refuses or the
//! person cancels. Without the `hydrate` feature (server render) every call
//! answers that passkeys need JavaScript.

/// WebAuthn options from a server function, and the one-shot ceremony they belong to.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Challenge {
    pub ceremony: String,
    /// JSON of webauthn-rs's `CreationChallengeResponse` or `RequestChallengeResponse`.
    pub options: String,
}

#[cfg(feature = "hydrate")]
mod browser {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    use webauthn_rs_proto::{CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse};

    fn message_for(e: wasm_bindgen::JsValue) -> String {
        let name = e.dyn_ref::<web_sys::DomException>().map(|d| d.name()).unwrap_or_default();
        match name.as_str() {
            "NotAllowedError" => "The passkey request was cancelled or timed out. Try again when you are ready.".into(),
            "InvalidStateError" => "This device already holds a passkey for your account.".into(),
            "SecurityError" => "The browser refused: passkeys need this site's own address (https, or localhost).".into(),
            "NotSupportedError" => "This browser or device does not support passkeys.".into(),
            "AbortError" => "The passkey request was stopped.".into(),
            _ => "The browser could not use a passkey here.".into(),
        }
    }

    fn container() -> Result<web_sys::CredentialsContainer, String> {
        let window = web_sys::window().ok_or("No browser window.")?;
        let has = js_sys::Reflect::has(&window, &"PublicKeyCredential".into()).unwrap_or(false);
        if !has {
            return Err("This browser does not support passkeys.".into());
        }
        Ok(window.navigator().credentials())
    }

    /// Creates a passkey; returns the browser's answer as JSON.
    pub async fn create(options_json: &str) -> Result<String, String> {
        let ccr: CreationChallengeResponse = serde_json::from_str(options_json).map_err(|e| format!("Bad options from the server: {e}"))?;
        let opts: web_sys::CredentialCreationOptions = ccr.into();
        let promise = container()?.create_with_options(&opts).map_err(message_for)?;
        let cred = JsFuture::from(promise).await.map_err(message_for)?;
        let cred: web_sys::PublicKeyCredential = cred.dyn_into().map_err(|_| "The browser gave no passkey.".to_string())?;
        let rpkc = RegisterPublicKeyCredential::from(cred);
        serde_json::to_string(&rpkc).map_err(|e| e.to_string())
    }

    /// Uses a passkey; returns the browser's answer as JSON.
    pub async fn get(options_json: &str) -> Result<String, String> {
        let rcr: RequestChallengeResponse = serde_json::from_str(options_json).map_err(|e| format!("Bad options from the server: {e}"))?;
        let opts: web_sys::CredentialRequestOptions = rcr.into();
        let promise = container()?.get_with_options(&opts).map_err(message_for)?;
        let cred = JsFuture::from(promise).await.map_err(message_for)?;
        let cred: web_sys::PublicKeyCredential = cred.dyn_into().map_err(|_| "The browser gave no passkey.".to_string())?;
        serde_json::to_string(&PublicKeyCredential::from(cred)).map_err(|e| e.to_string())
    }
}

#[cfg(feature = "hydrate")]
pub use browser::{create, get};

#[cfg(not(feature = "hydrate"))]
pub async fn create(_options_json: &str) -> Result<String, String> {
    Err("Passkeys need JavaScript.".into())
}

#[cfg(not(feature = "hydrate"))]
pub async fn get(_options_json: &str) -> Result<String, String> {
    Err("Passkeys need JavaScript.".into())
}

/// Server side: reads the browser's JSON answer, with a clear message when it is not one.
#[cfg(feature = "ssr")]
pub fn parse_credential<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, crate::error::AppError> {
    if json.len() > 16 * 1024 {
        return Err(crate::error::AppError::field("passkey", "The passkey answer is too large."));
    }
    serde_json::from_str(json).map_err(|_| crate::error::AppError::field("passkey", "The passkey answer could not be read. Try again."))
}

/// Server side: a ceremony id from the browser.
#[cfg(feature = "ssr")]
pub fn parse_ceremony(id: &str) -> Result<uuid::Uuid, crate::error::AppError> {
    uuid::Uuid::parse_str(id.trim())
        .map_err(|_| crate::error::AppError::field("passkey", "This passkey request is not valid. Start again."))
}

#[cfg(feature = "ssr")]
pub fn challenge<T: serde::Serialize>(ceremony: uuid::Uuid, options: &T) -> Result<Challenge, crate::error::AppError> {
    let options = serde_json::to_string(options).map_err(|e| crate::ssr::internal(&format!("passkey options: {e}")))?;
    Ok(Challenge { ceremony: ceremony.to_string(), options })
}
