//! What a clip holds, as ffprobe reports it: the first video stream's
//! size (as ffmpeg decodes it, turned upright), frame rate and frame
//! count, and the audio streams' codecs.

use std::path::Path;
use std::process::Command;

use serde::Deserialize;

use super::Program;
use crate::error::{Error, Result};

/// A frame rate as a fraction, as ffmpeg gives it (30000/1001).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub num: u32,
    pub den: u32,
}

impl Rate {
    fn parse(text: &str) -> Option<Self> {
        let (num, den) = text.split_once('/')?;
        let rate = Self {
            num: num.parse().ok()?,
            den: den.parse().ok()?,
        };
        (rate.num > 0 && rate.den > 0).then_some(rate)
    }

    pub fn fps(self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

#[derive(Clone, Debug)]
pub struct VideoInfo {
    /// The frames' size as ffmpeg decodes them (rotation applied).
    pub width: u32,
    pub height: u32,
    pub rate: Rate,
    /// The container's frame count, when it records one.
    pub frames: Option<u64>,
    /// The codec of each audio stream, in order.
    pub audio: Vec<String>,
}

#[derive(Deserialize)]
struct Probed {
    #[serde(default)]
    streams: Vec<Stream>,
}

#[derive(Deserialize)]
struct Stream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    nb_frames: Option<String>,
    #[serde(default)]
    side_data_list: Vec<SideData>,
}

#[derive(Deserialize)]
struct SideData {
    rotation: Option<f64>,
}

/// Probes `path` with `ffprobe`.
pub fn probe(ffprobe: &Program, path: &Path) -> Result<VideoInfo> {
    let output = Command::new(&ffprobe.path)
        .args(["-v", "error", "-of", "json", "-show_streams"])
        .arg(path)
        .output()
        .map_err(|e| Error::io(format_args!("running {}", ffprobe.path.display()), e))?;
    if !output.status.success() {
        return Err(Error::Input(format!(
            "{}: ffprobe cannot read it: {}",
            path.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let probed: Probed = serde_json::from_slice(&output.stdout).map_err(|e| {
        Error::Input(format!(
            "{}: ffprobe's report is not what u2cut reads: {e}",
            path.display()
        ))
    })?;
    info(probed).map_err(|m| Error::Input(format!("{}: {m}", path.display())))
}

fn info(probed: Probed) -> std::result::Result<VideoInfo, String> {
    let audio = probed
        .streams
        .iter()
        .filter(|s| s.codec_type.as_deref() == Some("audio"))
        .map(|s| s.codec_name.clone().unwrap_or_default())
        .collect();
    let video = probed
        .streams
        .into_iter()
        .find(|s| s.codec_type.as_deref() == Some("video"))
        .ok_or("no video stream")?;
    let (Some(mut width), Some(mut height)) = (video.width, video.height) else {
        return Err("the video stream has no frame size".to_owned());
    };
    let rotation = video.side_data_list.iter().find_map(|d| d.rotation);
    if rotation.is_some_and(|r| (r.abs() - 90.0).abs() < 1.0 || (r.abs() - 270.0).abs() < 1.0) {
        std::mem::swap(&mut width, &mut height);
    }
    let rate = [&video.avg_frame_rate, &video.r_frame_rate]
        .into_iter()
        .find_map(|r| Rate::parse(r.as_deref()?))
        .ok_or("the video stream has no frame rate")?;
    Ok(VideoInfo {
        width,
        height,
        rate,
        frames: video.nb_frames.and_then(|n| n.parse().ok()),
        audio,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> std::result::Result<VideoInfo, String> {
        info(serde_json::from_str(json).unwrap())
    }

    #[test]
    fn a_rotated_stream_is_decoded_upright_and_the_average_rate_wins() {
        let v = parse(
            r#"{"streams": [
                {"codec_type": "audio", "codec_name": "aac"},
                {"codec_type": "video", "codec_name": "h264", "width": 1920, "height": 1080,
                 "avg_frame_rate": "30000/1001", "r_frame_rate": "60/1", "nb_frames": "90",
                 "side_data_list": [{"rotation": -90}]}]}"#,
        )
        .unwrap();
        assert_eq!((v.width, v.height, v.frames), (1080, 1920, Some(90)));
        assert_eq!(
            v.rate,
            Rate {
                num: 30000,
                den: 1001
            }
        );
        assert_eq!(v.audio, ["aac"]);
        let v = parse(
            r#"{"streams": [{"codec_type": "video", "width": 4, "height": 2,
                "avg_frame_rate": "0/0", "r_frame_rate": "25/1"}]}"#,
        )
        .unwrap();
        assert_eq!((v.rate.num, v.frames), (25, None));
        assert!(parse(r#"{"streams": [{"codec_type": "audio"}]}"#).is_err());
    }
}
