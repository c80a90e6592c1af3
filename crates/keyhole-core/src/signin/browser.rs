//! Opening the authorization URL in the system browser — swappable, so tests and users can choose
//! what "the browser" is.

use std::process::{Command, Stdio};

use url::Url;

/// Something that can show the user a URL. Failing is not fatal to a sign-in: the flow keeps
/// waiting and shows the URL for the user to open by hand.
pub trait Browser: Send + Sync {
    /// Opens `url`; the error says why it could not.
    fn open(&self, url: &Url) -> Result<(), String>;

    /// False when this browser cannot work on this machine at all (e.g. no display), so a
    /// sign-in should offer another method instead of waiting.
    fn available(&self) -> bool {
        true
    }
}

/// True when this machine has no display to open a browser on (Linux/BSD without X11 or
/// Wayland, e.g. over SSH); macOS and Windows always have one.
fn no_display() -> bool {
    cfg!(all(unix, not(target_os = "macos")))
        && std::env::var_os("DISPLAY").is_none_or(|v| v.is_empty())
        && std::env::var_os("WAYLAND_DISPLAY").is_none_or(|v| v.is_empty())
}

/// The desktop's default browser, through the `open` crate (xdg-open, gio, … on Linux).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemBrowser;

impl Browser for SystemBrowser {
    fn open(&self, url: &Url) -> Result<(), String> {
        // Detached: some launchers block until the browser exits.
        open::that_detached(url.as_str()).map_err(|e| format!("no browser could be opened ({e})"))
    }

    fn available(&self) -> bool {
        !no_display()
    }
}

/// A command that gets the URL as its last argument, like `$BROWSER` (e.g. `firefox --new-window`).
#[derive(Debug, Clone)]
pub struct CommandBrowser {
    program: String,
    args: Vec<String>,
}

impl CommandBrowser {
    /// Splits `command` on whitespace into a program and its arguments.
    pub fn parse(command: &str) -> Option<CommandBrowser> {
        let mut words = command.split_whitespace().map(str::to_owned);
        Some(CommandBrowser {
            program: words.next()?,
            args: words.collect(),
        })
    }
}

impl Browser for CommandBrowser {
    fn open(&self, url: &Url) -> Result<(), String> {
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .arg(url.as_str())
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("could not start {:?} ({e})", self.program))?;
        // Reap it whenever it ends, without making the flow wait for it.
        std::thread::spawn(move || child.wait());
        Ok(())
    }
}

impl<F> Browser for F
where
    F: Fn(&Url) -> Result<(), String> + Send + Sync,
{
    fn open(&self, url: &Url) -> Result<(), String> {
        self(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_browser_command_fails_at_once_with_its_name() {
        let browser = CommandBrowser::parse("/nonexistent/browser --flag").unwrap();
        let url = Url::parse("https://example.test/").unwrap();
        let error = browser.open(&url).unwrap_err();
        assert!(error.contains("/nonexistent/browser"), "{error}");
        assert!(CommandBrowser::parse("   ").is_none());
    }
}
