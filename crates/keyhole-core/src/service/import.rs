//! The service's import: a pasted curl command as a request, and an OpenAPI or Postman document
//! (a file or a URL) as the current profile's saved requests.

use std::time::Duration;

use url::Url;

use crate::api::import::curl::{parse_curl, CurlImport};
use crate::api::import::{openapi, postman, ImportKind, ImportReport, Parsed, MAX_DOCUMENT};
use crate::api::variables::Variable;
use crate::error::{Error, Result};

use super::Service;

/// How long fetching a document may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(20);

fn refuse(message: impl Into<String>) -> Error {
    Error::setting("import", message)
}

impl Service {
    /// The request a pasted curl command makes (nothing is saved or sent). A bearer token or a
    /// Clerk session cookie in it is dropped, and a note says so.
    pub fn import_curl(&self, text: &str) -> Result<CurlImport> {
        let imported = parse_curl(text)?;
        tracing::info!(notes = imported.notes.len(), "curl command imported");
        Ok(imported)
    }

    /// Imports the document at `source` (a file path, or an http(s) URL fetched with a size cap
    /// and a timeout) into the current profile: each request saved (a name already taken gets a
    /// number after it, said in the notes), and a Postman collection's variables added as plain
    /// ones (a variable the profile has keeps its value).
    pub async fn import(&self, kind: ImportKind, source: &str) -> Result<ImportReport> {
        let profile = self.profile().ok_or_else(|| {
            refuse("Imported requests are saved in a profile: save these settings as a profile first (or name one with --profile NAME).")
        })?;
        let file = self.profiles_file()?;
        file.get(&profile)?;
        let source = source.trim();
        if source.is_empty() {
            return Err(refuse(
                "Give the file or the URL of the document to import.",
            ));
        }
        let (text, document_url) = self.read_document(source).await?;
        let api_url = Url::parse(self.settings().api_url.trim()).ok();
        let parsed = match kind {
            ImportKind::Openapi => {
                openapi::parse_openapi(&text, document_url.as_ref(), api_url.as_ref())?
            }
            ImportKind::Postman => postman::parse_postman(&text)?,
        };
        let report = self.save_imported(&profile, parsed)?;
        tracing::info!(
            saved = report.saved.len(),
            skipped = report.skipped.len(),
            "document imported"
        );
        Ok(report)
    }

    fn save_imported(&self, profile: &str, parsed: Parsed) -> Result<ImportReport> {
        let file = self.profiles_file()?;
        let mut report = ImportReport {
            skipped: parsed.skipped,
            notes: parsed.notes,
            ..ImportReport::default()
        };
        let mut taken: Vec<String> = file
            .get(profile)?
            .requests
            .into_iter()
            .filter_map(|r| r.name)
            .collect();
        let mut renamed = 0;
        for request in parsed.requests {
            let wanted: String = request
                .name
                .clone()
                .unwrap_or_default()
                .chars()
                .filter(|c| !c.is_control())
                .take(90)
                .collect();
            let wanted = if wanted.trim().is_empty() {
                "Imported".to_owned()
            } else {
                wanted.trim().to_owned()
            };
            let mut name = wanted.clone();
            let mut n = 2;
            while taken.contains(&name) {
                name = format!("{wanted} ({n})");
                n += 1;
            }
            if name != wanted {
                renamed += 1;
            }
            match file.save_request(profile, &name, &request) {
                Ok(_) => {
                    taken.push(name.clone());
                    report.saved.push(name);
                }
                Err(error @ Error::InvalidSetting { .. }) => {
                    report.skipped.push(format!("{name}: {error}"));
                }
                Err(error) => return Err(error),
            }
        }
        if renamed > 0 {
            report.notes.push(format!(
                "{renamed} of the names were taken already, so those requests were saved with a number after the name (nothing was overwritten)."
            ));
        }
        let existing: Vec<Variable> = file.variables(profile)?;
        for variable in parsed.variables {
            if existing.iter().any(|v| v.name == variable.name) {
                report.skipped.push(format!(
                    "The variable {:?} was not imported: the profile has one of that name, which keeps its value.",
                    variable.name
                ));
                continue;
            }
            file.set_variable(profile, &variable)?;
            report.variables.push(variable.name);
        }
        Ok(report)
    }

    /// The document's text and, for a URL, where it came from.
    async fn read_document(&self, source: &str) -> Result<(String, Option<Url>)> {
        let is_url = source.starts_with("http://") || source.starts_with("https://");
        if !is_url {
            let path = std::path::Path::new(source);
            let too_big = || {
                refuse(format!(
                    "The file {source} is larger than {} MiB; Keyhole does not import one that large.",
                    MAX_DOCUMENT / 1024 / 1024
                ))
            };
            let meta = std::fs::metadata(path).map_err(|e| {
                Error::setting_from(
                    "import",
                    format!("The file {source} could not be read; check the path."),
                    e,
                )
            })?;
            if meta.len() > MAX_DOCUMENT as u64 {
                return Err(too_big());
            }
            let bytes = std::fs::read(path).map_err(|e| {
                Error::setting_from("import", format!("The file {source} could not be read."), e)
            })?;
            let text = String::from_utf8(bytes)
                .map_err(|_| refuse(format!("The file {source} is not UTF-8 text.")))?;
            return Ok((text, None));
        }
        let url =
            Url::parse(source).map_err(|e| refuse(format!("{source:?} is not a URL ({e}).")))?;
        let http = crate::http::client(FETCH_TIMEOUT);
        let response = http
            .get(url.clone())
            .header(
                reqwest::header::ACCEPT,
                "application/json, application/yaml, text/yaml, */*;q=0.5",
            )
            .send()
            .await
            .map_err(|e| crate::http::network_error("the document", url.as_str(), e))?;
        let status = response.status();
        if status.is_redirection() {
            return Err(refuse(format!(
                "The document at {url} redirects (HTTP {status}); Keyhole does not follow redirects there. Use the final URL."
            )));
        }
        let (body, truncated) =
            crate::http::read_capped(response, MAX_DOCUMENT, "the document").await?;
        if !status.is_success() {
            return Err(refuse(format!(
                "The document at {url} answered HTTP {status} instead; check the URL."
            )));
        }
        if truncated {
            return Err(refuse(format!(
                "The document at {url} is larger than {} MiB; Keyhole does not import one that large.",
                MAX_DOCUMENT / 1024 / 1024
            )));
        }
        let text = String::from_utf8(body)
            .map_err(|_| refuse(format!("The document at {url} is not UTF-8 text.")))?;
        Ok((text, Some(url)))
    }
}
