//! The one place the engine's HTTP client is built, plus bounded body reads and plain-words
//! transport errors.

use std::time::Duration;

use url::Url;

use crate::error::{Error, Result};

/// Builds the engine's HTTP client: never follows redirects (a bearer token or a code must not
/// leak to another origin, and the oauth2 crate warns that a following token client is an SSRF
/// hole), bounded connect and total timeouts.
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10).min(timeout))
        .timeout(timeout)
        .user_agent(concat!("Keyhole/", env!("CARGO_PKG_VERSION")))
        .build()
        // Building fails only when the TLS backend cannot initialise, which is a broken install.
        .unwrap_or_else(|e| panic!("the HTTP client could not be built: {e}"))
}

/// Sends `request` (a POST whose form or JSON body the caller set) asking for JSON, then reads
/// at most `cap` bytes of the answer: its status, the bytes, and whether more were left unread.
/// Redirects are never followed (the clients are built that way), so a 3xx comes back as is.
pub(crate) async fn post_for_json(
    request: reqwest::RequestBuilder,
    url: &str,
    cap: usize,
    what: &'static str,
) -> Result<(reqwest::StatusCode, Vec<u8>, bool)> {
    let response = request
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| network_error(what, url, e))?;
    let status = response.status();
    let (body, truncated) = read_capped(response, cap, what).await?;
    Ok((status, body, truncated))
}

/// Reads at most `cap` bytes of a body. Returns the bytes and whether more were left unread.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
    what: &'static str,
) -> Result<(Vec<u8>, bool)> {
    let url = response.url().to_string();
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| network_error(what, &url, e))?
    {
        let room = cap - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

/// GETs a JSON document (discovery, JWKS) of bounded size and parses it.
pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    what: &'static str,
) -> Result<T> {
    const CAP: usize = 512 * 1024;
    let response = http
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| network_error(what, url, e))?;
    let status = response.status();
    if status.is_redirection() {
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        return Err(Error::discovery(format!(
            "{what} at {url} redirects (HTTP {status}) to {location:?}; Keyhole does not follow redirects there. Use the final URL."
        )));
    }
    let (body, truncated) = read_capped(response, CAP, what).await?;
    if !status.is_success() {
        return Err(Error::discovery(format!(
            "{what} at {url} answered HTTP {status}: {}",
            excerpt(&body, 200)
        )));
    }
    if truncated {
        return Err(Error::discovery(format!(
            "{what} at {url} is larger than {} KiB; refusing it.",
            CAP / 1024
        )));
    }
    serde_json::from_slice(&body).map_err(|e| {
        let message = format!("{what} at {url} is not valid JSON of the expected shape");
        Error::discovery_from(message, e)
    })
}

/// `body` as a JSON object, for answers that may hold secrets; else `refusal(why)`, with where
/// the JSON broke (redacted) as its source.
pub(crate) fn json_object(
    body: &[u8],
    refusal: impl Fn(&str) -> Error,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_slice(body) {
        Ok(serde_json::Value::Object(members)) => Ok(members),
        Ok(_) => Err(refusal("it is not a JSON object")),
        Err(e) => Err(refusal("it is not a JSON object").unparsed(&e)),
    }
}

/// The first `max` characters of a body as text, on one line.
pub(crate) fn excerpt(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > max {
        let cut: String = one_line.chars().take(max).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

/// Where `url` points, for a message: its origin (`https://host:port`), or for a URL whose origin
/// is opaque (`file:`, `data:`, …; the `url` crate serializes those as "null") the URL as given,
/// without user info, query or fragment, and capped.
pub(crate) fn shown_origin(url: &Url) -> String {
    let origin = url.origin();
    if origin.is_tuple() {
        return origin.ascii_serialization();
    }
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    let text = shown.to_string();
    match text.char_indices().nth(120) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// Turns a transport failure into an [`Error::Network`] with the cause in plain words.
pub(crate) fn network_error(what: &'static str, url: &str, error: reqwest::Error) -> Error {
    Error::Network {
        what,
        url: url.to_owned(),
        message: describe_transport_error(&error),
        source: Some(error),
    }
}

/// Plain words for why a request got no HTTP answer. The transport's own words are not repeated
/// here: they stay in the error's source, for [`Error::report`].
pub fn describe_transport_error(error: &reqwest::Error) -> String {
    let lower = crate::error::chain(error).to_ascii_lowercase();
    if error.is_timeout() || lower.contains("timed out") {
        "it did not answer in time (timeout)"
    } else if lower.contains("dns error") || lower.contains("failed to lookup") {
        "the host name could not be resolved (DNS)"
    } else if lower.contains("connection refused") {
        "the connection was refused — is the server running on that port?"
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        "the TLS connection failed"
    } else if error.is_connect() {
        "the connection failed"
    } else if error.is_body() || error.is_decode() {
        "the answer was cut off"
    } else {
        "no HTTP answer came back"
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_one_line_and_bounded() {
        assert_eq!(excerpt(b"a\n  b\tc", 10), "a b c");
        assert_eq!(excerpt("ééééé".as_bytes(), 3), "ééé…");
    }

    #[tokio::test]
    async fn a_refused_connection_is_described_in_plain_words() {
        // Bind then drop a listener so the port is very likely closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/");
        let error = client(Duration::from_secs(5))
            .get(&url)
            .send()
            .await
            .unwrap_err();
        assert!(
            describe_transport_error(&error).contains("refused"),
            "{error}"
        );
    }
}
