//! Video files through the ffmpeg command-line programs: what a clip holds
//! ([`probe`]), its frames decoded to raw rgb24 ([`Decoder`], read with
//! [`RawFrames`](crate::io::frames::RawFrames)), and frames encoded into a
//! clip with alpha ([`Encoder`]). ffmpeg is found on `PATH` when a video is
//! asked for; without it the error names the package to install.

mod decoder;
mod encoder;
mod probe;
mod program;

use std::path::Path;

pub use decoder::Decoder;
pub use encoder::{Container, Encoder, EncoderSpec};
pub use probe::{Rate, VideoInfo, probe};
pub use program::{Program, find};

/// File extensions read as video. A `.gif` is a video only when it is
/// animated ([`is_video`]).
pub const VIDEO_EXTENSIONS: [&str; 7] = ["mp4", "mov", "webm", "mkv", "avi", "m4v", "gif"];

/// Whether `path` names a video: a video extension, and for a GIF more than
/// one frame (a still GIF stays an image, with or without ffmpeg).
pub fn is_video(path: &Path) -> bool {
    let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
        return false;
    };
    let ext = ext.to_ascii_lowercase();
    if !VIDEO_EXTENSIONS.contains(&ext.as_str()) {
        return false;
    }
    ext != "gif" || animated_gif(path)
}

/// Whether a GIF has a second frame (an unreadable file is not: it fails
/// as an image, with the image decoder's error).
fn animated_gif(path: &Path) -> bool {
    use image::AnimationDecoder as _;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let Ok(decoder) = image::codecs::gif::GifDecoder::new(std::io::BufReader::new(file)) else {
        return false;
    };
    decoder.into_frames().take(2).filter(Result::is_ok).count() == 2
}
