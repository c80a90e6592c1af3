//! `keyhole-cli`: the terminal front end of the Keyhole engine.

mod account;
mod call;
mod cli;
mod docs;
mod import;
mod mcp;
mod service;
#[macro_use]
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KEYHOLE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = cli::Cli::parse();
    // One thread: a CLI run does one thing at a time, and starts faster without a worker pool.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            output::err!("error: could not start the async runtime: {e}");
            return ExitCode::from(70);
        }
    };
    let code = runtime.block_on(async {
        let command = async {
            match cli.command {
                cli::Command::Call(args) => call::run(args).await,
                cli::Command::SignIn(args) => account::sign_in(args).await,
                cli::Command::Status(args) => account::status(args).await,
                cli::Command::SignOut(args) => account::sign_out(args).await,
                cli::Command::Token(args) => account::token(args).await,
                cli::Command::Key(command) => account::key(command).await,
                cli::Command::Profile(command) => account::profile(command),
                cli::Command::Var(command) => import::var(command),
                cli::Command::Import(command) => import::import(command).await,
                cli::Command::Mcp(command) => mcp::run(command).await,
                cli::Command::Completions { shell } => docs::completions(shell),
                cli::Command::Man { out_dir } => docs::man(out_dir.as_deref()),
            }
        };
        // Ctrl-C ends whatever is running at once — a sign-in, a renewal, the API call — with
        // the conventional status; dropping the command closes its listener and connections.
        tokio::select! {
            code = command => code,
            _ = tokio::signal::ctrl_c() => {
                output::err!("Cancelled.");
                service::EXIT_CANCELLED
            }
        }
    });
    ExitCode::from(code)
}
