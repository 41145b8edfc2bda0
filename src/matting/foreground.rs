//! Foreground colours from an image and its alpha, so that cutouts carry no
//! halo of the old background: pymatting's estimate_foreground_ml (Germer
//! et al. 2020) with its defaults, in the Jacobi form of pymatting's GPU
//! versions (its CPU version updates in place, Gauss-Seidel; the two agree
//! to a few 8-bit levels where alpha > 0.1). The first level starts from the
//! mean colours of alpha > 0.9 and alpha < 0.1, as the CPU version does.

use image::Rgb32FImage;

use super::gpu::{GpuColors, GpuPlane, GpuRgba};
use super::{Engine, Plane};
use crate::Result;
use crate::error::ensure;
use crate::gpu::{GpuContext, groups_for};
use crate::kernels::foreground::{self as kernel, Buffers, ForegroundParams, Packed, Step};

/// pymatting's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ForegroundOptions {
    pub regularization: f32,
    /// Iterations on levels at most `small_size` on both sides.
    pub small_iterations: u32,
    /// Iterations on the other levels.
    pub big_iterations: u32,
    pub small_size: u32,
    pub gradient_weight: f32,
}

impl Default for ForegroundOptions {
    fn default() -> Self {
        Self {
            regularization: 1e-5,
            small_iterations: 10,
            big_iterations: 2,
            small_size: 32,
            gradient_weight: 1.0,
        }
    }
}

impl ForegroundOptions {
    /// Level sizes, smallest first: round(w0^(l/n)) x round(h0^(l/n)) for
    /// l = 0..=n, n = ceil(log2(max side)); Python's round (half to even).
    pub fn levels(&self, w0: u32, h0: u32) -> Vec<(u32, u32)> {
        let n = 32 - (w0.max(h0) - 1).leading_zeros();
        if n == 0 {
            return vec![(w0, h0)];
        }
        (0..=n)
            .map(|l| {
                let t = f64::from(l) / f64::from(n);
                let side = |s: u32| (f64::from(s).powf(t).round_ties_even() as u32).max(1);
                (side(w0), side(h0))
            })
            .collect()
    }

    fn iterations(&self, (w, h): (u32, u32)) -> u32 {
        if w <= self.small_size && h <= self.small_size {
            self.small_iterations
        } else {
            self.big_iterations
        }
    }

    fn params(
        &self,
        (w0, h0): (u32, u32),
        (w, h): (u32, u32),
        (sw, sh): (u32, u32),
    ) -> ForegroundParams {
        ForegroundParams {
            width0: w0,
            height0: h0,
            width: w,
            height: h,
            src_width: sw,
            src_height: sh,
            regularization: self.regularization,
            gradient_weight: self.gradient_weight,
            n_partials: groups_for(u64::from(w0) * u64::from(h0)) as u32,
            _pad: [0; 3],
        }
    }
}

/// Records and submits the estimate; returns the foreground colours.
pub fn estimate_gpu(
    ctx: &GpuContext,
    image: &GpuRgba,
    alpha: &GpuPlane,
    options: &ForegroundOptions,
) -> Result<GpuColors> {
    ensure!(
        image.size() == alpha.size(),
        Input,
        "alpha and image differ in size"
    );
    let full = image.size();
    let colors = |label| GpuColors::new(ctx, label, full.0, full.1);
    // Ping-pong pairs: [F, B] of the current iterate and of the next.
    let pairs = [
        [colors("foreground"), colors("background")],
        [colors("foreground'"), colors("background'")],
    ];
    let base = options.params(full, (1, 1), (1, 1));
    let partials = ctx.storage("foreground partials", u64::from(base.n_partials) * 32);
    let bind = |from: usize, to: usize| Buffers {
        image: &image.buffer,
        alpha: &alpha.buffer,
        f_src: &pairs[from][0].buffer,
        b_src: &pairs[from][1].buffer,
        f_dst: &pairs[to][0].buffer,
        b_dst: &pairs[to][1].buffer,
        partials: &partials,
    };
    let mut out = vec![
        Step::Means.dispatch(ctx, &base, &bind(1, 0))?,
        Step::MeansFinish.dispatch(ctx, &base, &bind(1, 0))?,
    ];
    // `current` holds the latest iterate; the 1x1 means first.
    let (mut current, mut prev_size) = (0, (1, 1));
    for size in options.levels(full.0, full.1) {
        let p = options.params(full, size, prev_size);
        out.push(Step::Resize.dispatch(ctx, &p, &bind(current, 1 - current))?);
        current = 1 - current;
        for _ in 0..options.iterations(size) {
            out.push(Step::Iterate.dispatch(ctx, &p, &bind(current, 1 - current))?);
            current = 1 - current;
        }
        prev_size = size;
    }
    ctx.run(&out);
    let [[f0, _], [f1, _]] = pairs;
    Ok(if current == 0 { f0 } else { f1 })
}

/// CPU version, from the kernel's references.
pub fn estimate_cpu(image: &[u32], alpha: &Plane, options: &ForegroundOptions) -> Rgb32FImage {
    let full = alpha.size();
    let (f0, b0) = kernel::means_cpu(image, &alpha.data);
    let (mut f, mut b): (Vec<Packed>, Vec<Packed>) = (vec![f0], vec![b0]);
    let mut prev_size = (1, 1);
    for size in options.levels(full.0, full.1) {
        let p = options.params(full, size, prev_size);
        f = kernel::resize_cpu(&p, &f);
        b = kernel::resize_cpu(&p, &b);
        for _ in 0..options.iterations(size) {
            (f, b) = kernel::iterate_cpu(&p, image, &alpha.data, &f, &b);
        }
        prev_size = size;
    }
    let data = f.iter().flat_map(|&c| kernel::unpack(c)).collect();
    Rgb32FImage::from_raw(full.0, full.1, data).expect("one colour a pixel")
}

/// The foreground colours on either engine.
pub fn estimate_foreground(
    engine: Engine,
    image: &[u32],
    alpha: &Plane,
    options: &ForegroundOptions,
) -> Result<Rgb32FImage> {
    match engine {
        Engine::Cpu => Ok(estimate_cpu(image, alpha, options)),
        Engine::Gpu(ctx) => {
            let img = GpuRgba::upload(ctx, "foreground image", image, alpha.width, alpha.height);
            let a = GpuPlane::upload(ctx, "foreground alpha", alpha);
            estimate_gpu(ctx, &img, &a, options)?.read(ctx)
        }
    }
}
