//! An OAuth server's error answer, read one way for every endpoint: the authorization response
//! (RFC 6749 §4.1.2.1) and the JSON error bodies of the token (§5.2), device authorization
//! (RFC 8628 §3.1), registration (RFC 7591 §3.2.2) and revocation (RFC 7009 §2.2.1) endpoints.
//!
//! What a provider says here ends up in the terminal and the window, so it is cleaned first. §5.2
//! allows only printable ASCII (no `"` or `\`) in `error` and `error_description`; Keyhole keeps any
//! printable character, so that a localized description still reads, but turns control characters
//! (terminal escapes, newlines) and bidirectional overrides (text that displays in another order
//! than it reads) into spaces, and caps the length.

use serde_json::Value;

/// The longest error code kept; the standard ones are under 30 characters.
const MAX_ERROR_CHARS: usize = 64;
/// The longest description kept, in characters; longer ones end with "…".
const MAX_DESCRIPTION_CHARS: usize = 300;

/// A provider's `error` code and `error_description`, cleaned for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OAuthError {
    /// The error code, e.g. `invalid_grant`; never empty.
    pub error: String,
    /// The description, if it had any printable text.
    pub description: Option<String>,
}

impl OAuthError {
    /// Reads a JSON error body. `None` unless `error` is a string with printable text; an
    /// `error_description` that is not a string is left out rather than losing the code.
    pub(crate) fn from_json(body: &[u8]) -> Option<OAuthError> {
        let value: Value = serde_json::from_slice(body).ok()?;
        let error = value.get("error")?.as_str()?;
        OAuthError::from_parts(
            error,
            value.get("error_description").and_then(Value::as_str),
        )
    }

    /// What a refusing endpoint said, or, when it said nothing readable, its HTTP status as the
    /// code (`HTTP 400`).
    pub(crate) fn from_refusal(body: &[u8], status: u16) -> OAuthError {
        OAuthError::from_json(body).unwrap_or_else(|| OAuthError {
            error: format!("HTTP {status}"),
            description: None,
        })
    }

    /// From the two members as received (the authorization response's query parameters).
    pub(crate) fn from_parts(error: &str, description: Option<&str>) -> Option<OAuthError> {
        let error = one_line(error, MAX_ERROR_CHARS);
        if error.is_empty() {
            return None;
        }
        let description = description
            .map(|d| one_line(d, MAX_DESCRIPTION_CHARS))
            .filter(|d| !d.is_empty());
        Some(OAuthError { error, description })
    }
}

/// `text` as one line of at most `max_chars` printable characters: control characters and
/// bidirectional formatting characters become spaces, runs of white space one space, and the ends
/// are trimmed.
pub(crate) fn one_line(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut kept = 0;
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() || is_bidi_format(c) {
            space = !out.is_empty();
            continue;
        }
        if kept + usize::from(space) >= max_chars {
            out.push('…');
            break;
        }
        if space {
            out.push(' ');
            kept += 1;
            space = false;
        }
        out.push(c);
        kept += 1;
    }
    out
}

/// Characters that change the display order of the text around them (Unicode bidi controls).
fn is_bidi_format(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(value: Value) -> Option<OAuthError> {
        OAuthError::from_json(value.to_string().as_bytes())
    }

    #[test]
    fn a_standard_error_body_is_read_as_it_is() {
        assert_eq!(
            read(
                json!({"error": "invalid_grant", "error_description": "The code was already used."})
            ),
            Some(OAuthError {
                error: "invalid_grant".into(),
                description: Some("The code was already used.".into())
            })
        );
        assert_eq!(
            read(json!({"error": "access_denied"})),
            Some(OAuthError {
                error: "access_denied".into(),
                description: None
            })
        );
    }

    #[test]
    fn terminal_escapes_newlines_and_bidi_overrides_never_come_through() {
        let hostile = "\u{1b}[2J\u{1b}[1;32mSigned in as admin\r\nok\u{202e}txt.exe\u{7f}\u{9b}31m";
        let read =
            read(json!({"error": "invalid\u{1b}]0;x\u{7}_grant", "error_description": hostile}))
                .expect("an error code remains");
        let description = read.description.expect("printable text remains");
        for c in description.chars().chain(read.error.chars()) {
            assert!(
                !c.is_control() && !is_bidi_format(c),
                "{c:?} in {description:?}"
            );
        }
        assert_eq!(description, "[2J [1;32mSigned in as admin ok txt.exe 31m");
        assert_eq!(read.error, "invalid ]0;x _grant");
    }

    #[test]
    fn a_description_that_is_not_a_string_is_left_out_and_the_code_kept() {
        for description in [json!(42), json!(null), json!({"text": "x"}), json!(["a"])] {
            assert_eq!(
                read(json!({"error": "invalid_client", "error_description": description})),
                Some(OAuthError {
                    error: "invalid_client".into(),
                    description: None
                })
            );
        }
    }

    #[test]
    fn a_refusal_without_a_readable_error_is_named_by_its_status() {
        assert_eq!(
            OAuthError::from_refusal(b"<html>Forbidden</html>", 403),
            OAuthError {
                error: "HTTP 403".into(),
                description: None
            }
        );
        assert_eq!(
            OAuthError::from_refusal(br#"{"error": "invalid_client_metadata"}"#, 400).error,
            "invalid_client_metadata"
        );
    }

    #[test]
    fn no_error_code_means_no_oauth_error() {
        for body in [
            json!({}),
            json!({"error": 400}),
            json!({"error": ""}),
            json!({"error": " \u{1b}\n\u{202e} "}),
            json!(["error"]),
        ] {
            assert_eq!(read(body.clone()), None, "{body}");
        }
        assert_eq!(OAuthError::from_json(b"<html>Bad Request</html>"), None);
    }

    #[test]
    fn long_texts_are_cut_with_an_ellipsis() {
        let read =
            read(json!({"error": "e".repeat(1000), "error_description": "word ".repeat(1000)}))
                .expect("an error code");
        assert_eq!(read.error.chars().count(), MAX_ERROR_CHARS + 1);
        assert!(read.error.ends_with('…'));
        let description = read.description.expect("a description");
        let kept = description.chars().count();
        assert!(
            (MAX_DESCRIPTION_CHARS - 5..=MAX_DESCRIPTION_CHARS + 1).contains(&kept),
            "{kept}"
        );
        assert!(description.ends_with('…'));
        assert_eq!(one_line("a  b", 3), "a b");
        assert_eq!(one_line("abc", 3), "abc");
        assert_eq!(one_line("abcd", 3), "abc…");
    }

    #[test]
    fn localized_text_is_kept() {
        assert_eq!(one_line("Accès refusé — 拒否", 100), "Accès refusé — 拒否");
    }
}
