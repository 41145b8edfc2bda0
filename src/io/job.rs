//! A [`Job`]'s input read and its output written, wherever they are: a
//! file, stdin, stdout.

use std::io::{Read as _, Write as _};

use image::DynamicImage;

use super::paths::{Job, Sink, Source};
use super::{
    DecodeOptions, Format, Header, create_parent, encode::encode, open_bytes, open_file,
    write_atomic,
};
use crate::error::{Error, Result};

impl Job {
    /// Reads the input's header (stdin is read whole first); see [`open_file`].
    pub fn open(&self, options: &DecodeOptions) -> Result<Header> {
        match &self.source {
            Source::File(path) => open_file(path, options),
            Source::Stdin => {
                let mut bytes = Vec::new();
                std::io::stdin()
                    .lock()
                    .read_to_end(&mut bytes)
                    .map_err(|e| Error::io("reading stdin", e))?;
                open_bytes(bytes, options)
            }
        }
    }

    /// Encodes `img` and writes it: to stdout, or atomically to its file
    /// (see [`write_atomic`]), creating the file's folder.
    pub fn write(&self, img: &DynamicImage, format: Format, quality: u8) -> Result<()> {
        match &self.sink {
            Sink::Stdout => {
                let mut bytes = Vec::new();
                encode(&mut bytes, img, format, quality)?;
                let mut out = std::io::stdout().lock();
                out.write_all(&bytes)
                    .and_then(|()| out.flush())
                    .map_err(|e| Error::io("writing to stdout", e))
            }
            Sink::File(path) => {
                create_parent(path)?;
                write_atomic(path, |w| encode(w, img, format, quality))
                    .map_err(|e| e.context(format_args!("writing {}", path.display())))
            }
        }
    }
}
