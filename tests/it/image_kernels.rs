//! The image-side kernels of `u2cut remove`: the Lanczos tables and CPU
//! reference against Pillow (bit-exact), and every GPU pass (resample,
//! normalize, mask, compose) against its CPU reference on random inputs of
//! odd sizes, 1 to 4 channels and nonzero buffer offsets.

use crate::common;

use std::path::Path;

use common::{gpu, rng};
use rand::Rng;
use rand::rngs::StdRng;
use u2cut::gpu::GpuContext;
use u2cut::kernels::View;
use u2cut::kernels::pixels::{self, Compose, ComposeParams, MaskParams, NormalizeParams};
use u2cut::kernels::resample::{self, Image8, Pass, Resize};

fn data() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/resample")
}

/// Rows of bytes and the channel count of a PNG from tests/data/resample.
fn load(name: &str) -> (Vec<u8>, u32, u32, u32) {
    let img = image::open(data().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let (w, h) = (img.width(), img.height());
    match img {
        image::DynamicImage::ImageLuma8(g) => (g.into_raw(), w, h, 1),
        image::DynamicImage::ImageRgb8(c) => (c.into_raw(), w, h, 3),
        other => panic!("{name}: unexpected {:?}", other.color()),
    }
}

#[test]
fn cpu_reference_equals_pillow() {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data().join("cases.json")).unwrap()).unwrap();
    let cases = meta["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let (src, w, h, channels) = load(&format!("{name}_src.png"));
        let (want, ow, oh, _) = load(&format!("{name}_pil.png"));
        let resize = match case["box"].as_array() {
            Some(b) => {
                let b: Vec<f32> = b.iter().map(|v| v.as_f64().unwrap() as f32).collect();
                Resize::with_box(channels, (w, h), (ow, oh), [b[0], b[1], b[2], b[3]])
            }
            None => Resize::new(channels, (w, h), (ow, oh)),
        };
        let got = resize.run_cpu(&src);
        let off = got.iter().zip(&want).filter(|(a, b)| a != b).count();
        assert_eq!(off, 0, "{name}: {off} bytes differ from Pillow");
    }
}

#[test]
fn pack_round_trips_with_padding() {
    let bytes: Vec<u8> = (0..5 * 3).map(|i| i as u8 + 1).collect();
    let words = resample::pack(&bytes, 5, 3, 1);
    let img = Image8::new(5, 3, 1, 0);
    assert_eq!(img.stride, 2);
    assert_eq!(words.len(), 6);
    // The three padding bytes of each row are 0.
    assert_eq!(words[1], 5);
    assert_eq!(resample::unpack(&words, &img, 1), bytes);
}

fn random_words(rng: &mut StdRng, len: usize) -> Vec<u32> {
    (0..len).map(|_| rng.random()).collect()
}

/// A buffer holding `img` at its offset, random bytes around it (which
/// kernels reading it must ignore), padding bytes zero as the layout says.
fn random_image(rng: &mut StdRng, img: Image8, channels: u32) -> Vec<u32> {
    let mut words = random_words(rng, (img.offset as u64 + img.words() + 3) as usize);
    let row_bytes = img.width * channels;
    for y in 0..img.height {
        for j in row_bytes..img.stride * 4 {
            let w = &mut words[(img.offset + y * img.stride + j / 4) as usize];
            *w &= !(0xff << (8 * (j % 4)));
        }
    }
    words
}

/// Runs one resample pass on the GPU over a copy of `dst`.
fn gpu_pass(
    ctx: &GpuContext,
    pass: Pass,
    p: &resample::ResampleParams,
    table: &[i32],
    src: &[u32],
    dst: &[u32],
) -> Vec<u32> {
    let table: Vec<f32> = bytemuck::cast_slice(table).to_vec();
    let (gt, gs, gd) = (
        ctx.upload("table", &table),
        ctx.upload("src", bytemuck::cast_slice(src)),
        ctx.upload("dst", bytemuck::cast_slice(dst)),
    );
    let d = resample::dispatch(ctx, pass, p, &gt, &gs, &gd).unwrap();
    ctx.run(&[d]);
    bytemuck::cast_slice(&ctx.read(&gd, 0, dst.len()).unwrap()).to_vec()
}

#[test]
fn resample_matches_reference() {
    let Some(ctx) = gpu() else { return };
    let mut rng = rng(11);
    // (channels, in, out), edge cases first
    let mut cases = vec![
        (1, (1, 1), (1, 1)),
        (4, (1, 1), (7, 3)),
        (1, (7, 5), (320, 320)),
        (4, (320, 320), (3, 401)),
        (3, (31, 17), (5, 60)),
        (2, (9, 40), (9, 13)),
        (1, (320, 320), (333, 211)),
    ];
    cases.extend((0..10).map(|_| {
        (
            rng.random_range(1..5),
            (rng.random_range(1..90), rng.random_range(1..90)),
            (rng.random_range(1..120), rng.random_range(1..120)),
        )
    }));
    for (channels, (w, h), (ow, oh)) in cases {
        let what = format!("{channels} channels, {w}x{h} -> {ow}x{oh}");
        let resize = Resize::new(channels, (w, h), (ow, oh));
        let table_offset = rng.random_range(0..5);
        let mut table = vec![7; table_offset as usize];
        table.extend(resize.table());
        let src = Image8::new(w, h, channels, rng.random_range(0..9));
        let tmp = resize.intermediate(rng.random_range(0..9));
        let dst = resize.output(rng.random_range(0..9));
        let [ph, pv] = resize.params(src, tmp, dst, table_offset);

        let input = random_image(&mut rng, src, channels);
        let mid0 = random_words(&mut rng, (tmp.offset as u64 + tmp.words() + 2) as usize);
        let got_mid = gpu_pass(&ctx, Pass::Horizontal, &ph, &table, &input, &mid0);
        let mut want_mid = mid0.clone();
        resample::cpu(Pass::Horizontal, &ph, &table, &input, &mut want_mid);
        assert_eq!(got_mid, want_mid, "horizontal, {what}");

        let out0 = random_words(&mut rng, (dst.offset as u64 + dst.words() + 2) as usize);
        let got = gpu_pass(&ctx, Pass::Vertical, &pv, &table, &want_mid, &out0);
        let mut want = out0.clone();
        resample::cpu(Pass::Vertical, &pv, &table, &want_mid, &mut want);
        assert_eq!(got, want, "vertical, {what}");
    }
}

#[test]
fn normalize_matches_reference() {
    let Some(ctx) = gpu() else { return };
    let mut rng = rng(12);
    for (batch, w, h) in [(1, 1, 1), (3, 7, 5), (2, 320, 320), (2, 33, 17)] {
        let mut p = NormalizeParams::new(w, h);
        p.src.offset = rng.random_range(0..5);
        p.dst_offset = rng.random_range(0..5);
        let mut src = random_words(&mut rng, (p.src.offset + batch * p.src_step) as usize);
        if batch > 1 {
            // A black image (max 0) and a dark one: the divide-by-max edge cases.
            for (i, w) in src.iter_mut().enumerate() {
                let n = (i as u32).saturating_sub(p.src.offset) / p.src_step;
                match n {
                    0 => *w &= 0xff00_0000,
                    1 => *w &= 0xff07_0307,
                    _ => {}
                }
            }
        }
        let len = (p.dst_offset + batch * p.dst_step + 3) as usize;
        let dst0 = vec![9.0f32; len];
        let (gs, gd) = (
            ctx.upload("src", bytemuck::cast_slice(&src)),
            ctx.upload("dst", &dst0),
        );
        ctx.run(&[pixels::normalize(&ctx, &p, batch, &gs, &gd).unwrap()]);
        let got = ctx.read(&gd, 0, len).unwrap();
        let mut want = dst0.clone();
        pixels::normalize_cpu(&p, batch, &src, &mut want);
        common::assert_close(&format!("normalize {batch}x{w}x{h}"), &got, &want, 1e-6);
    }
}

#[test]
fn mask_matches_reference() {
    let Some(ctx) = gpu() else { return };
    let mut rng = rng(13);
    for (batch, w, h) in [(1, 1, 1), (2, 5, 3), (3, 320, 320), (2, 41, 29)] {
        // d0 is channel 0 of a 7-channel tensor, like the network's output.
        let view = View::slice(7, 0, 1, w * h);
        let p = MaskParams::new(view, w, h);
        let mut src: Vec<f32> = (0..batch * 7 * w * h)
            .map(|_| rng.random_range(0.0..1.0))
            .collect();
        if batch > 1 {
            // A flat map: max == min.
            src[..(w * h) as usize].fill(0.25);
        }
        let len = (batch * p.dst_step + 2) as usize;
        let dst0 = random_words(&mut rng, len);
        let (gs, gd) = (
            ctx.upload("src", &src),
            ctx.upload("dst", bytemuck::cast_slice(&dst0)),
        );
        ctx.run(&[pixels::mask(&ctx, &p, batch, &gs, &gd).unwrap()]);
        let got: Vec<u32> = bytemuck::cast_slice(&ctx.read(&gd, 0, len).unwrap()).to_vec();
        let mut want = dst0.clone();
        pixels::mask_cpu(&p, batch, &src, &mut want);
        assert_eq!(got, want, "mask {batch}x{w}x{h}");
    }
}

#[test]
fn compose_matches_reference() {
    let Some(ctx) = gpu() else { return };
    let mut rng = rng(14);
    let modes = [
        Compose::Cutout,
        Compose::Color([10, 200, 30, 255]),
        Compose::Color([0, 0, 255, 77]),
        Compose::Color([0, 0, 0, 0]),
        Compose::Image,
    ];
    for (i, (w, h)) in [(1, 1), (7, 3), (64, 65), (13, 90), (5, 5)]
        .into_iter()
        .enumerate()
    {
        let mode = modes[i % modes.len()];
        let image = Image8::new(w, h, 4, rng.random_range(0..4));
        let mask = Image8::new(w, h, 1, rng.random_range(0..4));
        let bg = Image8::new(w, h, 4, rng.random_range(0..4));
        let p = ComposeParams::new(mode, image, mask, bg);
        let img = random_image(&mut rng, image, 4);
        let m = random_image(&mut rng, mask, 1);
        let b = random_image(&mut rng, bg, 4);
        let (gi, gm, gb) = (
            ctx.upload("image", bytemuck::cast_slice(&img)),
            ctx.upload("mask", bytemuck::cast_slice(&m)),
            ctx.upload("bg", bytemuck::cast_slice(&b)),
        );
        let background = (mode == Compose::Image).then_some(&gb);
        ctx.run(&[pixels::compose(&ctx, &p, &gi, &gm, background).unwrap()]);
        let got: Vec<u32> = bytemuck::cast_slice(&ctx.read(&gi, 0, img.len()).unwrap()).to_vec();
        let mut want = img.clone();
        pixels::compose_cpu(&p, &mut want, &m, &b);
        assert_eq!(got, want, "compose {mode:?} {w}x{h}");
    }
}

#[test]
fn compose_reference_edge_values() {
    // One pixel, mask 255, opaque: the cutout is the input; over an opaque
    // color, mask 0 gives the color and mask 255 the input.
    let image = Image8::new(1, 1, 4, 0);
    let mask = Image8::new(1, 1, 1, 0);
    let run = |mode, px: [u8; 4], m: u8| {
        let p = ComposeParams::new(mode, image, mask, image);
        let mut img = vec![u32::from_le_bytes(px)];
        pixels::compose_cpu(&p, &mut img, &[u32::from(m)], &[0]);
        img[0].to_le_bytes()
    };
    assert_eq!(run(Compose::Cutout, [1, 2, 3, 255], 255), [1, 2, 3, 255]);
    assert_eq!(run(Compose::Cutout, [1, 2, 3, 255], 77), [1, 2, 3, 77]);
    // The input's own alpha is kept: 50% input alpha x 50% mask.
    assert_eq!(run(Compose::Cutout, [1, 2, 3, 128], 128), [1, 2, 3, 64]);
    let bg = Compose::Color([9, 8, 7, 255]);
    assert_eq!(run(bg, [100, 100, 100, 255], 0), [9, 8, 7, 255]);
    assert_eq!(run(bg, [100, 100, 100, 255], 255), [100, 100, 100, 255]);
    assert_eq!(run(bg, [200, 0, 100, 255], 128), [105, 4, 54, 255]);
}
