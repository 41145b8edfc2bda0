//! Checks of a file's chunks before the image crate's decoder sees it,
//! for malformed files that decoder mishandles; both found by fuzzing
//! (fuzz/regressions/image):
//!
//! - WebP: the decoder takes no memory limit and allocates what a chunk's
//!   header claims (an EXIF chunk "of 4 GB" in a 400-byte file) before
//!   reading it. A chunk that ends past the end of the file is refused.
//! - PNG: the png crate panics on a palette (PLTE) whose length is not a
//!   multiple of 3. Such a palette is refused.

use std::io::{Read, Seek, SeekFrom};

use crate::error::{Result, bail};

/// Checks that every chunk of a RIFF/WebP file ends within it.
pub fn check_webp(bytes: &[u8]) -> Result<()> {
    let u32_at = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as u64)
    };
    let Some(riff) = u32_at(4) else {
        bail!(Input, "truncated WebP: no RIFF header");
    };
    // The RIFF size counts from after its own field.
    let end = (riff + 8).min(bytes.len() as u64);
    let mut at = 12u64;
    while at + 8 <= end {
        let size = u32_at(at as usize + 4).expect("within the file");
        let chunk_end = at + 8 + size + (size & 1);
        if at + 8 + size > bytes.len() as u64 {
            let fourcc = String::from_utf8_lossy(&bytes[at as usize..at as usize + 4]);
            bail!(
                Input,
                "truncated or corrupt WebP: its {fourcc:?} chunk claims {size} bytes, past the \
                 end of the {}-byte file",
                bytes.len()
            );
        }
        at = chunk_end;
    }
    Ok(())
}

/// Checks the PNG's palette length, reading only chunk headers; leaves
/// `reader` at the start. A truncated file is left to the decoder.
pub fn check_png<R: Read + Seek>(reader: &mut R) -> Result<()> {
    let io = |e: std::io::Error| crate::Error::io("reading the PNG", e);
    let mut at = reader.seek(SeekFrom::Start(8)).map_err(io)?;
    let mut header = [0u8; 8];
    while reader.read_exact(&mut header).is_ok() {
        let len = u32::from_be_bytes(header[..4].try_into().expect("4 bytes"));
        let kind = &header[4..];
        if kind == b"PLTE" && (len % 3 != 0 || len == 0 || len > 768) {
            bail!(
                Input,
                "corrupt PNG: its palette is {len} bytes, not 1 to 256 RGB entries"
            );
        }
        if kind == b"IEND" {
            break;
        }
        // Chunk data and its CRC.
        at += 8 + u64::from(len) + 4;
        reader.seek(SeekFrom::Start(at)).map_err(io)?;
    }
    reader.seek(SeekFrom::Start(0)).map_err(io)?;
    Ok(())
}
