//! Writing to stdout and stderr. A closed pipe (`keyhole-cli status | head -1`) ends the program
//! quietly with the conventional status 141 (128 + SIGPIPE) instead of a panic.

use std::io::Write;

/// The conventional exit status of a program whose output pipe was closed.
pub const EXIT_BROKEN_PIPE: i32 = 141;

/// Writes a line to stdout.
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::line(&mut std::io::stdout().lock(), format_args!($($arg)*)) };
}

/// Writes a line to stderr.
macro_rules! err {
    ($($arg:tt)*) => { $crate::output::line(&mut std::io::stderr().lock(), format_args!($($arg)*)) };
}

pub(crate) use {err, out};

pub fn line(to: &mut impl Write, args: std::fmt::Arguments<'_>) {
    let written = to.write_fmt(args).and_then(|()| to.write_all(b"\n"));
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            std::process::exit(EXIT_BROKEN_PIPE)
        }
        // Nowhere left to report it: a full disk behind a redirect, say.
        Err(_) => std::process::exit(74),
    }
}
