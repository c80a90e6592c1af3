//! `completions` and `man`: generated from the clap definitions in `cli.rs`, so they never drift
//! from `--help`. The .deb installs their output (scripts/bundle).

use std::path::Path;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::output::err;

pub fn completions(shell: clap_complete::Shell) -> u8 {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "keyhole-cli", &mut script);
    write_stdout(&script)
}

pub fn man(out_dir: Option<&Path>) -> u8 {
    let command = Cli::command();
    let Some(dir) = out_dir else {
        let mut page = Vec::new();
        if let Err(e) = clap_mangen::Man::new(command).render(&mut page) {
            err!("error: could not render the man page: {e}");
            return 70;
        }
        return write_stdout(&page);
    };
    // Subcommand pages are named keyhole-cli-<name> and their SYNOPSIS says `keyhole-cli-<name>`;
    // clap_mangen's generate_to does both.
    match std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(command, dir)) {
        Ok(()) => 0,
        Err(e) => {
            err!("error: could not write man pages to {}: {e}", dir.display());
            74
        }
    }
}

fn write_stdout(bytes: &[u8]) -> u8 {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            crate::output::EXIT_BROKEN_PIPE as u8
        }
        Err(_) => 74,
    }
}
