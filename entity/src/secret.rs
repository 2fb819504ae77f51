use sea_orm::entity::prelude::*;

/// A secret column value (password hash, token hash, encrypted key).
/// It prints as `<redacted>` and does not implement `Serialize`.
#[derive(Clone, PartialEq, Eq, DeriveValueType)]
pub struct Secret(pub String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_value() {
        let s = Secret("$argon2id$v=19$m=19456".into());
        assert_eq!(format!("{s:?}"), "<redacted>");
    }
}
