//! The device authorization grant (RFC 8628): sign in on another device (a phone, another
//! computer's browser) by entering a short code, for machines with no display or browser.
//!
//! Keyhole asks the provider's `device_authorization_endpoint` for a device code and a user code,
//! shows the user code with the verification URI (and a QR code of `verification_uri_complete`),
//! then polls the token endpoint at the announced interval, slowing down when told to (§3.5).
//! The device code never leaves the engine: it is not in any message, log or `Debug` output.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::error::{Error, Result, Rule};
use crate::settings::config::{is_loopback_host, Config};
use crate::signin::discovery::ProviderMetadata;
use crate::signin::oauth_error::OAuthError;
use crate::tokens::grant::{self, TokenSet};

/// Largest device authorization answer Keyhole reads.
const RESPONSE_CAP: usize = 16 * 1024;
/// RFC 8628 §3.2: 5 seconds when the provider does not say.
const DEFAULT_INTERVAL: u64 = 5;
/// §3.5: how much `slow_down` adds to the interval.
const SLOW_DOWN_STEP: u64 = 5;
/// Bounds on what the provider may announce.
const MAX_INTERVAL: u64 = 120;
const MAX_LIFETIME: u64 = 24 * 3600;
const MAX_CODE_LEN: usize = 4096;
const MAX_USER_CODE_LEN: usize = 64;

/// What the user needs to finish a device sign-in elsewhere. No secret: the user code is made to
/// be shown and typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceCode {
    /// Where to go (RFC 8628 `verification_uri`).
    pub verification_uri: String,
    /// The same with the code filled in, when the provider offers it (for a link or QR code).
    pub verification_uri_complete: Option<String>,
    /// The code to type there.
    pub user_code: String,
    /// Seconds until the code expires.
    pub expires_in: u64,
    /// A QR code of `verification_uri_complete` (or of `verification_uri`).
    pub qr: QrCode,
}

impl DeviceCode {
    /// The URL to open: `verification_uri_complete` when offered, else `verification_uri`.
    pub fn url(&self) -> &str {
        self.verification_uri_complete
            .as_deref()
            .unwrap_or(&self.verification_uri)
    }
}

/// A QR code as a square of modules, row by row (`true` = dark), for a UI to draw as it likes
/// (the window draws rectangles with SVG DOM calls; no markup is built from text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QrCode {
    /// Modules per side (without the quiet zone).
    pub size: usize,
    /// `size * size` modules, row by row.
    pub modules: Vec<bool>,
}

impl QrCode {
    /// Encodes `text` (a URL) at medium error correction; None when it is too long for a QR code.
    pub fn encode(text: &str) -> Option<QrCode> {
        let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
            .ok()?;
        let size = code.width();
        let modules = code
            .to_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect();
        Some(QrCode { size, modules })
    }

    /// The code as text for a terminal: two modules per character row, with a quiet zone.
    pub fn to_terminal(&self) -> String {
        let dark = |x: isize, y: isize| {
            x >= 0
                && y >= 0
                && (x as usize) < self.size
                && (y as usize) < self.size
                && self.modules[y as usize * self.size + x as usize]
        };
        let mut out = String::new();
        let (lo, hi) = (-2isize, self.size as isize + 2);
        let mut y = lo;
        while y < hi {
            for x in lo..hi {
                // Light on dark terminals reads best inverted: dark modules are spaces.
                out.push(match (dark(x, y), dark(x, y + 1)) {
                    (true, true) => ' ',
                    (true, false) => '▄',
                    (false, true) => '▀',
                    (false, false) => '█',
                });
            }
            out.push('\n');
            y += 2;
        }
        out
    }
}

/// A started device sign-in: the device code stays in here.
pub(crate) struct PendingDevice {
    device_code: oauth2::DeviceCode,
    shown: DeviceCode,
    interval: Duration,
    expires_at: Instant,
}

impl std::fmt::Debug for PendingDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingDevice")
            .field("verification_uri", &self.shown.verification_uri)
            .finish_non_exhaustive()
    }
}

/// Asks the provider for a device code (RFC 8628 §3.1), as a public client.
pub(crate) async fn start(
    http: &reqwest::Client,
    metadata: &ProviderMetadata,
    config: &Config,
) -> Result<PendingDevice> {
    const WHAT: &str = "the device authorization endpoint";
    let endpoint = metadata.device_authorization_endpoint.as_ref().ok_or_else(|| {
        Error::discovery(format!(
            "The provider at {} offers no sign-in with a code (its metadata lists no device_authorization_endpoint); sign in through a browser on this machine instead.",
            metadata.issuer
        ))
    })?;
    let scope = config.scopes.join(" ");
    let mut form = vec![
        ("client_id", config.client_id.as_str()),
        ("scope", scope.as_str()),
    ];
    let resource = config.resource.as_ref().map(Url::to_string);
    if let Some(resource) = &resource {
        form.push(("resource", resource.as_str()));
    }
    let request = http.post(endpoint.clone()).form(&form);
    let (status, body, truncated) =
        crate::http::post_for_json(request, endpoint.as_str(), RESPONSE_CAP, WHAT).await?;
    if !status.is_success() {
        let refusal = OAuthError::from_refusal(&body, status.as_u16());
        return Err(Error::DeviceAuthorizationRefused {
            error: refusal.error,
            description: refusal.description,
        });
    }
    if truncated {
        return Err(malformed("it is far larger than any such answer"));
    }
    parse_response(&body)
}

fn malformed(why: &str) -> Error {
    Error::refused(
        Rule::DeviceResponse,
        format!("The provider's answer to a sign-in with a code is not usable ({why}), so Keyhole stopped; sign in through a browser instead, or check the instance."),
    )
}

/// RFC 8628 §3.2, checked member by member. Nothing of the body is quoted: it holds the code.
#[doc(hidden)]
pub(crate) fn parse_response(body: &[u8]) -> Result<PendingDevice> {
    let members = crate::http::json_object(body, malformed)?;
    let string = |name: &str| match members.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.as_str())),
        None => Ok(None),
        Some(_) => Err(malformed(&format!("{name} is not a non-empty string"))),
    };
    let device_code = string("device_code")?.ok_or_else(|| malformed("it has no device_code"))?;
    if device_code.len() > MAX_CODE_LEN {
        return Err(malformed("its device_code is far too long"));
    }
    let user_code = string("user_code")?.ok_or_else(|| malformed("it has no user_code"))?;
    if user_code.chars().count() > MAX_USER_CODE_LEN || user_code.chars().any(char::is_control) {
        return Err(malformed("its user_code is not a short printable code"));
    }
    let browser_url = |name: &str, value: &str| -> Result<Url> {
        let url = Url::parse(value).map_err(|_| malformed(&format!("{name} is not a URL")))?;
        let secure = url.scheme() == "https"
            || (url.scheme() == "http" && url.host_str().is_some_and(is_loopback_host));
        if !secure {
            return Err(malformed(&format!("{name} does not use https")));
        }
        Ok(url)
    };
    // Some providers spell it verification_url (pre-RFC drafts).
    let verification_uri = match (string("verification_uri")?, string("verification_url")?) {
        (Some(uri), _) | (None, Some(uri)) => browser_url("verification_uri", uri)?,
        (None, None) => return Err(malformed("it has no verification_uri")),
    };
    let complete = string("verification_uri_complete")?
        .map(|uri| browser_url("verification_uri_complete", uri))
        .transpose()?;
    let number = |name: &str| match members.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| malformed(&format!("{name} is not a whole number of seconds"))),
    };
    let expires_in = number("expires_in")?.ok_or_else(|| malformed("it has no expires_in"))?;
    if expires_in == 0 || expires_in > MAX_LIFETIME {
        return Err(malformed("its expires_in is not a sensible lifetime"));
    }
    let interval = number("interval")?
        .unwrap_or(DEFAULT_INTERVAL)
        .clamp(1, MAX_INTERVAL);
    let qr_text = complete.as_ref().unwrap_or(&verification_uri).to_string();
    let qr = QrCode::encode(&qr_text).ok_or_else(|| malformed("its URL is too long"))?;
    Ok(PendingDevice {
        device_code: oauth2::DeviceCode::new(device_code.to_owned()),
        shown: DeviceCode {
            verification_uri: verification_uri.to_string(),
            verification_uri_complete: complete.map(String::from),
            user_code: user_code.to_owned(),
            expires_in,
            qr,
        },
        interval: Duration::from_secs(interval),
        expires_at: Instant::now() + Duration::from_secs(expires_in),
    })
}

impl PendingDevice {
    /// What to show the user.
    pub fn shown(&self) -> &DeviceCode {
        &self.shown
    }

    /// The polling interval now (grows by 5 s on every `slow_down`).
    #[cfg(test)]
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Polls the token endpoint until the user finishes, declines, the code expires, `timeout`
    /// passes or `cancel` fires (§3.4, §3.5).
    pub async fn poll(
        mut self,
        http: &reqwest::Client,
        metadata: &ProviderMetadata,
        client_id: &str,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<TokenSet> {
        let started = Instant::now();
        loop {
            let wait = tokio::time::sleep(self.interval);
            tokio::select! {
                () = cancel.cancelled() => return Err(Error::Cancelled),
                () = wait => {}
            }
            if Instant::now() >= self.expires_at {
                return Err(Error::DeviceCodeExpired);
            }
            if started.elapsed() >= timeout {
                return Err(Error::Timeout(timeout));
            }
            let answer = tokio::select! {
                () = cancel.cancelled() => return Err(Error::Cancelled),
                answer = grant::device_grant(http, metadata, client_id, &self.device_code) => answer,
            };
            match answer {
                Ok(tokens) => return Ok(tokens),
                Err(Error::TokenRefused { error, .. }) => match error.as_str() {
                    "authorization_pending" => {}
                    "slow_down" => {
                        self.interval += Duration::from_secs(SLOW_DOWN_STEP);
                        tracing::info!(
                            interval_secs = self.interval.as_secs(),
                            "the provider asked to poll more slowly"
                        );
                    }
                    "access_denied" => return Err(Error::DeviceDenied),
                    "expired_token" => return Err(Error::DeviceCodeExpired),
                    _ => {
                        return Err(Error::TokenRefused {
                            error,
                            description: None,
                        })
                    }
                },
                Err(other) => return Err(other),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer() -> Value {
        json!({
            "device_code": "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS",
            "user_code": "WDJB-MJHT",
            "verification_uri": "https://clerk.example.com/oauth/device",
            "verification_uri_complete": "https://clerk.example.com/oauth/device?user_code=WDJB-MJHT",
            "expires_in": 1800,
            "interval": 5
        })
    }

    fn parse(v: &Value) -> Result<PendingDevice> {
        parse_response(v.to_string().as_bytes())
    }

    #[test]
    fn a_well_formed_answer_is_shown_without_its_device_code() {
        let pending = parse(&answer()).unwrap();
        assert_eq!(pending.shown().user_code, "WDJB-MJHT");
        assert_eq!(
            pending.shown().url(),
            "https://clerk.example.com/oauth/device?user_code=WDJB-MJHT"
        );
        assert_eq!(pending.interval(), Duration::from_secs(5));
        let shown = serde_json::to_string(pending.shown()).unwrap();
        assert!(!shown.contains("GmRhmhcx"), "{shown}");
        assert!(!format!("{pending:?}").contains("GmRhmhcx"));
        let qr = &pending.shown().qr;
        assert_eq!(qr.modules.len(), qr.size * qr.size);
        assert!(qr.size >= 21);
    }

    #[test]
    fn the_interval_defaults_to_five_seconds_and_is_bounded() {
        let mut a = answer();
        a.as_object_mut().unwrap().remove("interval");
        assert_eq!(parse(&a).unwrap().interval(), Duration::from_secs(5));
        a["interval"] = json!(0);
        assert_eq!(parse(&a).unwrap().interval(), Duration::from_secs(1));
        a["interval"] = json!(100_000);
        assert_eq!(parse(&a).unwrap().interval(), Duration::from_secs(120));
    }

    #[test]
    fn malformed_answers_are_refused_by_rule_without_quoting_the_code() {
        let cases: Vec<(&str, Value)> = vec![
            ("device_code", Value::Null),
            ("device_code", json!("")),
            ("user_code", Value::Null),
            ("verification_uri", json!("http://evil.test/device")),
            ("verification_uri", json!("not a url")),
            ("verification_uri_complete", json!("javascript:alert(1)")),
            ("expires_in", json!(0)),
            ("expires_in", json!("600")),
            ("interval", json!(-1)),
            ("user_code", json!("A\u{7}B")),
        ];
        for (name, value) in cases {
            let mut a = answer();
            if value.is_null() {
                a.as_object_mut().unwrap().remove(name);
            } else {
                a[name] = value.clone();
            }
            let err = parse(&a).unwrap_err();
            assert_eq!(
                err.rule(),
                Some(Rule::DeviceResponse),
                "{name}={value}: {err}"
            );
            assert!(!err.to_string().contains("GmRhmhcx"), "{err}");
        }
        let err = parse_response(b"[1]").unwrap_err();
        assert_eq!(err.rule(), Some(Rule::DeviceResponse));
    }

    #[test]
    fn a_qr_code_draws_on_a_terminal() {
        let qr = QrCode::encode("http://127.0.0.1:4010/oauth/device?user_code=BCDF-GHJK").unwrap();
        let text = qr.to_terminal();
        assert_eq!(text.lines().count(), (qr.size + 4).div_ceil(2));
        assert!(text.lines().all(|l| l.chars().count() == qr.size + 4));
    }
}
