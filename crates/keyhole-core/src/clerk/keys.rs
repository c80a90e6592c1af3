//! The keys a user gives Keyhole for Clerk's Backend API and machine tokens: the instance's
//! secret key (`sk_test_…` / `sk_live_…`), an API key (`ak_…`) and a machine secret key
//! (`ak_…`). Each lives in the OS keychain only, one entry per instance; a pasted key is checked
//! here (spaces and line breaks a copy added are dropped) before anything is stored.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Which key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum KeyKind {
    /// The instance's secret key: Backend API calls (test sessions, creating API keys).
    SecretKey,
    /// A Clerk API key, sent as it is as the bearer token.
    ApiKey,
    /// A machine secret key: mints M2M tokens.
    MachineKey,
}

impl KeyKind {
    /// Every kind.
    pub const ALL: [KeyKind; 3] = [KeyKind::SecretKey, KeyKind::ApiKey, KeyKind::MachineKey];

    /// The keychain entry for this kind of key of `instance` (its issuer).
    pub(crate) fn account(self, instance: &str) -> String {
        let name = match self {
            KeyKind::SecretKey => "clerk-secret-key",
            KeyKind::ApiKey => "clerk-api-key",
            KeyKind::MachineKey => "clerk-machine-key",
        };
        format!("{name}@{instance}")
    }

    /// The setting name errors carry.
    pub(crate) fn field(self) -> &'static str {
        match self {
            KeyKind::SecretKey => "secretKey",
            KeyKind::ApiKey => "apiKey",
            KeyKind::MachineKey => "machineKey",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            KeyKind::SecretKey => "a secret key",
            KeyKind::ApiKey => "an API key",
            KeyKind::MachineKey => "a machine secret key",
        }
    }

    fn prefixes(self) -> &'static [&'static str] {
        match self {
            KeyKind::SecretKey => &["sk_test_", "sk_live_"],
            KeyKind::ApiKey | KeyKind::MachineKey => &["ak_"],
        }
    }
}

/// The longest key accepted (Clerk's are well under 200 characters).
const MAX_KEY_LEN: usize = 1024;

/// `pasted` as a key of `kind`: whitespace a copy added removed, then checked for the kind's
/// prefix and for characters a key has. Err names the field with one plain sentence.
pub fn parse_key(kind: KeyKind, pasted: &str) -> Result<Secret> {
    let key: String = pasted.chars().filter(|c| !c.is_whitespace()).collect();
    let field = kind.field();
    if key.is_empty() {
        return Err(Error::setting(
            field,
            format!("Paste {} first.", kind.noun()),
        ));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(Error::setting(
            field,
            format!(
                "That is far longer than {}; paste the key alone.",
                kind.noun()
            ),
        ));
    }
    if key.starts_with("pk_") {
        return Err(Error::setting(
            field,
            format!(
                "That is a publishable key, which is public; paste {} (it starts with {}).",
                kind.noun(),
                kind.prefixes().join(" or ")
            ),
        ));
    }
    if !kind.prefixes().iter().any(|p| key.starts_with(p)) {
        return Err(Error::setting(
            field,
            format!(
                "That is not {}: it should start with {}.",
                kind.noun(),
                kind.prefixes().join(" or ")
            ),
        ));
    }
    if !key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    {
        return Err(Error::setting(
            field,
            format!(
                "That holds characters {} never has; copy it again from the Clerk Dashboard.",
                kind.noun()
            ),
        ));
    }
    Ok(Secret::new(key))
}

/// True for a development instance's secret key (`sk_test_`): test sessions are made with those
/// only, unless the user says otherwise.
pub(crate) fn is_development(secret_key: &Secret) -> bool {
    secret_key.secret().starts_with("sk_test_")
}

/// What a UI may show of a key: its prefix and last four characters.
pub(crate) fn masked(key: &Secret) -> String {
    let text = key.secret();
    let prefix = ["sk_test_", "sk_live_", "ak_", "mt_"]
        .into_iter()
        .find(|p| text.starts_with(p))
        .unwrap_or("");
    let tail: String = text
        .chars()
        .skip(prefix.len())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{prefix}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_key_loses_the_whitespace_a_copy_added() {
        let key = parse_key(KeyKind::ApiKey, "  ak_abc\n123 \r\n").expect("a key");
        assert_eq!(key.secret(), "ak_abc123");
        let secret = parse_key(KeyKind::SecretKey, "sk_test_\tXYZ").expect("a key");
        assert!(is_development(&secret));
    }

    #[test]
    fn a_wrong_key_is_named_and_nothing_is_made_of_it() {
        let field_of = |kind, text| match parse_key(kind, text) {
            Err(Error::InvalidSetting { field, message, .. }) => (field, message),
            other => panic!("not refused: {other:?}"),
        };
        let (field, message) = field_of(KeyKind::SecretKey, "pk_test_Zm9v");
        assert_eq!(field, "secretKey");
        assert!(message.contains("publishable key"), "{message}");
        let (field, message) = field_of(KeyKind::MachineKey, "sk_test_abc");
        assert_eq!(field, "machineKey");
        assert!(message.contains("start with ak_"), "{message}");
        let (_, message) = field_of(KeyKind::ApiKey, "ak_ab\"c");
        assert!(message.contains("characters"), "{message}");
        let (_, message) = field_of(KeyKind::ApiKey, " \n ");
        assert!(message.contains("Paste"), "{message}");
    }

    #[test]
    fn a_masked_key_shows_its_kind_and_last_four_only() {
        assert_eq!(
            masked(&Secret::new("sk_test_abcdefgh1234".into())),
            "sk_test_…1234"
        );
        assert_eq!(
            masked(&Secret::new("ak_0123456789abcdef".into())),
            "ak_…cdef"
        );
    }
}
