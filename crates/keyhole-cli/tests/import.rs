//! `keyhole-cli var …` and `keyhole-cli import …` as processes against the real sandbox: variables
//! resolved in a call (a secret one reaching the API but never the profiles file, the output or
//! the copied curl command), and curl, Postman and OpenAPI (from the sandbox's own URL) imports.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use keyhole_sandbox::Sandbox;

use common::{failed_with, json, settings, text, Cli};

const SECRET: &str = "var-S3cr3t-9f2c";

fn cli_with_profile(test: &str, sandbox: &Sandbox) -> Cli {
    let cli = Cli::new(test).with_config_dir();
    let mut save = vec!["profile", "save", "work", "--api-url", &sandbox.api.echo];
    save.extend(settings(sandbox));
    cli.run_ok(&save);
    cli
}

fn with_stdin(cli: &Cli, args: &[&str], input: &str) -> std::process::Output {
    let mut child = cli
        .command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("keyhole-cli starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("written");
    child.wait_with_output().expect("keyhole-cli ends")
}

fn profiles_file(cli: &Cli) -> String {
    std::fs::read_to_string(cli.config_dir().join("profiles.json")).expect("profiles.json")
}

#[test]
fn variables_resolve_in_a_call_and_a_secret_stays_in_the_keychain() {
    let sandbox = keyhole_sandbox::shared();
    let cli = cli_with_profile("vars", sandbox);
    let p = ["--profile", "work"];
    let set = |args: &[&str]| cli.run_ok(&[&["var", "set"], args, &p].concat());
    set(&["trace", "from-a-variable"]);
    let out = with_stdin(
        &cli,
        &["var", "set", "key", "--secret", "--profile", "work"],
        &format!("{SECRET}\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // A secret on the command line is refused: the shell's history would keep it.
    let refused = failed_with(
        &cli.run(&[
            "var",
            "set",
            "key",
            "x-y-z-w",
            "--secret",
            "--profile",
            "work",
        ]),
        2,
    );
    assert!(refused.contains("stdin"), "{refused}");
    let bad = failed_with(
        &cli.run(&["var", "set", "1bad", "v", "--profile", "work"]),
        2,
    );
    assert!(bad.contains("not a variable name"), "{bad}");

    let list = cli.run_ok(&["var", "list", "--profile", "work"]);
    assert!(list.contains("trace\tplain\tfrom-a-variable"), "{list}");
    assert!(list.contains("key\tsecret\t••••••••"), "{list}");
    assert!(!list.contains(SECRET), "{list}");
    assert_eq!(
        cli.run_ok(&["var", "get", "key", "--profile", "work"])
            .trim(),
        SECRET
    );
    assert!(
        !profiles_file(&cli).contains(SECRET),
        "the profiles file holds no secret"
    );

    // The call resolves both: the API sees the values, the answer shown blanks the secret.
    let url = format!("{}?trace={{{{trace}}}}", sandbox.api.echo);
    let call = cli.run(&[
        "call",
        "--profile",
        "work",
        "--no-token",
        "--api-url",
        &url,
        "-H",
        "X-Trace: {{trace}}",
        "-H",
        "X-Key: k={{key}}",
        "-X",
        "POST",
        "-d",
        r#"{"k":"{{key}}"}"#,
    ]);
    let seen = json(&call);
    assert_eq!(seen["headers"]["x-trace"], "from-a-variable");
    assert_eq!(seen["query"]["trace"], "from-a-variable");
    assert_eq!(
        seen["headers"]["x-key"], "k=<secret key>",
        "resolved, then blanked"
    );
    assert_eq!(seen["body"], r#"{"k":"<secret key>"}"#);
    assert!(!text(&call.stdout).contains(SECRET) && !text(&call.stderr).contains(SECRET));

    // Copy as curl: the secret comes from `keyhole-cli var get`, and the command runs.
    let curl = cli.run_ok(&[
        "call",
        "--profile",
        "work",
        "--no-token",
        "--curl",
        "--api-url",
        &sandbox.api.echo,
        "-H",
        "X-Key: {{key}}",
        "-H",
        "X-Trace: {{trace}}",
    ]);
    assert!(!curl.contains(SECRET), "{curl}");
    assert!(
        curl.contains("KEYHOLE_VAR_KEY=\"$(keyhole-cli var get --profile work"),
        "{curl}"
    );
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_keyhole-cli"))
        .parent()
        .expect("bin dir");
    let shell = Command::new("sh")
        .args(["-c", curl.trim()])
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin_dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("KEYHOLE_KEYCHAIN_SERVICE", &cli.service)
        .env("KEYHOLE_CONFIG_DIR", cli.config_dir())
        .output()
        .expect("sh runs");
    assert!(shell.status.success(), "{}", text(&shell.stderr));
    let pasted: serde_json::Value = serde_json::from_slice(&shell.stdout).expect("JSON");
    assert_eq!(
        pasted["headers"]["x-key"], SECRET,
        "the shell read the secret itself"
    );
    assert_eq!(pasted["headers"]["x-trace"], "from-a-variable");

    // An unknown variable: one sentence naming it, nothing sent.
    let unknown = failed_with(
        &cli.run(&[
            "call",
            "--profile",
            "work",
            "--no-token",
            "-H",
            "X-A: {{nope}}",
        ]),
        2,
    );
    assert!(
        unknown.contains("{{nope}}") && unknown.contains("header"),
        "{unknown}"
    );

    cli.run_ok(&["var", "forget", "key", "--profile", "work"]);
    let gone = failed_with(&cli.run(&["var", "get", "key", "--profile", "work"]), 2);
    assert!(gone.contains("has no variable \"key\""), "{gone}");
}

#[test]
fn a_curl_command_is_printed_or_saved_without_its_token() {
    let sandbox = keyhole_sandbox::shared();
    let cli = cli_with_profile("import-curl", sandbox);
    let command = format!(
        "curl -X PUT '{}?a=1' -H 'Authorization: Bearer eyJ.curl-token.sig' -H 'X-Trace: pasted' --data-raw '{{\"n\":1}}' --compressed",
        sandbox.api.echo
    );
    let out = cli.run(&["import", "curl", &command]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with(&format!("PUT {}?a=1\n", sandbox.api.echo)),
        "{stdout}"
    );
    assert!(stdout.contains("X-Trace: pasted"), "{stdout}");
    assert!(stdout.contains(r#"{"n":1}"#), "{stdout}");
    assert!(stderr.contains("replaced by Keyhole's own"), "{stderr}");
    assert!(!stdout.contains("curl-token") && !stderr.contains("curl-token"));
    cli.run_ok(&[
        "import",
        "curl",
        &command,
        "--save",
        "pasted",
        "--profile",
        "work",
    ]);
    let file = profiles_file(&cli);
    assert!(
        file.contains("\"pasted\"") && !file.contains("curl-token"),
        "{file}"
    );
    let bad = failed_with(
        &cli.run(&["import", "curl", "curl --bogus https://x.test/"]),
        2,
    );
    assert!(
        bad.contains("--bogus is not something Keyhole imports"),
        "{bad}"
    );
}

#[test]
fn openapi_from_the_sandbox_url_and_a_postman_file_become_saved_requests() {
    let sandbox = keyhole_sandbox::shared();
    let cli = cli_with_profile("import-docs", sandbox);
    let openapi = sandbox.api.echo.replace("/echo", "/openapi.json");
    let report = cli.run_ok(&["import", "openapi", &openapi, "--profile", "work"]);
    assert!(report.starts_with("Imported 3 request(s):"), "{report}");
    for name in ["echoGet", "echoPost", "GET /protected-endpoint"] {
        assert!(report.contains(&format!("  {name}\n")), "{name}: {report}");
    }
    // Sent by name: the example header and query reach the API.
    let seen = json(&cli.run(&[
        "call",
        "--profile",
        "work",
        "--saved",
        "echoGet",
        "--no-token",
    ]));
    assert_eq!(seen["headers"]["x-trace"], "from-openapi");
    assert_eq!(seen["query"]["page"], "1");
    // Again: nothing is overwritten.
    let again = cli.run_ok(&["import", "openapi", &openapi, "--profile", "work"]);
    assert!(again.contains("  echoGet (2)\n"), "{again}");
    assert!(again.contains("nothing was overwritten"), "{again}");

    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../keyhole-core/tests/fixtures/import/collection.postman.json");
    let report = cli.run_ok(&[
        "import",
        "postman",
        fixture.to_str().expect("path"),
        "--profile",
        "work",
    ]);
    assert!(report.contains("  Items / Nested / Search\n"), "{report}");
    assert!(report.contains("Added variables: base, trace"), "{report}");
    assert!(report.contains("bad name"), "{report}");
    assert!(report.contains("replaced by Keyhole's own"), "{report}");
    assert!(!profiles_file(&cli).contains("postman-secret"));

    let missing = failed_with(
        &cli.run(&[
            "import",
            "openapi",
            "/nonexistent/doc.yaml",
            "--profile",
            "work",
        ]),
        2,
    );
    assert!(missing.contains("could not be read"), "{missing}");
    let no_profile = failed_with(&cli.run(&["import", "openapi", &openapi]), 2);
    assert!(
        no_profile.contains("save these settings as a profile"),
        "{no_profile}"
    );
}
