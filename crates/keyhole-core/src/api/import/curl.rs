//! A pasted `curl` command as a request: split as a POSIX shell would (`shell-words`), then the
//! flags people copy from a browser's or an API doc's "copy as curl" read one by one.

use url::Url;

use crate::api::request::{ApiRequest, Method, Pair, RequestBody};
use crate::error::{Error, Result};

use super::{is_bearer, strip_session_cookie, TOKEN_REPLACED};

/// The request a curl command makes, and what Keyhole did with what it could not keep.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CurlImport {
    /// The request (never holding the command's bearer token or Clerk session cookie).
    pub request: ApiRequest,
    /// One plain sentence per thing changed or dropped.
    pub notes: Vec<String>,
}

/// The longest command read.
const MAX_COMMAND: usize = 1024 * 1024;

fn refuse(message: impl Into<String>) -> Error {
    Error::setting("import", message)
}

/// True when `text` looks like a curl command (what the window checks before asking).
pub fn looks_like_curl(text: &str) -> bool {
    let text = text.trim_start();
    text.starts_with("curl ") || text.starts_with("curl\t") || text.starts_with("curl\\")
}

/// Flags that change nothing Keyhole sends, with no value.
const IGNORED: &[&str] = &[
    "-s",
    "--silent",
    "-S",
    "--show-error",
    "-k",
    "--insecure",
    "-L",
    "--location",
    "-i",
    "--include",
    "-v",
    "--verbose",
    "--compressed",
    "-f",
    "--fail",
    "--fail-with-body",
    "-#",
    "--progress-bar",
    "--http1.1",
    "--http2",
    "-g",
    "--globoff",
    "-N",
    "--no-buffer",
];
/// Flags with a value that change nothing Keyhole sends.
const IGNORED_WITH_VALUE: &[&str] = &[
    "-o",
    "--output",
    "--connect-timeout",
    "-w",
    "--write-out",
    "--retry",
];
/// Short flags that take a value (so `-XPOST` is `-X POST`).
const SHORT_WITH_VALUE: &[char] = &['X', 'H', 'd', 'u', 'b', 'A', 'e', 'o', 'm', 'w'];

/// Parses `text` (a whole `curl …` command, line continuations and all). Err is one plain
/// sentence under the `import` field; nothing is made then.
pub fn parse_curl(text: &str) -> Result<CurlImport> {
    if text.len() > MAX_COMMAND {
        return Err(refuse(
            "The command is longer than 1 MiB; paste a shorter one.",
        ));
    }
    // Windows "copy as cURL (cmd)" ends its lines with ^; a POSIX shell's with \.
    let words = shell_words::split(text.trim()).map_err(|_| {
        refuse("The command has an unclosed quote; copy it again whole (copy as cURL, bash).")
    })?;
    let mut words = words.into_iter();
    if words.next().as_deref() != Some("curl") {
        return Err(refuse(
            "That is not a curl command: it should start with curl.",
        ));
    }
    let mut args: Vec<String> = Vec::new();
    for word in words {
        // -XPOST, -sSL: split the short flags the way curl reads them.
        if word.len() > 2 && word.starts_with('-') && !word.starts_with("--") {
            for (i, c) in word[1..].char_indices() {
                args.push(format!("-{c}"));
                if SHORT_WITH_VALUE.contains(&c) {
                    let rest = &word[1 + i + c.len_utf8()..];
                    if !rest.is_empty() {
                        args.push(rest.to_owned());
                    }
                    break;
                }
            }
        } else if let Some((flag, value)) = word.strip_prefix("--").and_then(|w| w.split_once('='))
        {
            args.push(format!("--{flag}"));
            args.push(value.to_owned());
        } else {
            args.push(word);
        }
    }

    let mut notes: Vec<String> = Vec::new();
    let mut note = |text: String| {
        if !notes.contains(&text) {
            notes.push(text);
        }
    };
    let mut method: Option<Method> = None;
    let mut head = false;
    let mut urls: Vec<String> = Vec::new();
    let mut headers: Vec<Pair> = Vec::new();
    let mut data: Vec<String> = Vec::new();
    let mut form_fields: Vec<Pair> = Vec::new();
    let mut json = false;
    let mut get = false;
    let mut timeout = None;
    let mut send_token = true;
    let mut args = args.into_iter();
    let value = |args: &mut std::vec::IntoIter<String>, flag: &str| {
        args.next().ok_or_else(|| {
            refuse(format!(
                "curl's {flag} needs a value after it; the command ends there."
            ))
        })
    };
    while let Some(arg) = args.next() {
        let flag = arg.as_str();
        match flag {
            "-X" | "--request" => {
                let m = value(&mut args, flag)?;
                method = Some(Method::parse(&m).map_err(|_| {
                    refuse(format!(
                        "The command's method {m:?} is not one Keyhole sends; use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS."
                    ))
                })?);
            }
            "-I" | "--head" => head = true,
            "-G" | "--get" => get = true,
            "--url" => urls.push(value(&mut args, flag)?),
            "-H" | "--header" => {
                let line = value(&mut args, flag)?;
                let Some((name, v)) = line.split_once(':') else {
                    // `-H 'X-Name;'` sends an empty header in curl; `-H @file` reads a file.
                    if line.starts_with('@') {
                        return Err(refuse("Keyhole does not read files a pasted command names (-H @file); paste the headers themselves."));
                    }
                    note(format!(
                        "The header {line:?} has no value; it was left out."
                    ));
                    continue;
                };
                let (name, v) = (name.trim(), v.trim());
                if name.eq_ignore_ascii_case("authorization") {
                    if is_bearer(v) {
                        note(TOKEN_REPLACED.to_owned());
                    } else {
                        note("The command's own Authorization header is kept, so Keyhole's token is off for this request.".to_owned());
                        send_token = false;
                        headers.push(Pair::new(name, v));
                    }
                    continue;
                }
                if name.eq_ignore_ascii_case("cookie") {
                    match strip_session_cookie(v) {
                        (rest, true) => {
                            note(TOKEN_REPLACED.to_owned());
                            if !rest.is_empty() {
                                headers.push(Pair::new(name, rest));
                            }
                        }
                        (_, false) => headers.push(Pair::new(name, v)),
                    }
                    continue;
                }
                headers.push(Pair::new(name, v));
            }
            "-b" | "--cookie" => {
                let v = value(&mut args, flag)?;
                if !v.contains('=') {
                    return Err(refuse("Keyhole does not read cookie files a pasted command names (-b FILE); paste the cookies themselves."));
                }
                match strip_session_cookie(&v) {
                    (rest, true) => {
                        note(TOKEN_REPLACED.to_owned());
                        if !rest.is_empty() {
                            headers.push(Pair::new("Cookie", rest));
                        }
                    }
                    (_, false) => headers.push(Pair::new("Cookie", v)),
                }
            }
            "-A" | "--user-agent" => headers.push(Pair::new("User-Agent", value(&mut args, flag)?)),
            "-e" | "--referer" => headers.push(Pair::new("Referer", value(&mut args, flag)?)),
            "-d" | "--data" | "--data-ascii" | "--data-binary" | "--data-raw" | "--json" => {
                let v = value(&mut args, flag)?;
                if v.starts_with('@') && flag != "--data-raw" {
                    return Err(refuse(format!(
                        "Keyhole does not read files a pasted command names ({flag} {v}); paste the body into the editor instead."
                    )));
                }
                // curl drops the line breaks of -d/--data (not of --data-binary or --data-raw).
                let v = if matches!(flag, "-d" | "--data" | "--data-ascii") {
                    v.replace(['\r', '\n'], "")
                } else {
                    v
                };
                json |= flag == "--json";
                data.push(v);
            }
            "--data-urlencode" => {
                let v = value(&mut args, flag)?;
                if v.contains('@') && !v.contains('=') {
                    return Err(refuse(format!(
                        "Keyhole does not read files a pasted command names (--data-urlencode {v}); paste the value instead."
                    )));
                }
                match v.split_once('=') {
                    Some((name, field)) => form_fields.push(Pair::new(name, field)),
                    None => form_fields.push(Pair::new(v, "")),
                }
            }
            "-F" | "--form" => {
                return Err(refuse(
                    "Keyhole does not send multipart forms (-F); use a JSON or form body instead.",
                ));
            }
            "-u" | "--user" => {
                let _ = value(&mut args, flag)?;
                note("The user and password (-u) were left out: Keyhole sends its own token. To send them instead, add an Authorization: Basic header and turn the token off.".to_owned());
            }
            "-m" | "--max-time" => {
                let v = value(&mut args, flag)?;
                match v.parse::<f64>() {
                    Ok(secs) if secs >= 1.0 => timeout = Some((secs.ceil() as u64).min(600)),
                    _ => note(format!(
                        "The time limit {v:?} was left out; the default is used."
                    )),
                }
            }
            "--oauth2-bearer" => {
                let _ = value(&mut args, flag)?;
                note(TOKEN_REPLACED.to_owned());
            }
            f if IGNORED.contains(&f) => {}
            f if IGNORED_WITH_VALUE.contains(&f) => {
                let _ = value(&mut args, flag)?;
            }
            f if f.starts_with('-') && f.len() > 1 => {
                return Err(refuse(format!(
                    "curl's {f} is not something Keyhole imports; remove it from the command and paste it again."
                )));
            }
            _ => urls.push(arg),
        }
    }

    let Some(url) = urls.first().cloned() else {
        return Err(refuse("The command names no URL; add the one to call."));
    };
    if urls.len() > 1 {
        notes.push(format!(
            "The command names {} URLs; only the first, {}, was imported.",
            urls.len(),
            urls[0]
        ));
    }
    let url = if url.contains("://") {
        url
    } else {
        format!("http://{url}")
    };
    let mut url = Url::parse(&url)
        .map_err(|e| refuse(format!("The command's URL {url:?} is not a URL ({e}).")))?;

    let has_body = !data.is_empty() || !form_fields.is_empty();
    let content_type = headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-type"))
        .map(|h| h.value.to_ascii_lowercase());
    let mut body = RequestBody::None;
    if get && has_body {
        // -G: the data is the query.
        let mut pairs = url.query_pairs_mut();
        for d in &data {
            for (k, v) in url::form_urlencoded::parse(d.as_bytes()) {
                pairs.append_pair(&k, &v);
            }
        }
        for f in &form_fields {
            pairs.append_pair(&f.name, &f.value);
        }
        drop(pairs);
    } else if has_body {
        let joined = data.join("&");
        let says_json = json || content_type.as_deref().is_some_and(|t| t.contains("json"));
        let says_form = content_type
            .as_deref()
            .is_some_and(|t| t.contains("x-www-form-urlencoded"));
        if !form_fields.is_empty() && data.is_empty() {
            body = RequestBody::Form {
                fields: form_fields.clone(),
            };
        } else if says_json
            || (!says_form && serde_json::from_str::<serde_json::Value>(&joined).is_ok())
        {
            body = RequestBody::Json { text: joined };
            if json {
                headers.retain(|h| !h.name.eq_ignore_ascii_case("content-type"));
            }
        } else if (says_form || content_type.is_none())
            && !joined.is_empty()
            && joined.split('&').all(|part| part.contains('='))
        {
            let mut fields: Vec<Pair> = url::form_urlencoded::parse(joined.as_bytes())
                .map(|(k, v)| Pair::new(k, v))
                .collect();
            fields.extend(form_fields.iter().cloned());
            body = RequestBody::Form { fields };
        } else {
            body = RequestBody::Text { text: joined };
        }
        // The body kind sets the Content-Type; the command's own is kept when it says more.
        if matches!(body, RequestBody::Form { .. })
            && content_type
                .as_deref()
                .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
        {
            headers.retain(|h| !h.name.eq_ignore_ascii_case("content-type"));
        }
        if matches!(body, RequestBody::Json { .. })
            && content_type.as_deref() == Some("application/json")
        {
            headers.retain(|h| !h.name.eq_ignore_ascii_case("content-type"));
        }
    }
    let method = match (head, method) {
        (true, _) => Method::Head,
        (false, Some(m)) => m,
        (false, None) if has_body && !get => Method::Post,
        (false, None) => Method::Get,
    };
    Ok(CurlImport {
        request: ApiRequest {
            method,
            url: url.to_string(),
            query: Vec::new(),
            headers,
            body,
            send_token,
            token_type: None,
            timeout_secs: timeout,
            name: None,
        },
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> CurlImport {
        parse_curl(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn refused(text: &str) -> String {
        match parse_curl(text) {
            Err(Error::InvalidSetting { field, message, .. }) => {
                assert_eq!(field, "import", "{text}");
                message
            }
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn a_browser_copy_gives_method_url_headers_and_a_json_body() {
        let got = parse(
            "curl 'https://api.example.com/v1/items?x=1' \\\n  -X 'PUT' \\\n  -H 'accept: application/json' \\\n  -H 'content-type: application/json' \\\n  -H \"X-Note: it's here\" \\\n  --data-raw '{\"name\":\"a b\"}' \\\n  --compressed -sSL",
        );
        let r = got.request;
        assert_eq!(r.method, Method::Put);
        assert_eq!(r.url, "https://api.example.com/v1/items?x=1");
        assert_eq!(
            r.headers,
            vec![
                Pair::new("accept", "application/json"),
                Pair::new("X-Note", "it's here")
            ]
        );
        assert_eq!(
            r.body,
            RequestBody::Json {
                text: r#"{"name":"a b"}"#.into()
            }
        );
        assert!(r.send_token);
        assert!(got.notes.is_empty(), "{:?}", got.notes);
    }

    #[test]
    fn a_bearer_token_or_a_clerk_session_cookie_is_replaced_never_kept() {
        let got = parse(
            "curl -H 'Authorization: Bearer eyJhbGciOi.secret.sig' -b '__session=eyJsecret; theme=dark' https://api.example.com/me",
        );
        let json = serde_json::to_string(&got.request).expect("json");
        assert!(!json.contains("secret"), "{json}");
        assert!(got.request.send_token);
        assert_eq!(got.request.headers, vec![Pair::new("Cookie", "theme=dark")]);
        assert_eq!(got.notes, vec![TOKEN_REPLACED.to_owned()]);
        // Only the session cookie: no Cookie header is left.
        let got = parse("curl --cookie __session=abc.def.ghi https://x.test/");
        assert!(got.request.headers.is_empty());
        // Another kind of Authorization is the user's own: kept, Keyhole's token off.
        let got = parse("curl -H 'Authorization: Basic dXNlcjpwYXNz' https://x.test/");
        assert!(!got.request.send_token);
        assert!(got.request.prepare().is_ok());
    }

    #[test]
    fn data_flags_make_form_text_query_or_json_bodies() {
        let r = parse("curl -d a=1 -d 'b=two words' https://x.test/f").request;
        assert_eq!(r.method, Method::Post);
        assert_eq!(
            r.body,
            RequestBody::Form {
                fields: vec![Pair::new("a", "1"), Pair::new("b", "two words")]
            }
        );
        let r = parse("curl --data-urlencode 'q=a&b' https://x.test/f").request;
        assert_eq!(
            r.body,
            RequestBody::Form {
                fields: vec![Pair::new("q", "a&b")]
            }
        );
        let r = parse("curl -G -d a=1 --data-urlencode 'q=x y' https://x.test/s").request;
        assert_eq!(r.method, Method::Get);
        assert_eq!(r.body, RequestBody::None);
        assert_eq!(r.url, "https://x.test/s?a=1&q=x+y");
        let r = parse("curl --json '{\"k\":true}' https://x.test/j").request;
        assert_eq!(r.method, Method::Post);
        assert!(matches!(r.body, RequestBody::Json { .. }));
        let r =
            parse("curl -XPATCH -H 'Content-Type: text/plain' -d hello https://x.test/t").request;
        assert_eq!(r.method, Method::Patch);
        assert_eq!(
            r.body,
            RequestBody::Text {
                text: "hello".into()
            }
        );
        let r = parse("curl -I --url x.test/h -m 5").request;
        assert_eq!(r.method, Method::Head);
        assert_eq!(r.url, "http://x.test/h");
        assert_eq!(r.timeout_secs, Some(5));
    }

    #[test]
    fn what_cannot_be_imported_is_one_plain_sentence() {
        assert!(refused("curl -d @body.json https://x.test/").contains("does not read files"));
        assert!(refused("curl --frobnicate https://x.test/").contains("--frobnicate"));
        assert!(refused("curl 'https://x.test/").contains("unclosed quote"));
        assert!(refused("wget https://x.test/").contains("start with curl"));
        assert!(refused("curl -s").contains("no URL"));
        assert!(refused("curl -X BREW https://x.test/").contains("BREW"));
        assert!(refused("curl https://x.test/ -H").contains("needs a value"));
        assert!(refused("curl -F a=@f https://x.test/").contains("multipart"));
        let got = parse("curl -u me:pw https://x.test/ https://y.test/");
        assert_eq!(got.notes.len(), 2, "{:?}", got.notes);
        assert!(got.notes[0].contains("(-u)"));
        assert!(!serde_json::to_string(&got.request).unwrap().contains("pw"));
    }
}
