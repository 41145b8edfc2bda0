//! Video through the real ffmpeg (Debian's, which tools/test.sh installs):
//! a generated clip through an ffmpeg pipe into `u2cut frames`, and
//! through `u2cut remove CLIP -o OUT` into WebM, MOV, MP4 and a folder;
//! frame count, rate and alpha checked with ffprobe and ffmpeg, each
//! frame's mask against `u2cut remove --mask` on that frame as a PNG.
//! Ignored by plain `cargo test` (it needs ffmpeg on PATH):
//! `cargo test --release --test it -- --ignored video::`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use image::{GrayImage, RgbImage};
use serde_json::Value;

use crate::frames::{assert_raw_masks, frames_command, reference_masks, succeeded};
use crate::remove::{Scratch, expect_code, piped};

const W: u32 = 64;
const H: u32 = 48;
const RATE: u32 = 12;

fn ffmpeg(s: &Scratch, args: &[&str]) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .current_dir(s.path(""))
        .args(["-nostdin", "-hide_banner", "-v", "error", "-y"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("ffmpeg on PATH (apt-get install ffmpeg)");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A moving test pattern with a tone, `frames` frames at RATE fps, as
/// H.264 + AAC in an MP4.
fn clip(s: &Scratch, name: &str, frames: u32) {
    let video = format!("testsrc2=size={W}x{H}:rate={RATE}");
    let frames = frames.to_string();
    ffmpeg(
        s,
        &[
            "-f",
            "lavfi",
            "-i",
            &video,
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440",
            "-frames:v",
            &frames,
            "-shortest",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            name,
        ],
    );
}

/// The clip's frames as ffmpeg decodes them to rgb24.
fn decoded(s: &Scratch, clip: &str) -> Vec<RgbImage> {
    let raw = ffmpeg(
        s,
        &["-i", clip, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
    );
    raw.chunks((W * H * 3) as usize)
        .map(|f| RgbImage::from_raw(W, H, f.to_vec()).unwrap())
        .collect()
}

/// ffprobe's view of a file's streams.
fn streams(s: &Scratch, file: &str) -> Vec<Value> {
    let out = Command::new("ffprobe")
        .current_dir(s.path(""))
        .args([
            "-v",
            "error",
            "-count_frames",
            "-show_streams",
            "-of",
            "json",
            file,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "ffprobe {file}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["streams"].as_array().unwrap().clone()
}

fn stream<'a>(streams: &'a [Value], kind: &str) -> Option<&'a Value> {
    streams.iter().find(|s| s["codec_type"] == kind)
}

/// A video stream's counted frames and rate.
fn frames_and_rate(video: &Value) -> (u64, String) {
    let n = video["nb_read_frames"].as_str().unwrap().parse().unwrap();
    (n, video["r_frame_rate"].as_str().unwrap().to_owned())
}

/// Mean absolute difference of two planes, in gray levels.
fn mean_diff(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let sum: u64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    sum as f64 / a.len() as f64
}

/// The alpha planes of a clip decoded to RGBA (VP9's alpha is its own
/// stream, which only libvpx decodes).
fn alpha_planes(s: &Scratch, clip: &str, libvpx: bool) -> Vec<Vec<u8>> {
    let mut args = vec![];
    if libvpx {
        args.extend(["-c:v", "libvpx-vp9"]);
    }
    args.extend(["-i", clip, "-f", "rawvideo", "-pix_fmt", "rgba", "pipe:1"]);
    let raw = ffmpeg(s, &args);
    raw.chunks((W * H * 4) as usize)
        .map(|f| f.chunks(4).map(|p| p[3]).collect())
        .collect()
}

fn assert_alpha_close(what: &str, planes: &[Vec<u8>], masks: &[GrayImage], bound: f64) {
    assert_eq!(planes.len(), masks.len(), "{what}: frames");
    for (i, (got, want)) in planes.iter().zip(masks).enumerate() {
        let d = mean_diff(got, want.as_raw());
        assert!(
            d <= bound,
            "{what}: frame {i}'s alpha is {d:.2} levels from its mask"
        );
    }
}

#[test]
#[ignore = "needs ffmpeg on PATH: tools/test.sh installs it and runs this"]
fn a_clip_through_frames_and_through_remove() {
    let s = Scratch::new();
    clip(&s, "clip.mp4", 10);
    let frames = decoded(&s, "clip.mp4");
    assert_eq!(frames.len(), 10);
    let masks = reference_masks(&s, &frames);

    // The pipe recipe: ffmpeg | u2cut frames.
    let raw = ffmpeg(
        &s,
        &[
            "-i", "clip.mp4", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1",
        ],
    );
    let mut cmd = frames_command(&s, (W, H), &["--output-format", "mask"]);
    assert_raw_masks("frames", &succeeded(piped(&mut cmd, &raw)), &masks);

    // A folder: numbered PNG masks, exactly `remove --mask`'s.
    expect_code(
        s.remove(&["clip.mp4", "-o", "png-masks/", "--mask", "-b", "3"]),
        0,
    );
    for (i, want) in masks.iter().enumerate() {
        let got = image::open(s.path(&format!("png-masks/clip-{i:06}.png"))).unwrap();
        assert_eq!(got.to_luma8(), *want, "png-masks/clip-{i:06}.png");
    }

    // WebM: VP9 with alpha, the frame count and rate kept, the audio in.
    expect_code(s.remove(&["clip.mp4", "-o", "out.webm"]), 0);
    let got = streams(&s, "out.webm");
    let video = stream(&got, "video").expect("a video stream");
    assert_eq!(video["codec_name"], "vp9");
    assert_eq!(video["tags"]["alpha_mode"], "1", "VP9 with alpha: {video}");
    assert_eq!(frames_and_rate(video), (10, format!("{RATE}/1")));
    assert_eq!(
        stream(&got, "audio").expect("the audio")["codec_name"],
        "opus"
    );
    // Lossy VP9 (and its 4:2:0 alpha): within a few levels of the masks.
    assert_alpha_close("out.webm", &alpha_planes(&s, "out.webm", true), &masks, 4.0);

    // MOV: ProRes 4444 with alpha (10-bit, near lossless), AAC copied.
    expect_code(s.remove(&["clip.mp4", "-o", "out.mov"]), 0);
    let got = streams(&s, "out.mov");
    let video = stream(&got, "video").unwrap();
    assert_eq!(video["codec_name"], "prores");
    assert_eq!(video["pix_fmt"], "yuva444p12le");
    assert_eq!(frames_and_rate(video), (10, format!("{RATE}/1")));
    assert_eq!(stream(&got, "audio").unwrap()["codec_name"], "aac");
    assert_alpha_close("out.mov", &alpha_planes(&s, "out.mov", false), &masks, 0.5);

    // MP4 has no alpha: it needs a background.
    let (_, err) = expect_code(s.remove(&["clip.mp4", "-o", "out.mp4"]), 2);
    assert!(err.contains("MP4 (H.264) has no alpha channel"), "{err}");
    assert!(!s.path("out.mp4").exists());
    expect_code(
        s.remove(&["clip.mp4", "-o", "out.mp4", "--bg-color", "0,255,0"]),
        0,
    );
    let got = streams(&s, "out.mp4");
    let video = stream(&got, "video").unwrap();
    assert_eq!(video["codec_name"], "h264");
    assert_eq!(frames_and_rate(video), (10, format!("{RATE}/1")));
    // A gray mask video.
    expect_code(s.remove(&["clip.mp4", "-o", "mask.mp4", "--mask"]), 0);
    let gray = ffmpeg(
        &s,
        &[
            "-i", "mask.mp4", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1",
        ],
    );
    let planes: Vec<Vec<u8>> = gray.chunks((W * H) as usize).map(<[u8]>::to_vec).collect();
    assert_alpha_close("mask.mp4", &planes, &masks, 4.0);
    // Nothing else was left in the folder (no temporary files).
    let mut left: Vec<String> = std::fs::read_dir(s.path(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    left.sort();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

#[test]
#[ignore = "needs ffmpeg on PATH: tools/test.sh installs it and runs this"]
fn a_killed_run_leaves_no_output_and_a_broken_clip_is_named() {
    let s = Scratch::new();
    clip(&s, "long.mp4", 600);
    let mut child = s
        .remove(&["long.mp4", "-o", "out.webm", "-b", "1"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it while it runs: its clip's temporary file is there (made
    // before the first frame is decoded) and two seconds have passed.
    let start = Instant::now();
    let started = |dir: &Path| {
        std::fs::read_dir(dir).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".out.webm.")
        })
    };
    while !started(&s.path("")) {
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no temporary clip appeared"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run ended before it was killed"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(!s.path("out.webm").exists(), "a killed run left out.webm");

    s.file("broken.mkv", b"\x1a\x45\xdf\xa3 this is no Matroska file");
    let (_, err) = expect_code(s.remove(&["broken.mkv", "-o", "out2.webm"]), 2);
    assert!(err.contains("broken.mkv: ffprobe cannot read it"), "{err}");
    assert!(!s.path("out2.webm").exists());
}
