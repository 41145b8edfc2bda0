//! `u2cut remove CLIP -o OUT`: a video file through ffmpeg. ffmpeg decodes
//! it to raw frames, the frames go through the pipeline in order, and
//! their results into an ffmpeg encoding a clip with alpha (WebM VP9, MOV
//! ProRes 4444), an MP4 over a background, or a folder of numbered PNGs.

use std::path::{Path, PathBuf};

use anyhow::Result;
use u2cut::io::frames::{FramePattern, RawFrames};
use u2cut::pipeline::{FrameOutput, Frames};
use u2cut::remove::{Background, Product};
use u2cut::video::{self, Container, Decoder, Encoder, EncoderSpec};

use super::super::{GlobalArgs, bail_input};
use super::{RemoveArgs, decode_options, stream};

/// Where a clip's frames go.
enum Target {
    Clip(PathBuf, Container),
    /// Numbered PNGs in this folder.
    Folder(PathBuf),
}

/// Runs `clip` (the run's only input) as `args` say.
pub fn run(global: &GlobalArgs, args: &RemoveArgs, clip: &Path) -> Result<()> {
    refuse_image_only_flags(args, clip)?;
    let product = if args.mask {
        Product::Mask
    } else {
        Product::Cutout
    };
    let target = target(args, clip)?;
    let ffmpeg = video::find("ffmpeg")?;
    let info = video::probe(&video::find("ffprobe")?, clip)?;
    let background = args.processing.background(&decode_options(global, args))?;
    let alpha = product == Product::Cutout && !opaque(&background);
    let remover =
        args.processing
            .remover(global, background, None, info.frames.map(|n| n as usize))?;

    let (steps, mut encoder) = match &target {
        Target::Clip(out, container) => {
            let spec = EncoderSpec {
                container: *container,
                width: info.width,
                height: info.height,
                rate: info.rate,
                gray: product == Product::Mask,
                alpha,
                audio_from: Some((clip, &info.audio)),
            };
            let encoder = Encoder::spawn(&ffmpeg, &spec, out)?;
            let steps = Frames {
                output: FrameOutput::Raw,
            };
            (steps, Some(encoder))
        }
        Target::Folder(dir) => {
            let stem = clip.file_stem().unwrap_or_default().to_string_lossy();
            let pattern = dir.join(format!("{}-%06d.png", stem.replace('%', "%%")));
            let pattern = FramePattern::parse(&pattern)?;
            u2cut::io::create_parent(&pattern.path(0))?;
            let steps = Frames {
                output: FrameOutput::Files(pattern),
            };
            (steps, None)
        }
    };
    let (mut decoder, pipe) = Decoder::spawn(&ffmpeg, clip)?;
    let name = format!("ffmpeg's frames of {}", clip.display());
    let frames = RawFrames::new(pipe, name, info.width, info.height)?;
    let streamed = stream::run(
        global,
        &remover,
        &args.processing.run_options(product),
        frames,
        &steps,
        info.frames,
        |bytes| match &mut encoder {
            Some(encoder) => encoder.write(bytes),
            None => Ok(()),
        },
    );
    if let Some(err) = streamed.error {
        // The clip is left unwritten (its temporary file removed). Frames
        // that ended early (a partial one, a failed read) are ffmpeg's to
        // explain: its own error comes first. Otherwise it is stopped.
        if !err.is_input() {
            decoder.kill();
        }
        let decoded = decoder.finish();
        if err.is_input() {
            decoded?;
        }
        return Err(err.into());
    }
    decoder.finish()?;
    if streamed.frames == 0 {
        bail_input!("{}: ffmpeg decoded no frames from it", clip.display());
    }
    if let Some(encoder) = encoder {
        encoder.finish()?;
    }
    Ok(())
}

/// Whether compositing over `background` leaves no transparency.
fn opaque(background: &Background) -> bool {
    match background {
        Background::Transparent => false,
        Background::Color([.., a]) => *a == 255,
        Background::Image(image) => image.pixels().all(|p| p[3] == 255),
    }
}

/// Where `-o` sends the clip: a video file, a folder, or (without -o)
/// `NAME_nobg.webm` (`_mask.webm` with --mask) beside it.
fn target(args: &RemoveArgs, clip: &Path) -> Result<Target> {
    let output = match &args.output {
        Some(out) if out.as_os_str() == "-" => bail_input!(
            "{}: a video is written to a file or a folder, not stdout: give -o OUT.webm, \
             OUT.mov, OUT.mp4 or FOLDER/ (or pipe raw frames through `u2cut frames`)",
            clip.display()
        ),
        Some(out) => out.clone(),
        None => {
            let stem = clip.file_stem().unwrap_or_default().to_string_lossy();
            let suffix = if args.mask { "_mask" } else { "_nobg" };
            clip.with_file_name(format!("{stem}{suffix}.webm"))
        }
    };
    let folder = output.is_dir() || output.as_os_str().to_string_lossy().ends_with('/');
    if folder {
        return Ok(Target::Folder(output));
    }
    match Container::from_path(&output) {
        Some(container) => Ok(Target::Clip(output, container)),
        None => bail_input!(
            "-o {}: a video's output is a .webm (VP9 with alpha), .mov (ProRes 4444 with \
             alpha) or .mp4 (H.264, with --bg-color or --bg-image) file, or a folder \
             (numbered PNGs; end it with /)",
            output.display()
        ),
    }
}

/// Refuses the flags that are about many image files, not one clip.
fn refuse_image_only_flags(args: &RemoveArgs, clip: &Path) -> Result<()> {
    let image_only = [
        (args.inputs.len() > 1, "other inputs"),
        (args.crop, "--crop (frames must keep one size)"),
        (
            args.format.is_some(),
            "--format (a clip's format is -o's extension)",
        ),
        (args.shard.is_some(), "--shard"),
        (args.manifest.is_some(), "--manifest"),
        (args.dry_run, "--dry-run"),
        (args.skip_existing, "--skip-existing"),
    ];
    if let Some((_, what)) = image_only.iter().find(|(given, _)| *given) {
        bail_input!("{}: a video runs alone, without {what}", clip.display());
    }
    Ok(())
}
