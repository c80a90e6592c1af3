//! `keyhole-cli var …` and `keyhole-cli import …`: the engine's variables and import, printed.

use keyhole_core::{ApiRequest, ImportKind, ImportReport, RequestBody, VariableView};

use crate::cli::{ImportCommand, VarCommand};
use crate::output::{err, out};
use crate::service::{self, fail};

/// The longest value read from stdin.
const MAX_STDIN: u64 = 64 * 1024 + 1;

fn read_stdin(what: &str) -> Result<String, u8> {
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut std::io::Read::take(std::io::stdin(), MAX_STDIN),
        &mut text,
    )
    .map_err(|e| {
        err!("error: could not read the {what} from stdin ({e}).");
        service::EXIT_SETTINGS
    })?;
    // A pipe or a terminal adds one line break at the end.
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Ok(text)
}

fn print_variables(list: &[VariableView]) {
    for v in list {
        let kind = if v.secret { "secret" } else { "plain" };
        out!("{}\t{kind}\t{}", v.name, v.value);
    }
}

pub fn var(command: VarCommand) -> u8 {
    let settings = match &command {
        VarCommand::Set { settings, .. }
        | VarCommand::List { settings }
        | VarCommand::Get { settings, .. }
        | VarCommand::Forget { settings, .. } => settings,
    };
    let service = match service::service(settings, None, None) {
        Ok(service) => service,
        Err(code) => return code,
    };
    let listed = match &command {
        VarCommand::Set {
            name,
            value,
            secret,
            ..
        } => {
            let value = match (value, secret) {
                (Some(_), true) => {
                    err!("error: a secret value is read from stdin, never the command line (where the shell's history would keep it); pipe it in or paste it, then Ctrl-D.");
                    return service::EXIT_SETTINGS;
                }
                (Some(value), false) => value.clone(),
                (None, _) => match read_stdin("value") {
                    Ok(value) => value,
                    Err(code) => return code,
                },
            };
            service.set_variable(name, &value, *secret)
        }
        VarCommand::List { .. } => service.variables(),
        VarCommand::Get { name, .. } => {
            return match service.variable_value(name) {
                Ok(value) => {
                    out!("{}", value.secret());
                    0
                }
                Err(error) => fail(&error),
            }
        }
        VarCommand::Forget { name, .. } => service.forget_variable(name),
    };
    match listed {
        Ok(list) => {
            print_variables(&list);
            0
        }
        Err(error) => fail(&error),
    }
}

pub async fn import(command: ImportCommand) -> u8 {
    let (settings, kind, source) = match &command {
        ImportCommand::Curl { settings, .. } => (settings, None, ""),
        ImportCommand::Openapi { settings, source } => {
            (settings, Some(ImportKind::Openapi), source.as_str())
        }
        ImportCommand::Postman { settings, source } => {
            (settings, Some(ImportKind::Postman), source.as_str())
        }
    };
    let service = match service::service(settings, None, None) {
        Ok(service) => service,
        Err(code) => return code,
    };
    if let ImportCommand::Curl { command, save, .. } = &command {
        let imported = match service.import_curl(command) {
            Ok(imported) => imported,
            Err(error) => return fail(&error),
        };
        for note in &imported.notes {
            err!("Note: {note}");
        }
        return match save {
            Some(name) => match service.save_request(name, &imported.request) {
                Ok(_) => {
                    err!("Saved as {:?}.", name.trim());
                    0
                }
                Err(error) => fail(&error),
            },
            None => {
                print_request(&imported.request);
                0
            }
        };
    }
    let Some(kind) = kind else { return 0 };
    match service.import(kind, source).await {
        Ok(report) => {
            print_report(&report);
            0
        }
        Err(error) => fail(&error),
    }
}

fn print_request(r: &ApiRequest) {
    out!("{} {}", r.method.as_str(), r.url);
    for h in r.headers.iter().filter(|h| h.enabled) {
        out!("{}: {}", h.name, h.value);
    }
    match &r.body {
        RequestBody::None => {}
        RequestBody::Json { text } | RequestBody::Text { text } => {
            out!("");
            out!("{text}");
        }
        RequestBody::Form { fields } => {
            out!("");
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            for f in fields.iter().filter(|f| f.enabled) {
                form.append_pair(&f.name, &f.value);
            }
            out!("{}", form.finish());
        }
    }
    if !r.send_token {
        err!("Note: this request goes without Keyhole's token (--no-token).");
    }
}

fn print_report(report: &ImportReport) {
    out!("Imported {} request(s):", report.saved.len());
    for name in &report.saved {
        out!("  {name}");
    }
    if !report.variables.is_empty() {
        out!("Added variables: {}", report.variables.join(", "));
    }
    if !report.skipped.is_empty() {
        out!("Skipped {}:", report.skipped.len());
        for why in &report.skipped {
            out!("  {why}");
        }
    }
    for note in &report.notes {
        out!("Note: {note}");
    }
}
