//! `u2cut frames` fed raw rgb24 frames as ffmpeg writes them (generated
//! here: no ffmpeg needed), and a video input without ffmpeg installed.
//! Each frame's result must equal `u2cut remove` on that frame saved as a
//! PNG, so both order and content are checked. The clips through the real
//! ffmpeg are in tests/it/video.rs.

use std::process::{Command, Output};

use image::{DynamicImage, GrayImage, RgbImage, RgbaImage};

use crate::remove::{Scratch, expect_code, picture, piped};

const W: u32 = 40;
const H: u32 = 30;

/// Frame `i` of a moving picture: each frame's mask differs.
fn frame(i: u32) -> RgbImage {
    let base = picture(W + 16, H);
    image::imageops::crop_imm(&base, 2 * i, 0, W, H).to_image()
}

/// `u2cut remove --mask` on each frame saved as a PNG, in one run.
pub(crate) fn reference_masks(s: &Scratch, frames: &[RgbImage]) -> Vec<GrayImage> {
    for (i, f) in frames.iter().enumerate() {
        s.image(
            &format!("pngs/{i:03}.png"),
            &DynamicImage::ImageRgb8(f.clone()),
        );
    }
    expect_code(s.remove(&["pngs", "-o", "masks", "--mask"]), 0);
    let masks: Vec<GrayImage> = (0..frames.len())
        .map(|i| {
            image::open(s.path(&format!("masks/{i:03}.png")))
                .unwrap()
                .to_luma8()
        })
        .collect();
    assert!(
        masks.windows(2).any(|m| m[0] != m[1]),
        "the frames' masks are all equal: order would go unchecked"
    );
    masks
}

/// `u2cut frames W H -m tiny ARGS`.
pub(crate) fn frames_command(s: &Scratch, (w, h): (u32, u32), args: &[&str]) -> Command {
    let mut cmd = s.u2cut(&["frames", &w.to_string(), &h.to_string(), "-m", &s.model()]);
    cmd.args(args);
    cmd
}

/// The stdout of a run that must have succeeded.
pub(crate) fn succeeded(out: Output) -> Vec<u8> {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    out.stdout
}

/// Raw 8-bit masks back to back, each equal to its reference.
pub(crate) fn assert_raw_masks(what: &str, raw: &[u8], masks: &[GrayImage]) {
    let plane = masks[0].len();
    assert_eq!(raw.len(), masks.len() * plane, "{what}: bytes");
    for (i, (got, want)) in raw.chunks(plane).zip(masks).enumerate() {
        assert_eq!(got, want.as_raw().as_slice(), "{what}: frame {i}'s mask");
    }
}

fn raw(frames: &[RgbImage]) -> Vec<u8> {
    frames.iter().flat_map(|f| f.as_raw().clone()).collect()
}

#[test]
fn frames_come_out_in_order_equal_to_remove_on_each_frame() {
    let s = Scratch::new();
    let frames: Vec<RgbImage> = (0..7).map(frame).collect();
    let masks = reference_masks(&s, &frames);
    let frames_cmd = |extra: &[&str]| {
        let mut cmd = frames_command(&s, (W, H), &["-b", "3"]);
        cmd.args(extra);
        cmd
    };

    let out = piped(&mut frames_cmd(&["--output-format", "mask"]), &raw(&frames));
    assert_raw_masks("raw masks", &succeeded(out), &masks);
    let plane = (W * H) as usize;

    // rgba: the frame's colors unchanged, alpha the mask.
    let rgba = succeeded(piped(&mut frames_cmd(&[]), &raw(&frames)));
    assert_eq!(rgba.len(), frames.len() * plane * 4);
    for (i, got) in rgba.chunks(plane * 4).enumerate() {
        let got = RgbaImage::from_raw(W, H, got.to_vec()).unwrap();
        for ((p, rgb), m) in got.pixels().zip(frames[i].pixels()).zip(masks[i].pixels()) {
            assert_eq!(
                [p[0], p[1], p[2], p[3]],
                [rgb[0], rgb[1], rgb[2], m[0]],
                "frame {i}"
            );
        }
    }

    // PNGs back to back, as rembg b writes them.
    let stdout = succeeded(piped(
        &mut frames_cmd(&["--output-format", "png"]),
        &raw(&frames),
    ));
    let pngs = split_pngs(&stdout);
    assert_eq!(pngs.len(), frames.len());
    for (i, png) in pngs.iter().enumerate() {
        let got = image::load_from_memory(png).unwrap().to_rgba8();
        let alpha: Vec<u8> = got.pixels().map(|p| p[3]).collect();
        assert_eq!(alpha, *masks[i].as_raw(), "PNG {i}'s alpha");
    }

    // Numbered files.
    let numbered = ["--output-format", "mask", "-o", "numbered/m-%04d.png"];
    let stdout = succeeded(piped(&mut frames_cmd(&numbered), &raw(&frames)));
    assert!(stdout.is_empty());
    for (i, want) in masks.iter().enumerate() {
        let got = image::open(s.path(&format!("numbered/m-{i:04}.png"))).unwrap();
        assert_eq!(got.to_luma8(), *want, "numbered/m-{i:04}.png");
    }
}

/// PNG files back to back, split at each IEND chunk.
fn split_pngs(mut bytes: &[u8]) -> Vec<&[u8]> {
    let mut pngs = Vec::new();
    while !bytes.is_empty() {
        let end = bytes
            .windows(4)
            .position(|w| w == b"IEND")
            .expect("each PNG ends in IEND")
            + 8;
        pngs.push(&bytes[..end]);
        bytes = &bytes[end..];
    }
    pngs
}

#[test]
fn a_partial_frame_at_the_end_fails_after_the_whole_frames_are_written() {
    let s = Scratch::new();
    let frames: Vec<RgbImage> = (0..3).map(frame).collect();
    let mut input = raw(&frames);
    input.extend_from_slice(&[7; 100]);
    let mut cmd = frames_command(&s, (W, H), &["--output-format", "mask"]);
    let out = piped(&mut cmd, &input);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("stdin: the stream ends in a partial frame (frame 3): 100 bytes of the 3600"),
        "{err}"
    );
    assert_eq!(out.stdout.len(), 3 * (W * H) as usize, "the whole frames");

    // Sizes that are not frames are refused by the command line.
    let (_, err) = expect_code(s.u2cut(&["frames", "0", "10"]), 2);
    assert!(err.contains("0"), "{err}");
    let (_, err) = expect_code(s.u2cut(&["frames", "4", "4", "-o", "out.png"]), 2);
    assert!(err.contains("needs a %d or %0Nd field"), "{err}");
}

#[test]
fn a_video_without_ffmpeg_says_what_to_install() {
    let s = Scratch::new();
    s.file("clip.mp4", b"not read: ffmpeg is missing");
    let empty = s.path("no-programs");
    std::fs::create_dir_all(&empty).unwrap();
    let (_, err) = expect_code(
        s.remove(&["clip.mp4", "-o", "out.webm"])
            .env("PATH", &empty),
        1,
    );
    assert!(err.contains("ffmpeg is not on PATH"), "{err}");
    assert!(err.contains("apt-get install ffmpeg"), "{err}");
    assert!(!s.path("out.webm").exists());
    // A still GIF stays an image, without ffmpeg.
    s.image("still.gif", &DynamicImage::ImageRgb8(frame(0)));
    expect_code(
        s.remove(&["still.gif", "-o", "still.png"])
            .env("PATH", &empty),
        0,
    );
    assert!(s.path("still.png").exists());
}
