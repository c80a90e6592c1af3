//! The lists of commands that cannot be generated from `src-tauri/src/command_list.rs` agree
//! with it: the capability allows each command once (`allow-<name>`, `-` for `_`) and `ui/api.js`
//! invokes each once, and neither names a command that is not in the list.

use std::collections::BTreeMap;

#[macro_use]
#[path = "../src/command_list.rs"]
mod command_list;

const COMMANDS: &[&str] = with_commands!(command_names);

const CAPABILITY: &str = "src-tauri/capabilities/default.json";
const API_JS: &str = "ui/api.js";

fn read(relative: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The app's own permissions in a capability file: those without a `plugin:` or `core:` prefix.
fn app_permissions(capability: &str) -> Vec<String> {
    let json: serde_json::Value =
        serde_json::from_str(capability).unwrap_or_else(|e| panic!("{CAPABILITY}: {e}"));
    let permissions = json["permissions"]
        .as_array()
        .unwrap_or_else(|| panic!("{CAPABILITY} has no \"permissions\" list"));
    permissions
        .iter()
        // A permission is a string or an object with an identifier (scoped permissions).
        .map(|p| {
            p.as_str()
                .or_else(|| p["identifier"].as_str())
                .unwrap_or("")
        })
        .filter(|p| !p.contains(':'))
        .map(str::to_owned)
        .collect()
}

/// Every string literal `invoke(` is called with in `js`.
fn invoked(js: &str) -> Vec<String> {
    js.match_indices("invoke(")
        .filter_map(|(at, call)| {
            let rest = js[at + call.len()..].trim_start();
            let quote = rest
                .chars()
                .next()
                .filter(|c| matches!(c, '"' | '\'' | '`'))?;
            let name = &rest[1..];
            Some(name[..name.find(quote)?].to_owned())
        })
        .collect()
}

/// One line per disagreement between `COMMANDS` and the names `found` in `place`, where
/// `entry` is how a command is written there.
fn disagreements(place: &str, found: &[String], entry: impl Fn(&str) -> String) -> Vec<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for name in found {
        *counts.entry(name).or_default() += 1;
    }
    let mut problems = Vec::new();
    for command in COMMANDS {
        let expected = entry(command);
        match counts.remove(expected.as_str()).unwrap_or(0) {
            1 => {}
            0 => problems.push(format!("{command}: {place} has no {expected}")),
            n => problems.push(format!("{command}: {place} has {expected} {n} times")),
        }
    }
    for (extra, _) in counts {
        problems.push(format!(
            "{place} has {extra}, which is no command of src-tauri/src/command_list.rs"
        ));
    }
    problems
}

fn capability_disagreements(capability: &str) -> Vec<String> {
    disagreements(CAPABILITY, &app_permissions(capability), allow)
}

fn api_disagreements(js: &str) -> Vec<String> {
    let calls: Vec<String> = invoked(js).iter().map(|name| call(name)).collect();
    disagreements(API_JS, &calls, call)
}

fn call(command: &str) -> String {
    format!("invoke(\"{command}\")")
}

#[test]
fn the_capability_allows_each_command_once_and_nothing_else() {
    let problems = capability_disagreements(&read(CAPABILITY));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_ui_invokes_each_command_once_and_nothing_else() {
    let problems = api_disagreements(&read(API_JS));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// The checks themselves, on files made from the list and then broken on purpose (so they do not
// depend on today's command names).

fn allow(command: &str) -> String {
    format!("allow-{}", command.replace('_', "-"))
}

/// A capability that allows `commands` (and listening to events, which is no app command).
fn capability_of(commands: &[String]) -> String {
    let mut permissions = vec!["core:event:allow-listen".to_owned()];
    permissions.extend(commands.iter().map(|c| allow(c)));
    serde_json::json!({ "identifier": "default", "permissions": permissions }).to_string()
}

/// An api.js that invokes `commands`, one function each, as ui/api.js does.
fn api_of(commands: &[String]) -> String {
    let mut js =
        "async function invoke(command, args) { return tauri().core.invoke(command, args); }\n"
            .to_owned();
    for (i, command) in commands.iter().enumerate() {
        js += &format!(
            "export async function f{i}(x) {{ return invoke(\"{command}\", {{ x }}); }}\n"
        );
    }
    js
}

fn listed() -> Vec<String> {
    COMMANDS.iter().map(|c| (*c).to_owned()).collect()
}

#[test]
fn files_made_from_the_list_agree_with_it() {
    assert_eq!(
        capability_disagreements(&capability_of(&listed())),
        [] as [String; 0]
    );
    assert_eq!(api_disagreements(&api_of(&listed())), [] as [String; 0]);
}

#[test]
fn a_command_missing_from_the_capability_is_named() {
    let mut commands = listed();
    let dropped = commands.remove(commands.len() / 2);
    assert_eq!(
        capability_disagreements(&capability_of(&commands)),
        [format!(
            "{dropped}: {CAPABILITY} has no {}",
            allow(&dropped)
        )]
    );
}

#[test]
fn a_permission_for_no_command_and_a_repeated_one_are_named() {
    let mut commands = listed();
    let repeated = commands[0].clone();
    commands.push(repeated.clone());
    commands.push("forget_everything".to_owned());
    assert_eq!(
        capability_disagreements(&capability_of(&commands)),
        [
            format!("{repeated}: {CAPABILITY} has {} 2 times", allow(&repeated)),
            format!(
                "{CAPABILITY} has allow-forget-everything, which is no command of \
                 src-tauri/src/command_list.rs"
            ),
        ]
    );
}

#[test]
fn a_command_the_ui_does_not_invoke_or_one_it_invokes_that_is_not_listed_is_named() {
    let mut commands = listed();
    let renamed = std::mem::replace(&mut commands[1], "sign_in_by_code".to_owned());
    assert_eq!(
        api_disagreements(&api_of(&commands)),
        [
            format!("{renamed}: {API_JS} has no invoke(\"{renamed}\")"),
            format!(
                "{API_JS} has invoke(\"sign_in_by_code\"), which is no command of \
                 src-tauri/src/command_list.rs"
            ),
        ]
    );
}
