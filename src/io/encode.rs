//! Encoding outputs, and writing files so that a killed run leaves no
//! partial file: each output is written to a hidden temporary file in its
//! own folder and renamed over the final name once complete. Failing to
//! write is [`Error::Io`].

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ImageEncoder as _, ImageError};

use crate::error::{Error, Result};

/// Output file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// PNG: RGBA or 8-bit gray, lossless
    Png,
    /// WebP, lossless
    Webp,
    /// JPEG: no alpha, so cutouts need a background
    #[value(alias = "jpeg")]
    Jpg,
}

impl Format {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Jpg => "jpg",
        }
    }

    /// The format a file name's extension asks for, if any (case-insensitive).
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "png" => Some(Self::Png),
            "webp" => Some(Self::Webp),
            "jpg" | "jpeg" => Some(Self::Jpg),
            _ => None,
        }
    }

    pub fn has_alpha(self) -> bool {
        self != Self::Jpg
    }
}

/// Encodes `img` (8-bit gray, RGB or RGBA) to `w`. JPEG drops alpha: give
/// it opaque images. `quality` (1..=100) is JPEG's; the others are lossless.
pub fn encode(w: impl Write, img: &DynamicImage, format: Format, quality: u8) -> Result<()> {
    encode_image(w, img, format, quality).map_err(|e| match e {
        ImageError::IoError(e) => Error::io("cannot write the encoded image", e),
        e => Error::Unsupported(format!("cannot encode {}: {e}", format.extension())),
    })
}

fn encode_image(
    w: impl Write,
    img: &DynamicImage,
    format: Format,
    quality: u8,
) -> std::result::Result<(), ImageError> {
    let (width, height, color) = (img.width(), img.height(), img.color());
    match format {
        // Fast deflate: encoding is the CPU side of a GPU batch pipeline;
        // the files are ~10-20% larger than with the default level.
        Format::Png => PngEncoder::new_with_quality(w, CompressionType::Fast, FilterType::Adaptive)
            .write_image(img.as_bytes(), width, height, color.into())?,
        Format::Webp => {
            WebPEncoder::new_lossless(w).write_image(img.as_bytes(), width, height, color.into())?
        }
        Format::Jpg => {
            let opaque;
            let img = if color.has_alpha() {
                opaque = DynamicImage::ImageRgb8(img.to_rgb8());
                &opaque
            } else {
                img
            };
            JpegEncoder::new_with_quality(w, quality).write_image(
                img.as_bytes(),
                width,
                height,
                img.color().into(),
            )?
        }
    }
    Ok(())
}

/// Creates the folder `path` goes in (and its parents), if it has one.
pub fn create_parent(path: &Path) -> Result<()> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::create_dir_all(dir).map_err(|e| {
            Error::io(
                format_args!("cannot create the folder {}", dir.display()),
                e,
            )
        }),
        None => Ok(()),
    }
}

/// A hidden temporary file next to `path` (`.NAME.XXXXXX.tmp`) to be
/// renamed onto it once complete; removed when the `TempPath` is dropped.
pub fn temp_file_for(path: &Path) -> Result<(File, tempfile::TempPath)> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Some(name) = path.file_name() else {
        crate::error::bail!(Input, "an output path needs a file name");
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // A plain new file's permissions (0666 less the umask), not tempfile's 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let file = builder.tempfile_in(dir).map_err(|e| {
        Error::io(
            format_args!("cannot create a temporary file in {}", dir.display()),
            e,
        )
    })?;
    Ok(file.into_parts())
}

/// Writes `path` atomically: `write` fills a [`temp_file_for`] it, which is
/// renamed to `path` when complete. On any error the temporary file is
/// removed and `path` is untouched. `write` fails with the caller's own
/// error type (this library's, or one it converts into).
pub fn write_atomic<E: From<Error>>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let (file, temp) = temp_file_for(path)?;
    let mut out = BufWriter::new(file);
    write(&mut out)?;
    // No fsync: the rename is what keeps a killed run from leaving a partial
    // file; surviving power loss is not worth a disk flush per image.
    out.flush()
        .map_err(|e| Error::io(format_args!("cannot write {}", path.display()), e))?;
    drop(out);
    persist(temp, path)?;
    Ok(())
}

/// Renames a complete [`temp_file_for`] onto `path`.
pub fn persist(temp: tempfile::TempPath, path: &Path) -> Result<()> {
    temp.persist(path).map_err(|e| {
        Error::io(
            format_args!("cannot rename the temporary file to {}", path.display()),
            e.error,
        )
    })
}
