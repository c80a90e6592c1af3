//! Server-Sent Events, read as the bytes arrive (the WHATWG "event stream" format): lines ending
//! in LF, CRLF or CR; `data:` lines joined with LF; a blank line ends an event; lines starting
//! with `:` are comments (keep-alives). Only `data` matters to MCP; `event`, `id` and `retry`
//! are read and dropped. Bounded: a line or event longer than the cap is an error, not a buffer
//! that grows.

/// An incremental parser: feed it chunks, take whole events' data.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    line: Vec<u8>,
    data: Vec<u8>,
    has_data: bool,
    /// The last chunk ended in CR: a LF that starts the next one belongs to it.
    after_cr: bool,
}

/// An event's data grew past the cap.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TooLong;

impl SseParser {
    /// Feeds `chunk`; returns the data of each event it completed. Err when a line or an
    /// event's data would exceed `cap` bytes.
    pub(crate) fn feed(&mut self, chunk: &[u8], cap: usize) -> Result<Vec<Vec<u8>>, TooLong> {
        let mut events = Vec::new();
        let mut rest = chunk;
        if self.after_cr {
            self.after_cr = false;
            rest = rest.strip_prefix(b"\n").unwrap_or(rest);
        }
        while !rest.is_empty() {
            match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
                Some(end) => {
                    self.take(&rest[..end], cap)?;
                    let line = std::mem::take(&mut self.line);
                    if let Some(data) = self.line_done(&line, cap)? {
                        events.push(data);
                    }
                    let crlf = rest[end] == b'\r';
                    rest = &rest[end + 1..];
                    if crlf {
                        match rest.first() {
                            Some(b'\n') => rest = &rest[1..],
                            Some(_) => {}
                            None => self.after_cr = true,
                        }
                    }
                }
                None => {
                    self.take(rest, cap)?;
                    rest = &[];
                }
            }
        }
        Ok(events)
    }

    /// Adds `part` to the line being read, within the cap.
    fn take(&mut self, part: &[u8], cap: usize) -> Result<(), TooLong> {
        if self.line.len() + self.data.len() + part.len() > cap {
            return Err(TooLong);
        }
        self.line.extend_from_slice(part);
        Ok(())
    }

    fn line_done(&mut self, line: &[u8], cap: usize) -> Result<Option<Vec<u8>>, TooLong> {
        if line.is_empty() {
            // Dispatch: an event without data lines is no event.
            let had = std::mem::take(&mut self.has_data);
            let data = std::mem::take(&mut self.data);
            return Ok(had.then_some(data));
        }
        if line[0] == b':' {
            return Ok(None);
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(at) => {
                let value = &line[at + 1..];
                (&line[..at], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        if field == b"data" {
            if self.has_data {
                self.data.push(b'\n');
            }
            if self.data.len() + value.len() > cap {
                return Err(TooLong);
            }
            self.data.extend_from_slice(value);
            self.has_data = true;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&[u8]]) -> Vec<String> {
        let mut parser = SseParser::default();
        let mut out = Vec::new();
        for chunk in chunks {
            for data in parser.feed(chunk, 1024).unwrap() {
                out.push(String::from_utf8(data).unwrap());
            }
        }
        out
    }

    #[test]
    fn events_are_read_across_chunks_with_any_line_ending() {
        assert_eq!(
            all(&[
                b"event: message\ndata: {\"a\"",
                b":1}\n\n: keep-alive\n\ndata: x\r\ndata:y\r",
                b"\n\r\n"
            ]),
            ["{\"a\":1}", "x\ny"]
        );
        // A comment-only or field-only block is no event; an unfinished one is not yet.
        assert!(all(&[b": hi\n\nevent: x\nid: 3\n\ndata: pending"]).is_empty());
    }

    #[test]
    fn an_event_past_the_cap_is_an_error_not_a_growing_buffer() {
        let mut parser = SseParser::default();
        let big = vec![b'x'; 600];
        assert!(parser.feed(b"data: ", 1000).unwrap().is_empty());
        parser.feed(&big, 1000).unwrap();
        assert_eq!(
            parser.feed(b"\ndata: ", 1000).unwrap(),
            Vec::<Vec<u8>>::new()
        );
        assert_eq!(parser.feed(&big, 1000), Err(TooLong));
    }
}
