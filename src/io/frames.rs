//! Raw video frames: rgb24 frames back to back in a byte stream (what
//! `ffmpeg -f rawvideo -pix_fmt rgb24 pipe:1` writes), read one by one, and
//! the printf-style patterns (`out-%06d.png`) that number frame files.

use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result, bail};

/// One frame of a stream, as read: its pixels, or what was wrong where it
/// should have been (a partial frame at the end, a read error).
#[derive(Debug)]
pub struct Frame {
    /// The frame's place in the stream, from 0.
    pub number: u64,
    pub width: u32,
    pub height: u32,
    /// Packed rgb24, `width * height * 3` bytes; taken when the frame is
    /// opened.
    pub pixels: Result<Vec<u8>>,
}

/// The frames of a stream, in order: whole frames, then at most one
/// frame carrying the error that ended the stream (a partial frame, or a
/// failed read).
pub struct RawFrames<R> {
    reader: R,
    /// The stream, as errors name it ("stdin", "ffmpeg's output").
    name: String,
    width: u32,
    height: u32,
    next: u64,
    done: bool,
}

impl<R: Read> RawFrames<R> {
    /// Frames of `width` x `height` from `reader`, which errors call `name`.
    pub fn new(reader: R, name: impl Into<String>, width: u32, height: u32) -> Result<Self> {
        if width == 0 || height == 0 {
            bail!(Input, "a frame of {width}x{height} has no pixels");
        }
        Ok(Self {
            reader,
            name: name.into(),
            width,
            height,
            next: 0,
            done: false,
        })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// Bytes in one frame.
    pub fn frame_bytes(&self) -> usize {
        self.width as usize * self.height as usize * 3
    }

    /// Fills `buf` as far as the stream goes; returns the bytes read.
    fn fill(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.reader.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(filled)
    }
}

impl<R: Read> Iterator for RawFrames<R> {
    type Item = Frame;

    fn next(&mut self) -> Option<Frame> {
        if self.done {
            return None;
        }
        let number = self.next;
        self.next += 1;
        let size = self.frame_bytes();
        let mut pixels = vec![0; size];
        let pixels = match self.fill(&mut pixels) {
            Ok(n) if n == size => Ok(pixels),
            Ok(0) => {
                self.done = true;
                return None;
            }
            Ok(n) => {
                self.done = true;
                Err(Error::Input(format!(
                    "{}: the stream ends in a partial frame (frame {number}): {n} bytes \
                     of the {size} that a {}x{} rgb24 frame has",
                    self.name, self.width, self.height
                )))
            }
            Err(e) => {
                self.done = true;
                Err(Error::io(
                    format_args!("reading frame {number} from {}", self.name),
                    e,
                ))
            }
        };
        Some(Frame {
            number,
            width: self.width,
            height: self.height,
            pixels,
        })
    }
}

/// A file name with one printf-style integer field (`%d`, `%06d`), as
/// ffmpeg and rembg's `b` number frame files; `%%` is a literal `%`.
#[derive(Clone, Debug)]
pub struct FramePattern {
    before: String,
    width: usize,
    after: String,
}

impl FramePattern {
    /// Parses `pattern`; it needs exactly one `%d` or `%0Nd`.
    pub fn parse(pattern: &Path) -> Result<Self> {
        let text = pattern.to_str().ok_or_else(|| {
            Error::Input(format!("{}: the pattern is not UTF-8", pattern.display()))
        })?;
        let mut parts = Vec::new();
        let mut field = None;
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                literal.push(c);
                continue;
            }
            if chars.peek() == Some(&'%') {
                chars.next();
                literal.push('%');
                continue;
            }
            let mut digits = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(*d);
                chars.next();
            }
            let width = match (chars.next(), digits.as_str()) {
                (Some('d'), "") => 0,
                (Some('d'), d) if d.starts_with('0') && d.len() <= 3 => {
                    d.parse().expect("ASCII digits")
                }
                _ => bail!(
                    Input,
                    "{text}: a frame pattern takes %d or %0Nd (e.g. out-%06d.png), and `%%` for a %"
                ),
            };
            if field.replace(width).is_some() {
                bail!(Input, "{text}: a frame pattern takes one %d field, not two");
            }
            parts.push(std::mem::take(&mut literal));
        }
        let Some(width) = field else {
            bail!(
                Input,
                "{text}: a frame pattern needs a %d or %0Nd field for the frame number \
                 (e.g. out-%06d.png)"
            );
        };
        Ok(Self {
            before: parts.pop().expect("one part before the field"),
            width,
            after: literal,
        })
    }

    /// Frame `number`'s path.
    pub fn path(&self, number: u64) -> PathBuf {
        PathBuf::from(format!(
            "{}{number:0width$}{}",
            self.before,
            self.after,
            width = self.width
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(bytes: &[u8], w: u32, h: u32) -> Vec<Frame> {
        RawFrames::new(bytes, "stdin", w, h).unwrap().collect()
    }

    #[test]
    fn whole_frames_come_in_order_and_a_partial_one_is_an_error() {
        let bytes: Vec<u8> = (0..2 * 12 + 5).map(|i| i as u8).collect();
        let got = frames(&bytes, 2, 2);
        assert_eq!(got.len(), 3);
        assert_eq!(got[1].number, 1);
        assert_eq!(got[1].pixels.as_ref().unwrap()[0], 12);
        let err = got[2].pixels.as_ref().unwrap_err().to_string();
        assert!(
            err.contains("partial frame (frame 2): 5 bytes of the 12"),
            "{err}"
        );
        assert!(frames(&bytes[..24], 2, 2).iter().all(|f| f.pixels.is_ok()));
        assert!(frames(&[], 2, 2).is_empty());
    }

    #[test]
    fn patterns_number_frames_as_printf_does() {
        let p = FramePattern::parse(Path::new("out/f-%06d.png")).unwrap();
        assert_eq!(p.path(42), Path::new("out/f-000042.png"));
        let p = FramePattern::parse(Path::new("100%%-%d.png")).unwrap();
        assert_eq!(p.path(7), Path::new("100%-7.png"));
        for bad in ["out.png", "%d-%d.png", "%s.png", "%6d.png"] {
            assert!(FramePattern::parse(Path::new(bad)).is_err(), "{bad}");
        }
    }
}
