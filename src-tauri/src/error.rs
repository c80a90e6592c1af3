//! The shell's one error type. It reaches the UI as `{kind, message, field?, neededScopes?}` so the
//! UI can branch on `kind`, put a setting's error next to its `field`, and offer the step-up an MCP
//! server's `403 insufficient_scope` asks for (`neededScopes`, the scopes it named).

use serde::ser::{Serialize, SerializeStruct, Serializer};

/// Everything a command can fail with. Messages are for people and never contain a token.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The engine's errors keep their own kind (`invalid_setting`, `network`, `cancelled`, …).
    #[error(transparent)]
    Core(#[from] keyhole_core::Error),
    /// The system browser could not be opened.
    #[error("{0}")]
    Browser(String),
    /// `open_browser_again` with no sign-in waiting for the browser.
    #[error("no sign-in is waiting for the browser")]
    NoSignIn,
    /// The clipboard could not be written.
    #[error("could not copy to the clipboard: {0}")]
    Clipboard(String),
    /// The settings file could not be written.
    #[error("could not save the settings: {0}")]
    Store(#[from] tauri_plugin_store::Error),
}

/// The shell's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A short, stable name the UI branches on.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Core(e) => e.kind(),
            Error::Browser(_) => "browser",
            Error::NoSignIn => "no_sign_in",
            Error::Clipboard(_) => "clipboard",
            Error::Store(_) => "store",
        }
    }

    /// The setting at fault, for `invalid_setting`.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Error::Core(e) => e.field(),
            _ => None,
        }
    }

    /// The scopes an MCP server's `403 insufficient_scope` named (space-separated), for the step-up.
    pub fn needed_scopes(&self) -> Option<String> {
        match self {
            Error::Core(e) => e.mcp_needed_scopes(),
            _ => None,
        }
    }
}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let field = self.field();
        let scopes = self.needed_scopes();
        let len = 2 + usize::from(field.is_some()) + usize::from(scopes.is_some());
        let mut s = serializer.serialize_struct("Error", len)?;
        s.serialize_field("kind", self.kind())?;
        // With its causes: the engine's messages leave them to their sources.
        s.serialize_field("message", &keyhole_core::chain(self))?;
        if let Some(field) = field {
            s.serialize_field("field", field)?;
        }
        if let Some(scopes) = scopes {
            s.serialize_field("neededScopes", &scopes)?;
        }
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_setting_error_serializes_with_its_field() {
        let error = keyhole_core::Settings {
            instance: "https://clerk.example.com".into(),
            client_id: "abc".into(),
            api_url: "notaurl".into(),
            ..Default::default()
        }
        .validate()
        .map(|_| ())
        .map_err(Error::from)
        .expect_err("notaurl is not a URL");
        let value = serde_json::to_value(&error).expect("serializes");
        assert_eq!(value["kind"], "invalid_setting");
        assert_eq!(value["field"], "apiUrl");
        assert!(value["message"]
            .as_str()
            .is_some_and(|m| m.contains("notaurl")));
    }

    #[test]
    fn other_errors_serialize_as_kind_and_message_only() {
        assert_eq!(
            serde_json::to_value(Error::from(keyhole_core::Error::Cancelled)).expect("serializes"),
            json!({"kind": "cancelled", "message": "the sign-in was cancelled"})
        );
        assert_eq!(
            serde_json::to_value(Error::Browser("no browser".into())).expect("serializes"),
            json!({"kind": "browser", "message": "no browser"})
        );
    }

    #[test]
    fn a_403_naming_scopes_serializes_them_for_the_step_up_and_others_do_not() {
        let forbidden = |challenge: &str| {
            Error::from(keyhole_core::Error::Mcp {
                fault: keyhole_core::McpFault::Forbidden,
                message: "refused".into(),
                code: None,
                challenge: Some(challenge.into()),
            })
        };
        let value = serde_json::to_value(forbidden(
            r#"Bearer error="insufficient_scope", scope="files:read files:write""#,
        ))
        .expect("serializes");
        assert_eq!(value["kind"], "mcp");
        assert_eq!(value["neededScopes"], "files:read files:write");
        // A 403 for another reason, or naming no scope, offers no step-up.
        let value = serde_json::to_value(forbidden(r#"Bearer error="invalid_token""#)).unwrap();
        assert!(value.get("neededScopes").is_none(), "{value}");
        let value =
            serde_json::to_value(forbidden(r#"Bearer error="insufficient_scope""#)).unwrap();
        assert!(value.get("neededScopes").is_none(), "{value}");
    }
}
