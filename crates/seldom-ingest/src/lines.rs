//! Line framing: bytes in, `\n`-terminated lines of at most a bound out, a
//! longer line consumed to its end and reported once with its length but
//! never buffered. The one framing of text in seldom: [`read_line_bounded`]
//! drives a [`LineFramer`] over a reader (`scan`, HTTP bodies), and `seldom
//! serve`'s tailer drives one over each read of a followed file, keeping it
//! between reads, so that a line is a line, and too long, the same way in
//! both.

use std::io::{self, BufRead};

/// One line from a [`LineFramer`] or [`read_line_bounded`].
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A line, without its `\n` (the buffer holds it).
    Complete,
    /// A line longer than the bound; its bytes were read and dropped.
    TooLong {
        length: u64,
    },
    Eof,
}

/// Cuts bytes into lines, across as many pieces as they arrive in. The
/// line being read is kept in the caller's buffer while it is within the
/// bound; past it, only its length is kept.
#[derive(Debug, Clone)]
pub struct LineFramer {
    max: usize,
    /// Bytes of the current line so far (also those dropped).
    length: u64,
    /// The current line is past the bound: its bytes are dropped to its end.
    too_long: bool,
}

impl LineFramer {
    pub fn new(max: usize) -> Self {
        LineFramer {
            max,
            length: 0,
            too_long: false,
        }
    }

    /// Takes the bytes of `input` up to and including its first `\n`,
    /// adding those of the line to `line` while it stays within the bound
    /// (`line` is cleared as a line begins, and when the line outgrows the
    /// bound). Returns how many bytes it took, and what ended there if a
    /// line did.
    pub fn push(&mut self, input: &[u8], line: &mut Vec<u8>) -> (usize, Option<Line>) {
        if input.is_empty() {
            return (0, None);
        }
        if self.length == 0 && !self.too_long {
            line.clear();
        }
        let (chunk, newline) = match memchr::memchr(b'\n', input) {
            Some(at) => (&input[..at], true),
            None => (input, false),
        };
        self.length += chunk.len() as u64;
        if !self.too_long {
            if line.len() + chunk.len() <= self.max {
                line.extend_from_slice(chunk);
            } else {
                self.too_long = true;
                line.clear();
            }
        }
        let taken = chunk.len() + usize::from(newline);
        if !newline {
            return (taken, None);
        }
        let ended = if self.too_long {
            Line::TooLong {
                length: self.length,
            }
        } else {
            Line::Complete
        };
        self.restart_line();
        (taken, Some(ended))
    }

    /// The input ended: its last line, if it had no `\n`.
    pub fn finish(&mut self) -> Line {
        let ended = match (self.length, self.too_long) {
            (0, _) => Line::Eof,
            (length, true) => Line::TooLong { length },
            (_, false) => Line::Complete,
        };
        self.restart_line();
        ended
    }

    /// Whether no line is under way: the next byte begins one.
    pub fn at_line_start(&self) -> bool {
        self.length == 0 && !self.too_long
    }

    /// Whether the line being read is already past the bound: its bytes so
    /// far are dropped for good, and need not be read again.
    pub fn in_long_line(&self) -> bool {
        self.too_long
    }

    /// Forgets the line begun (the tailer reads an unfinished line again,
    /// whole, once its end is written).
    pub fn restart_line(&mut self) {
        self.length = 0;
        self.too_long = false;
    }
}

/// Reads one `\n`-terminated line into `buf`, never holding more than `max`
/// bytes: a longer line is consumed to its end and reported, not buffered.
pub fn read_line_bounded<R: BufRead>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<Line> {
    buf.clear();
    let mut framer = LineFramer::new(max);
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(framer.finish());
        }
        let (taken, ended) = framer.push(available, buf);
        reader.consume(taken);
        if let Some(line) = ended {
            return Ok(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Cursor};

    #[test]
    fn long_lines_are_dropped_and_the_next_line_survives() {
        let mut data = vec![b'x'; 10_000];
        data.extend_from_slice(b"\nshort\nlast");
        let mut reader = BufReader::with_capacity(64, Cursor::new(data));
        let mut buf = Vec::new();
        assert_eq!(
            read_line_bounded(&mut reader, &mut buf, 100).unwrap(),
            Line::TooLong { length: 10_000 }
        );
        assert!(buf.capacity() < 1000, "must not buffer the long line");
        assert_eq!(
            read_line_bounded(&mut reader, &mut buf, 100).unwrap(),
            Line::Complete
        );
        assert_eq!(buf, b"short");
        assert_eq!(
            read_line_bounded(&mut reader, &mut buf, 100).unwrap(),
            Line::Complete
        );
        assert_eq!(buf, b"last");
        assert_eq!(
            read_line_bounded(&mut reader, &mut buf, 100).unwrap(),
            Line::Eof
        );
    }

    /// Every way of cutting the same bytes into pieces frames the same lines.
    #[test]
    fn lines_do_not_depend_on_how_the_bytes_arrive() {
        let data = b"a\n\nexactly-10\nthis one is too long\nend\nunfinished";
        let frame = |piece: usize| {
            let mut framer = LineFramer::new(10);
            let mut line = Vec::new();
            let mut out = Vec::new();
            for chunk in data.chunks(piece) {
                let mut at = 0;
                while at < chunk.len() {
                    let (taken, ended) = framer.push(&chunk[at..], &mut line);
                    at += taken;
                    match ended {
                        Some(Line::Complete) => out.push(String::from_utf8(line.clone()).unwrap()),
                        Some(Line::TooLong { length }) => out.push(format!("<{length}>")),
                        Some(Line::Eof) | None => {}
                    }
                }
            }
            (out, framer.in_long_line(), line.clone())
        };
        let whole = frame(data.len());
        assert_eq!(
            whole.0,
            ["a", "", "exactly-10", "<20>", "end"],
            "a line at the bound is a line; one byte more is too long"
        );
        assert_eq!(whole.2, b"unfinished", "the unfinished line is kept");
        for piece in 1..data.len() {
            assert_eq!(frame(piece), whole, "in pieces of {piece}");
        }
    }

    #[test]
    fn an_unfinished_long_line_is_known_as_such() {
        let mut framer = LineFramer::new(4);
        let mut line = Vec::new();
        assert_eq!(framer.push(b"abc", &mut line), (3, None));
        assert!(!framer.in_long_line(), "still within the bound");
        assert_eq!(framer.push(b"defg", &mut line), (4, None));
        assert!(framer.in_long_line());
        assert!(line.is_empty(), "a long line's bytes are not kept");
        assert_eq!(
            framer.push(b"h\nnext", &mut line),
            (2, Some(Line::TooLong { length: 8 }))
        );
        assert_eq!(framer.push(b"next", &mut line), (4, None));
        assert_eq!(framer.finish(), Line::Complete);
        assert_eq!(line, b"next");
        assert_eq!(framer.finish(), Line::Eof);
    }
}
