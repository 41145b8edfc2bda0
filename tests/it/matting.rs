//! Matting, trimaps, morphology and refinement: each GPU pass against its
//! CPU reference on random inputs of odd sizes, the morphology against its
//! brute-force definition, the Laplacian against pymatting's pairwise
//! definition, and closed-form alpha and foreground estimation against
//! pymatting's results (tests/data/matting: pymatting's data and the
//! goldens tools/matting_goldens.py made from it).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::{diff, gpu, rng};
use image::{GenericImageView as _, GrayImage, RgbaImage};
use rand::Rng;
use rand::rngs::StdRng;
use u2cut::gpu::GpuContext;
use u2cut::kernels::matting::RefImage;
use u2cut::matting::cf::{self, CfOptions, Preconditioner, Solver, Status};
use u2cut::matting::morph::{self, Border, Element, Islands, MorphOp, Op};
use u2cut::matting::{
    self, Engine, ForegroundOptions, GpuPlane, GpuRgba, GuidedOptions, MattingOptions, Method,
    Plane, TrimapOptions, foreground, guided, rgba_words, trimap,
};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/matting")
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/matting")
}

fn load_rgba(path: &Path) -> RgbaImage {
    // As pymatting's load_image(.., "RGB"): the alpha channel is dropped.
    let rgb = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8();
    image::DynamicImage::ImageRgb8(rgb).to_rgba8()
}

fn load_gray(path: &Path) -> Plane {
    let img = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Plane::from_gray8(&img.to_luma8())
}

fn load_npy(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    npyz::NpyFile::new(&bytes[..]).unwrap().into_vec().unwrap()
}

/// A random plane: smooth blobs (so morphology and components see regions),
/// quantized to 8-bit levels.
fn blobs(rng: &mut StdRng, w: u32, h: u32) -> Plane {
    let centres: Vec<(f32, f32, f32)> = (0..4)
        .map(|_| {
            (
                rng.random_range(0.0..w as f32),
                rng.random_range(0.0..h as f32),
                rng.random_range(1.0..(w.min(h) as f32 / 2.0).max(2.0)),
            )
        })
        .collect();
    let data = (0..w * h)
        .map(|e| {
            let (x, y) = ((e % w) as f32, (e / w) as f32);
            let v: f32 = centres
                .iter()
                .map(|&(cx, cy, r)| (1.0 - ((x - cx).hypot(y - cy) / r)).clamp(0.0, 1.0))
                .fold(0.0, f32::max);
            let noisy = (v * 1.6 - 0.3 + rng.random_range(-0.08..0.08)).clamp(0.0, 1.0);
            (noisy * 255.0).round() / 255.0
        })
        .collect();
    Plane::new(w, h, data)
}

fn noise(rng: &mut StdRng, w: u32, h: u32) -> Plane {
    let data = (0..w * h).map(|_| rng.random_range(0.0..1.0)).collect();
    Plane::new(w, h, data)
}

/// A random RGBA image mixing noise, flat patches and two-colour edges (the
/// windows where the matting Laplacian is hardest to compute in f32).
fn random_image(rng: &mut StdRng, w: u32, h: u32) -> RgbaImage {
    let flat = [rng.random::<[u8; 3]>(), rng.random::<[u8; 3]>()];
    RgbaImage::from_fn(w, h, |x, y| {
        let c = match (x * 3 / w, y * 2 / h) {
            (0, _) => rng.random::<[u8; 3]>(),
            (1, 0) => flat[0],
            (1, _) => flat[usize::from((x + y) % 5 == 0)],
            _ => flat[usize::from(x % 2 == 0)],
        };
        image::Rgba([c[0], c[1], c[2], 255])
    })
}

fn binary(p: &Plane, t: f32) -> Plane {
    Plane::new(
        p.width,
        p.height,
        p.data.iter().map(|&v| f32::from(u8::from(v > t))).collect(),
    )
}

fn run_morph(
    ctx: &GpuContext,
    src: &Plane,
    element: &Element,
    op: MorphOp,
    border: Border,
) -> Plane {
    morph::morph(Engine::Gpu(ctx), src, element, op, border).unwrap()
}

#[test]
fn morphology_matches_brute_force() {
    let mut rng = rng(1);
    let elements = [
        Element::square(1),
        Element::square(3),
        Element::square(10),
        Element::rect(5, 2),
        Element::rect(1, 7),
        Element::ellipse(3, 3),
        Element::ellipse(5, 5),
        Element::ellipse(7, 4),
        Element::ellipse(15, 9),
        Element::ellipse(31, 31),
    ];
    let sizes = [(1, 1), (7, 3), (37, 23), (16, 41)];
    let borders = [Border::Ignore, Border::Constant(0.0), Border::Constant(1.0)];
    let ctx = gpu();
    let mut cases = 0;
    for (i, &(w, h)) in sizes.iter().enumerate() {
        let src = if i % 2 == 0 {
            noise(&mut rng, w, h)
        } else {
            binary(&blobs(&mut rng, w, h), 0.5)
        };
        for element in &elements {
            for (op, morph_op) in [(Op::Min, MorphOp::Erode), (Op::Max, MorphOp::Dilate)] {
                let border = borders[cases % borders.len()];
                cases += 1;
                let want = morph::extremum_brute(&src, element, op, border);
                let what = format!("{element:?} {op:?} {border:?} on {w}x{h}");
                assert_eq!(
                    morph::morph_cpu(&src, element, morph_op, border),
                    want,
                    "CPU {what}"
                );
                if let Some(ctx) = &ctx {
                    assert_eq!(
                        run_morph(ctx, &src, element, morph_op, border),
                        want,
                        "GPU {what}"
                    );
                }
            }
        }
    }
}

#[test]
fn ellipses_are_opencvs() {
    // cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (w, h)) rows as (lo, hi).
    let rows = |e: Element| -> Vec<(i32, u32, u32)> {
        e.segments().iter().map(|s| (s.dy, s.lo, s.hi)).collect()
    };
    assert_eq!(
        rows(Element::ellipse(3, 3)),
        [(-1, 0, 0), (0, 1, 1), (1, 0, 0)]
    );
    assert_eq!(
        rows(Element::ellipse(5, 5)),
        [(-2, 0, 0), (-1, 2, 2), (0, 2, 2), (1, 2, 2), (2, 0, 0)]
    );
    // Even sizes: anchor (w/2, h/2), rows clipped to the element.
    assert_eq!(
        rows(Element::ellipse(4, 4)),
        [(-2, 0, 0), (-1, 2, 1), (0, 2, 1), (1, 2, 1)]
    );
    assert_eq!(rows(Element::square(10))[0], (-5, 5, 4));
}

#[test]
fn open_close_blur_post_process_match_reference() {
    let mut rng = rng(2);
    let Some(ctx) = gpu() else { return };
    for &(w, h) in &[(1, 1), (33, 19), (64, 45)] {
        let mask = blobs(&mut rng, w, h);
        for op in [MorphOp::Open, MorphOp::Close] {
            let e = Element::ellipse(5, 3);
            let want = morph::morph_cpu(&mask, &e, op, Border::Ignore);
            assert_eq!(
                run_morph(&ctx, &mask, &e, op, Border::Ignore),
                want,
                "{op:?} {w}x{h}"
            );
        }
        let gm = GpuPlane::upload(&ctx, "mask", &mask);
        let (blurred, d) = morph::gaussian_gpu(&ctx, &gm, 5, 2.0).unwrap();
        ctx.run(&d);
        let (max, _) = diff(
            &blurred.read(&ctx).unwrap().data,
            &morph::gaussian_cpu(&mask, 5, 2.0).data,
        );
        assert!(max < 1e-6, "blur {w}x{h}: {max}");
        let (post, d) = morph::post_process_gpu(&ctx, &gm).unwrap();
        ctx.run(&d);
        let got = post.read(&ctx).unwrap();
        let want = morph::post_process_cpu(&mask);
        let differ = got
            .data
            .iter()
            .zip(&want.data)
            .filter(|(a, b)| a != b)
            .count();
        // Only a blurred value on the rounding edge of 127 could differ.
        assert!(differ <= 1, "post-process {w}x{h}: {differ} pixels differ");
    }
    let taps = u2cut::kernels::filter::gaussian_taps(5, 2.0);
    // cv2.getGaussianKernel(5, 2)
    let opencv: [f64; 5] = [
        0.152_469_14,
        0.221_841_30,
        0.251_379_12,
        0.221_841_30,
        0.152_469_14,
    ];
    for (a, b) in taps.iter().zip(opencv) {
        assert!((f64::from(*a) - b).abs() < 1e-7, "{taps:?}");
    }
}

#[test]
fn islands_match_reference() {
    let mut rng = rng(3);
    let Some(ctx) = gpu() else { return };
    for (i, &(w, h)) in [(1, 1), (29, 31), (70, 9)].iter().enumerate() {
        let mask = noise(&mut rng, w, h);
        for (connectivity, holes) in [(4, false), (8, false), (8, true)] {
            let islands = Islands {
                threshold: 0.5,
                min_size: 3 + i as u32,
                connectivity,
                holes,
            };
            let p = islands.params((w, h));
            let (labels, sizes) = u2cut::kernels::components::label_cpu(&p, &mask.data);
            let gm = GpuPlane::upload(&ctx, "mask", &mask);
            let (dst, d, [glabels, _]) = morph::islands_gpu(&ctx, &gm, &islands).unwrap();
            ctx.run(&d);
            let got: Vec<u32> = bytemuck::pod_collect_to_vec(
                &ctx.read_bytes(&glabels, 0, (w * h * 4).into()).unwrap(),
            );
            assert_eq!(got, labels, "labels {w}x{h} {islands:?}");
            assert_eq!(
                dst.read(&ctx).unwrap(),
                morph::islands_cpu(&mask, &islands),
                "{islands:?}"
            );
            // The reference keeps exactly the large components.
            let kept = morph::islands_cpu(&mask, &islands);
            for e in 0..(w * h) as usize {
                let inside = (mask.data[e] > 0.5) != holes;
                if inside && sizes[labels[e] as usize] < islands.min_size {
                    assert_eq!(kept.data[e], f32::from(u8::from(holes)));
                } else {
                    assert_eq!(kept.data[e], mask.data[e]);
                }
            }
        }
    }
}

#[test]
fn trimap_follows_rembg() {
    // Sure foreground touching the border is eroded from it (border 0); sure
    // background is not (border 1); a 10x10 square reaches 5 up/left, 4 down/right.
    let (w, h) = (30, 20);
    let mut mask = Plane::filled(w, h, 0.0);
    for y in 0..h {
        for x in 0..12 {
            mask.data[(y * w + x) as usize] = 1.0;
        }
    }
    let t = trimap::trimap_cpu(&mask, &TrimapOptions::default());
    let at = |x: u32, y: u32| t.data[(y * w + x) as usize];
    // Foreground columns 0..12 eroded by [x-5, x+4]: x + 4 < 12 and x - 5 >= 0.
    assert_eq!(at(4, 10), 128.0 / 255.0);
    assert_eq!(at(5, 10), 1.0);
    assert_eq!(at(7, 10), 1.0);
    assert_eq!(at(8, 10), 128.0 / 255.0);
    // ... but rows near the top and bottom edge are eroded too.
    assert_eq!(at(6, 4), 128.0 / 255.0);
    assert_eq!(at(6, 5), 1.0);
    assert_eq!(at(6, 15), 1.0);
    assert_eq!(at(6, 16), 128.0 / 255.0);
    // Background from column 12, eroded by [x-5, x+4]: x - 5 >= 12, border kept.
    assert_eq!(at(16, 0), 128.0 / 255.0);
    assert_eq!(at(17, 0), 0.0);
    assert_eq!(at(29, 19), 0.0);

    let mut rng = rng(4);
    let Some(ctx) = gpu() else { return };
    for &(w, h, e) in &[(41, 27, 10), (64, 33, 3), (9, 9, 0), (20, 15, 25)] {
        let mask = blobs(&mut rng, w, h);
        let options = TrimapOptions {
            erode_size: e,
            ..TrimapOptions::default()
        };
        let want = trimap::trimap_cpu(&mask, &options);
        let got = trimap::trimap(Engine::Gpu(&ctx), &mask, &options).unwrap();
        assert_eq!(got, want, "trimap {w}x{h} erode {e}");
    }
}

#[test]
fn laplacian_matches_pymatting_definition() {
    let mut rng = rng(5);
    for &(w, h) in &[(3, 3), (23, 17), (40, 9)] {
        let image = random_image(&mut rng, w, h);
        let rgb: Vec<[f64; 3]> = image
            .pixels()
            .map(|p| std::array::from_fn(|k| f64::from(p.0[k])))
            .collect();
        let reference = RefImage {
            width: w as usize,
            height: h as usize,
            rgb: &rgb,
        };
        let v: Vec<f64> = (0..w * h).map(|_| rng.random_range(-1.0..1.0)).collect();
        let windows = reference.windows(1e-7);
        let want = reference.laplacian_pairs(1e-7, &v);
        let got = reference.laplacian(&windows, &v);
        let scale = want.iter().fold(1.0f64, |m, x| m.max(x.abs()));
        for (i, (g, e)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g - e).abs() <= 1e-9 * scale,
                "{w}x{h} pixel {i}: {g} vs {e}"
            );
        }
        let ones = vec![1.0; v.len()];
        let diag = reference.diagonal(&windows);
        for i in 0..v.len() {
            let mut unit = vec![0.0; v.len()];
            unit[i] = 1.0;
            let col = reference.laplacian_pairs(1e-7, &unit);
            assert!((diag[i] - col[i]).abs() <= 1e-9 * scale, "diagonal {i}");
        }
        // Constant vectors are in L's null space.
        assert!(
            reference
                .laplacian(&windows, &ones)
                .iter()
                .all(|x| x.abs() < 1e-6 * scale)
        );

        let Some(ctx) = gpu() else { continue };
        let words = rgba_words(&image);
        let img = GpuRgba::upload(&ctx, "image", &words, w, h);
        let vp = Plane::new(w, h, v.iter().map(|&x| x as f32).collect());
        let (lv, dg) = cf::laplacian_gpu(&ctx, &img, &vp, 1e-7).unwrap();
        // The f32 vector itself differs from v by 6e-8; compare with L of it.
        let v32: Vec<f64> = vp.data.iter().map(|&x| f64::from(x)).collect();
        let want = reference.laplacian(&windows, &v32);
        let worst = lv
            .data
            .iter()
            .zip(&want)
            .map(|(g, e)| (f64::from(*g) - e).abs() / scale)
            .fold(0.0, f64::max);
        eprintln!("GPU L v on {w}x{h}: relative error {worst:.1e}");
        assert!(worst < 2e-6, "GPU L v on {w}x{h}: relative error {worst:e}");
        let worst = dg
            .data
            .iter()
            .zip(&diag)
            .map(|(g, e)| (f64::from(*g) - e).abs() / e.max(1e-3))
            .fold(0.0, f64::max);
        assert!(
            worst < 1e-3,
            "GPU diagonal on {w}x{h}: relative error {worst:e}"
        );
    }
}

fn test32() -> (RgbaImage, Plane, Plane) {
    let dir = data_dir().join("test");
    (
        load_rgba(&dir.join("test.png")),
        load_gray(&dir.join("test_trimap.png")),
        load_gray(&dir.join("test_alpha.png")),
    )
}

fn sad(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| f64::from((x - y).abs())).sum()
}

/// Both preconditioners, each at its tolerance (see `cf`'s docs), on the
/// CPU and the GPU.
#[test]
fn closed_form_on_test32_matches_pymatting() {
    let (image, trimap, truth) = test32();
    let words = rgba_words(&image);
    let golden = load_npy(&golden_dir().join("test_cf_alpha.npy"));
    for (preconditioner, tolerance) in [
        (Preconditioner::Multigrid, 1e-7),
        (Preconditioner::Jacobi, 1e-6),
    ] {
        let options = CfOptions {
            tolerance,
            preconditioner,
            solver: Solver::Gpu,
            ..CfOptions::default()
        };
        let (cpu, report) =
            cf::estimate_alpha_cf(Engine::Cpu, &words, &trimap, None, &options).unwrap();
        assert_eq!(report.status(), Status::Converged, "{}", report.summary());
        let (_, mean) = diff(&cpu.data, &golden);
        assert!(
            mean < 1e-4,
            "{preconditioner:?}: CPU vs pymatting: mean abs {mean}"
        );
        let Some(ctx) = gpu() else { return };
        let (alpha, report) =
            cf::estimate_alpha_cf(Engine::Gpu(&ctx), &words, &trimap, None, &options).unwrap();
        assert_eq!(report.solver, Solver::Gpu);
        let (max, mean) = diff(&alpha.data, &golden);
        eprintln!(
            "test32 {preconditioner:?}: GPU vs pymatting max {max:.2e} mean {mean:.2e}; SAD vs truth ours {:.3} pymatting {:.3}; {}",
            sad(&alpha.data, &truth.data),
            sad(&golden, &truth.data),
            report.summary()
        );
        assert!(
            mean < 3e-3,
            "{preconditioner:?}: GPU vs pymatting: mean abs {mean}"
        );
        assert!(sad(&alpha.data, &truth.data) <= 1.1 * sad(&golden, &truth.data));
    }
}

#[test]
fn closed_form_on_lemur_matches_pymatting() {
    let Some(ctx) = gpu() else { return };
    let dir = data_dir().join("lemur");
    let image = load_rgba(&dir.join("lemur.png"));
    let trimap = load_gray(&dir.join("lemur_trimap.png"));
    let golden = load_gray(&dir.join("lemur_alpha.png"));
    let start = Instant::now();
    let (alpha, report) = cf::estimate_alpha_cf(
        Engine::Gpu(&ctx),
        &rgba_words(&image),
        &trimap,
        None,
        &CfOptions {
            solver: Solver::Gpu,
            ..CfOptions::default()
        },
    )
    .unwrap();
    let (max, mean) = diff(&alpha.data, &golden.data);
    let unknown: Vec<usize> = (0..trimap.data.len())
        .filter(|&i| u2cut::kernels::matting::is_unknown(trimap.data[i]))
        .collect();
    let mean_unknown = unknown
        .iter()
        .map(|&i| (alpha.data[i] - golden.data[i]).abs())
        .sum::<f32>()
        / unknown.len() as f32;
    eprintln!(
        "lemur: GPU vs pymatting max {max:.3} mean {mean:.2e} (unknown pixels: {mean_unknown:.2e}) in {:.1} s; {}",
        start.elapsed().as_secs_f64(),
        report.summary()
    );
    assert_eq!(report.status(), Status::Converged);
    assert!(mean < 0.01, "lemur: mean abs difference {mean}");

    // Foreground estimation with pymatting's alpha, against pymatting's
    // (Gauss-Seidel) foreground where alpha > 0.1.
    let fg_golden = image::open(dir.join("lemur_foreground.png"))
        .unwrap()
        .to_rgb8();
    let fg = foreground::estimate_foreground(
        Engine::Gpu(&ctx),
        &rgba_words(&image),
        &golden,
        &ForegroundOptions::default(),
    )
    .unwrap();
    let (mut total, mut n) = (0.0f64, 0usize);
    for (i, (ours, theirs)) in fg.pixels().zip(fg_golden.pixels()).enumerate() {
        if golden.data[i] > 0.1 {
            for k in 0..3 {
                total += f64::from((ours.0[k] - f32::from(theirs.0[k]) / 255.0).abs());
            }
            n += 3;
        }
    }
    let mean = total / n as f64;
    eprintln!("lemur foreground: mean abs difference {mean:.2e} where alpha > 0.1");
    assert!(mean < 0.02, "foreground mean abs difference {mean}");
}

#[test]
fn foreground_matches_reference() {
    let mut rng = rng(6);
    let (image, _, truth) = test32();
    let words = rgba_words(&image);
    let options = ForegroundOptions::default();
    let cpu = foreground::estimate_cpu(&words, &truth, &options);
    let golden = load_npy(&golden_dir().join("test_fg_ml.npy"));
    let (_, mean_gs) = diff(cpu.as_raw(), &golden);
    eprintln!("test32 foreground: Jacobi vs pymatting (Gauss-Seidel) mean abs {mean_gs:.2e}");
    assert!(mean_gs < 0.03);
    let Some(ctx) = gpu() else { return };
    for &(w, h) in &[(1, 1), (37, 21), (64, 3)] {
        let image = random_image(&mut rng, w, h);
        let alpha = blobs(&mut rng, w, h);
        let words = rgba_words(&image);
        let want = foreground::estimate_cpu(&words, &alpha, &options);
        let got =
            foreground::estimate_foreground(Engine::Gpu(&ctx), &words, &alpha, &options).unwrap();
        let (max, _) = diff(got.as_raw(), want.as_raw());
        assert!(max < 1e-3, "foreground {w}x{h}: max abs {max}");
    }
}

#[test]
fn guided_filter_matches_reference() {
    let mut rng = rng(7);
    let Some(ctx) = gpu() else { return };
    for &(w, h, scale, radius) in &[(1, 1, 1, 1), (45, 31, 4, 8), (30, 50, 1, 2), (17, 64, 3, 5)] {
        let image = random_image(&mut rng, w, h);
        let mask = blobs(&mut rng, w, h);
        let words = rgba_words(&image);
        let options = GuidedOptions {
            radius,
            eps: 1e-3,
            scale,
        };
        let want = guided::guided_cpu(&words, &mask, &options);
        let got = guided::guided(Engine::Gpu(&ctx), &words, &mask, &options).unwrap();
        let (max, _) = diff(&got.data, &want.data);
        assert!(
            max < 1e-3,
            "guided {w}x{h} s{scale} r{radius}: max abs {max}"
        );
    }
}

/// A disc of one texture over another, and a blurred mask of the disc.
fn synthetic(w: u32, h: u32) -> (RgbaImage, GrayImage) {
    let (cx, cy, r) = (w as f32 * 0.45, h as f32 * 0.55, w.min(h) as f32 * 0.3);
    let inside = |x: u32, y: u32| (x as f32 - cx).hypot(y as f32 - cy) - r;
    let image = RgbaImage::from_fn(w, h, |x, y| {
        let d = inside(x, y);
        let a = (0.5 - d / 2.0).clamp(0.0, 1.0);
        let fg = [200.0, 120.0 + 8.0 * (x % 4) as f32, 40.0];
        let bg = [30.0 + 5.0 * (y % 3) as f32, 60.0, 150.0];
        let c: [f32; 3] = std::array::from_fn(|k| a * fg[k] + (1.0 - a) * bg[k]);
        image::Rgba([c[0] as u8, c[1] as u8, c[2] as u8, 255])
    });
    let mask = GrayImage::from_fn(w, h, |x, y| {
        image::Luma([((0.5 - inside(x, y) / 6.0).clamp(0.0, 1.0) * 255.0) as u8])
    });
    (image, mask)
}

#[test]
fn refine_gpu_matches_cpu() {
    let Some(ctx) = gpu() else { return };
    let (image, mask) = synthetic(67, 49);
    let auto = MattingOptions {
        trimap: TrimapOptions {
            erode_size: 3,
            ..TrimapOptions::default()
        },
        ..MattingOptions::default()
    };
    let options = MattingOptions {
        cf: CfOptions {
            solver: Solver::Gpu,
            ..auto.cf
        },
        ..auto.clone()
    };
    let gpu_out = matting::refine(Engine::Gpu(&ctx), &image, &mask, &options).unwrap();
    let cpu_out = matting::refine(Engine::Cpu, &image, &mask, &options).unwrap();
    assert_eq!(gpu_out.report.as_ref().unwrap().solver, Solver::Gpu);
    assert_eq!(cpu_out.report.as_ref().unwrap().solver, Solver::Cpu);
    let (max, mean) = diff(&gpu_out.alpha.data, &cpu_out.alpha.data);
    eprintln!(
        "refine GPU vs CPU: alpha max {max:.2e} mean {mean:.2e}; GPU {}; CPU {}",
        gpu_out.report.as_ref().unwrap().summary(),
        cpu_out.report.as_ref().unwrap().summary()
    );
    assert!(mean < 1e-4, "alpha mean abs {mean}");
    let (max, _) = diff(gpu_out.foreground.as_raw(), cpu_out.foreground.as_raw());
    assert!(max < 0.05, "foreground max abs {max}");
    // The cutout keeps the estimated colours where alpha > 0.
    assert_eq!(gpu_out.cutout().dimensions(), image.dimensions());

    // By default a CPU device (llvmpipe) hands the solve to the CPU solver,
    // between the GPU's trimap and foreground passes.
    let auto_out = matting::refine(Engine::Gpu(&ctx), &image, &mask, &auto).unwrap();
    let cpu_device = ctx.info.device_type == wgpu::DeviceType::Cpu;
    let expected = if cpu_device { Solver::Cpu } else { Solver::Gpu };
    assert_eq!(auto_out.report.as_ref().unwrap().solver, expected);
    let (_, mean) = diff(&auto_out.alpha.data, &cpu_out.alpha.data);
    assert!(mean < 1e-4, "auto solver: alpha mean abs {mean}");
    let (max, _) = diff(auto_out.foreground.as_raw(), cpu_out.foreground.as_raw());
    assert!(max < 0.05, "auto solver: foreground max abs {max}");

    let guided = MattingOptions {
        method: Method::Guided(GuidedOptions::default()),
        ..MattingOptions::default()
    };
    let g = matting::refine(Engine::Gpu(&ctx), &image, &mask, &guided).unwrap();
    let c = matting::refine(Engine::Cpu, &image, &mask, &guided).unwrap();
    let (max, _) = diff(&g.alpha.data, &c.alpha.data);
    assert!(max < 1e-3, "guided refine max abs {max}");

    // A mask without sure background: rembg falls back to the mask itself.
    let full = GrayImage::from_pixel(20, 10, image::Luma([250]));
    let img = RgbaImage::from_pixel(20, 10, image::Rgba([1, 2, 3, 255]));
    let out = matting::refine(Engine::Gpu(&ctx), &img, &full, &options).unwrap();
    assert!(out.report.is_none());
    assert_eq!(out.alpha, Plane::from_gray8(&full));
}

#[test]
fn matte_cli_writes_alpha_and_foreground() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir().join("test");
    let alpha_path = dir.path().join("alpha.png");
    let fg_path = dir.path().join("fg.png");
    let out = Command::new(env!("CARGO_BIN_EXE_u2cut"))
        .arg("matte")
        .arg(data.join("test.png"))
        .arg("--trimap")
        .arg(data.join("test_trimap.png"))
        .arg("-o")
        .arg(&alpha_path)
        .arg("--foreground")
        .arg(&fg_path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "u2cut matte failed: {stderr}");
    assert!(
        stderr.contains("iterations; CPU solver;") || stderr.contains("iterations; GPU solver;"),
        "{stderr}"
    );
    let alpha = load_gray(&alpha_path);
    let golden = load_npy(&golden_dir().join("test_cf_alpha.npy"));
    let (_, mean) = diff(&alpha.data, &golden);
    assert!(mean < 3e-3, "CLI alpha vs pymatting: mean abs {mean}");
    assert_eq!(image::open(&fg_path).unwrap().dimensions(), (32, 32));

    // A trimap of another size is the user's error: exit code 2, file named.
    let small = dir.path().join("small.png");
    GrayImage::new(5, 5).save(&small).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_u2cut"))
        .arg("matte")
        .arg(data.join("test.png"))
        .arg("--trimap")
        .arg(&small)
        .arg("-o")
        .arg(dir.path().join("x.png"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("small.png"), "{stderr}");
}
