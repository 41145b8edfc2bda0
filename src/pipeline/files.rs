//! [`Steps`] for files and streams as `u2cut remove` has them: each
//! [`Job`] read from its file or stdin, its output encoded and written to
//! its file (atomically) or stdout.

use image::RgbaImage;

use super::Steps;
use crate::Result;
use crate::io::paths::Job;
use crate::io::{DecodeOptions, Format, Header};
use crate::remove::Removed;

/// Reads and writes [`Job`]s; the outcome's output is `()`, the file
/// being written.
#[derive(Clone, Copy, Debug)]
pub struct Files {
    /// What an input may be (see [`crate::io::open_file`]).
    pub decode: DecodeOptions,
    pub format: Format,
    /// JPEG's quality (1..=100).
    pub quality: u8,
}

impl Steps for Files {
    type Item = Job;
    type Opened = Header;
    type Output = ();

    fn open(&self, job: &mut Job) -> Result<Header> {
        job.open(&self.decode)
    }

    fn encode(&self, job: &Job, _: RgbaImage, removed: Removed) -> Result<()> {
        job.write(&removed.into_image(), self.format, self.quality)
    }
}
