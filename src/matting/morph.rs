//! Morphology on masks: erosion, dilation, opening and closing with
//! rectangles and OpenCV's ellipses of any size; Gaussian blur; small-island
//! (and hole) removal; rembg's post-process. GPU passes built from
//! kernels::{morphology, filter, components, maskops}, CPU versions from
//! their references, and [`extremum_brute`], the definition the tests hold
//! both to.
//!
//! Conventions are OpenCV's (and scipy's): the anchor of a `w x h` element
//! is (w / 2, h / 2), and erosion at (x, y) is the minimum of
//! src(x + j - w/2, y + i - h/2) over the element's (i, j); dilation the
//! maximum over the same (unreflected) element.

use super::gpu::GpuPlane;
use super::{Engine, Plane};
use crate::Result;
use crate::gpu::{Dispatch, GpuContext};
use crate::kernels::components::{self, ComponentParams};
use crate::kernels::filter::{self, FilterParams};
use crate::kernels::maskops::{MaskOp, MaskParams};
use crate::kernels::morphology::{self as kernel, MorphParams};

pub use crate::kernels::morphology::{Border, Op};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Rect,
    /// OpenCV's MORPH_ELLIPSE (the 3x3 one is a cross).
    Ellipse,
}

/// A flat structuring element of `width x height` pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Element {
    pub shape: Shape,
    pub width: u32,
    pub height: u32,
}

/// One row of an element: offset dy from the anchor, covering columns
/// [x - lo, x + hi].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub dy: i32,
    pub lo: u32,
    pub hi: u32,
}

impl Element {
    pub fn rect(width: u32, height: u32) -> Self {
        assert!(width > 0 && height > 0, "empty structuring element");
        Self {
            shape: Shape::Rect,
            width,
            height,
        }
    }

    pub fn square(size: u32) -> Self {
        Self::rect(size, size)
    }

    pub fn ellipse(width: u32, height: u32) -> Self {
        assert!(width > 0 && height > 0, "empty structuring element");
        Self {
            shape: Shape::Ellipse,
            width,
            height,
        }
    }

    /// The element's rows, as OpenCV's getStructuringElement draws them
    /// (rows of an ellipse: half-width round(c sqrt(r^2 - dy^2) / r),
    /// rounded half to even as cvRound; a 1x1 ellipse is a rectangle).
    pub fn segments(&self) -> Vec<Segment> {
        let (w, h) = (self.width as i64, self.height as i64);
        let (cx, cy) = (w / 2, h / 2);
        let ellipse = self.shape == Shape::Ellipse && (w, h) != (1, 1);
        let inv_r2 = if cy > 0 { 1.0 / (cy * cy) as f64 } else { 0.0 };
        (0..h)
            .filter_map(|i| {
                let (j1, j2) = if ellipse {
                    let dy = i - cy;
                    if dy.abs() > cy {
                        return None;
                    }
                    let dx = (cx as f64 * (((cy * cy - dy * dy) as f64) * inv_r2).sqrt())
                        .round_ties_even() as i64;
                    ((cx - dx).max(0), (cx + dx + 1).min(w))
                } else {
                    (0, w)
                };
                (j2 > j1).then(|| Segment {
                    dy: (i - cy) as i32,
                    lo: (cx - j1) as u32,
                    hi: (j2 - 1 - cx) as u32,
                })
            })
            .collect()
    }
}

/// The four operations on a mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MorphOp {
    Erode,
    Dilate,
    /// Erosion then dilation: removes specks smaller than the element.
    Open,
    /// Dilation then erosion: fills gaps smaller than the element.
    Close,
}

impl MorphOp {
    fn steps(self) -> &'static [Op] {
        match self {
            Self::Erode => &[Op::Min],
            Self::Dilate => &[Op::Max],
            Self::Open => &[Op::Min, Op::Max],
            Self::Close => &[Op::Max, Op::Min],
        }
    }
}

/// The definition: every output pixel is the extremum over the element,
/// O(element area) per pixel.
pub fn extremum_brute(src: &Plane, element: &Element, op: Op, border: Border) -> Plane {
    let (w, h) = (i64::from(src.width), i64::from(src.height));
    let segments = element.segments();
    let data = (0..w * h)
        .map(|e| {
            let (x, y) = (e % w, e / w);
            let mut v = op.identity();
            for s in &segments {
                let sy = y + i64::from(s.dy);
                for sx in x - i64::from(s.lo)..=x + i64::from(s.hi) {
                    if (0..w).contains(&sx) && (0..h).contains(&sy) {
                        v = op.combine(v, src.data[(sy * w + sx) as usize]);
                    } else if let Border::Constant(pad) = border {
                        v = op.combine(v, pad);
                    }
                }
            }
            v
        })
        .collect();
    Plane::new(src.width, src.height, data)
}

/// Rows of the element grouped by their (lo, hi): one x pass per group.
fn groups(element: &Element) -> Vec<((u32, u32), Vec<i32>)> {
    let mut out: Vec<((u32, u32), Vec<i32>)> = Vec::new();
    for s in element.segments() {
        match out.iter_mut().find(|(k, _)| *k == (s.lo, s.hi)) {
            Some((_, dys)) => dys.push(s.dy),
            None => out.push(((s.lo, s.hi), vec![s.dy])),
        }
    }
    out
}

/// The x pass then the y pass of a rectangle, or for other shapes the x
/// pass of each row width and the `rows` folds, as a list of kernel steps
/// over named planes. Shared by the GPU recording and the CPU mirror.
enum Pass {
    /// scan + merge of `from` into `to`.
    Line {
        p: MorphParams,
        from: Slot,
        to: Slot,
    },
    /// Fold `from` shifted by p.dy into `to`.
    Rows {
        p: MorphParams,
        from: Slot,
        to: Slot,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Src,
    Tmp,
    Dst,
}

fn plan(size: (u32, u32), element: &Element, op: Op, border: Border) -> Vec<Pass> {
    let cx = element.width / 2;
    let cy = element.height / 2;
    if element.shape == Shape::Rect {
        return vec![
            Pass::Line {
                p: MorphParams::line(size, 0, (cx, element.width - 1 - cx), op, border),
                from: Slot::Src,
                to: Slot::Tmp,
            },
            Pass::Line {
                p: MorphParams::line(size, 1, (cy, element.height - 1 - cy), op, border),
                from: Slot::Tmp,
                to: Slot::Dst,
            },
        ];
    }
    let mut passes = Vec::new();
    let mut first = true;
    for ((lo, hi), dys) in groups(element) {
        passes.push(Pass::Line {
            p: MorphParams::line(size, 0, (lo, hi), op, border),
            from: Slot::Src,
            to: Slot::Tmp,
        });
        for dy in dys {
            passes.push(Pass::Rows {
                p: MorphParams::rows(size, dy, first, op, border),
                from: Slot::Tmp,
                to: Slot::Dst,
            });
            first = false;
        }
    }
    passes
}

/// GPU scratch planes of one size.
struct Scratch {
    prefix: wgpu::Buffer,
    suffix: wgpu::Buffer,
    tmp: wgpu::Buffer,
}

impl Scratch {
    fn new(ctx: &GpuContext, (w, h): (u32, u32)) -> Self {
        let bytes = u64::from(w) * u64::from(h) * 4;
        Self {
            prefix: ctx.storage("morph prefix", bytes),
            suffix: ctx.storage("morph suffix", bytes),
            tmp: ctx.storage("morph line", bytes),
        }
    }
}

/// Records the passes of [`plan`] from `src` into `dst`.
fn record_extremum(
    ctx: &GpuContext,
    scratch: &Scratch,
    src: &wgpu::Buffer,
    dst: &wgpu::Buffer,
    passes: Vec<Pass>,
) -> Result<Vec<Dispatch>> {
    let buffer = |s: Slot| match s {
        Slot::Src => src,
        Slot::Tmp => &scratch.tmp,
        Slot::Dst => dst,
    };
    let mut out = Vec::new();
    for pass in passes {
        match pass {
            Pass::Line { p, from, to } => {
                out.push(kernel::scan(
                    ctx,
                    &p,
                    buffer(from),
                    &scratch.prefix,
                    &scratch.suffix,
                )?);
                out.push(kernel::merge(
                    ctx,
                    &p,
                    &scratch.prefix,
                    &scratch.suffix,
                    buffer(to),
                )?);
            }
            Pass::Rows { p, from, to } => {
                out.push(kernel::rows(ctx, &p, buffer(from), buffer(to))?)
            }
        }
    }
    Ok(out)
}

fn cpu_extremum(
    src: &[f32],
    size: (u32, u32),
    element: &Element,
    op: Op,
    border: Border,
) -> Vec<f32> {
    let n = src.len();
    let (mut prefix, mut suffix) = (vec![0.0; n], vec![0.0; n]);
    let (mut tmp, mut dst) = (vec![0.0; n], vec![0.0; n]);
    for pass in plan(size, element, op, border) {
        match pass {
            Pass::Line { p, from, to } => {
                let input = match from {
                    Slot::Src => src,
                    _ => &tmp,
                };
                kernel::scan_cpu(&p, input, &mut prefix, &mut suffix);
                let out = if to == Slot::Tmp { &mut tmp } else { &mut dst };
                kernel::merge_cpu(&p, &prefix, &suffix, out);
            }
            Pass::Rows { p, .. } => kernel::rows_cpu(&p, &tmp, &mut dst),
        }
    }
    dst
}

/// Records `op` of `src` into a new plane (the dispatches keep their buffers alive).
pub fn morph_gpu(
    ctx: &GpuContext,
    src: &GpuPlane,
    element: &Element,
    op: MorphOp,
    border: Border,
) -> Result<(GpuPlane, Vec<Dispatch>)> {
    let size = src.size();
    let scratch = Scratch::new(ctx, size);
    let dst = GpuPlane::new(ctx, "morph out", size.0, size.1);
    let mid = GpuPlane::new(ctx, "morph mid", size.0, size.1);
    let steps = op.steps();
    let mut out = Vec::new();
    let mut from = &src.buffer;
    for (i, &step) in steps.iter().enumerate() {
        // Two steps: src -> mid -> dst.
        let to = if i + 1 == steps.len() {
            &dst.buffer
        } else {
            &mid.buffer
        };
        out.extend(record_extremum(
            ctx,
            &scratch,
            from,
            to,
            plan(size, element, step, border),
        )?);
        from = to;
    }
    Ok((dst, out))
}

/// CPU version of [`morph_gpu`], from the kernels' references.
pub fn morph_cpu(src: &Plane, element: &Element, op: MorphOp, border: Border) -> Plane {
    let mut data = src.data.clone();
    for &step in op.steps() {
        data = cpu_extremum(&data, src.size(), element, step, border);
    }
    Plane::new(src.width, src.height, data)
}

/// `op` of a mask on either engine.
pub fn morph(
    engine: Engine,
    src: &Plane,
    element: &Element,
    op: MorphOp,
    border: Border,
) -> Result<Plane> {
    match engine {
        Engine::Cpu => Ok(morph_cpu(src, element, op, border)),
        Engine::Gpu(ctx) => {
            let src = GpuPlane::upload(ctx, "morph in", src);
            let (dst, dispatches) = morph_gpu(ctx, &src, element, op, border)?;
            ctx.run(&dispatches);
            dst.read(ctx)
        }
    }
}

/// cv2.GaussianBlur(src, (ksize, ksize), sigma) in f32 (reflect-101 border).
pub fn gaussian_gpu(
    ctx: &GpuContext,
    src: &GpuPlane,
    ksize: u32,
    sigma: f64,
) -> Result<(GpuPlane, Vec<Dispatch>)> {
    let taps = ctx.upload("gaussian taps", &filter::gaussian_taps(ksize, sigma));
    let size = src.size();
    let mid = GpuPlane::new(ctx, "blur x", size.0, size.1);
    let dst = GpuPlane::new(ctx, "blur", size.0, size.1);
    let r = ksize / 2;
    let bx = FilterParams::new(size, 0, r, filter::Border::Reflect101);
    let by = FilterParams::new(size, 1, r, filter::Border::Reflect101);
    let out = vec![
        filter::dispatch(ctx, &bx, 1, &src.buffer, &mid.buffer, &taps)?,
        filter::dispatch(ctx, &by, 1, &mid.buffer, &dst.buffer, &taps)?,
    ];
    Ok((dst, out))
}

/// CPU version of [`gaussian_gpu`].
pub fn gaussian_cpu(src: &Plane, ksize: u32, sigma: f64) -> Plane {
    let taps = filter::gaussian_taps(ksize, sigma);
    let r = ksize / 2;
    let mut mid = vec![0.0; src.data.len()];
    let mut dst = vec![0.0; src.data.len()];
    filter::cpu(
        &FilterParams::new(src.size(), 0, r, filter::Border::Reflect101),
        1,
        &src.data,
        &mut mid,
        &taps,
    );
    filter::cpu(
        &FilterParams::new(src.size(), 1, r, filter::Border::Reflect101),
        1,
        &mid,
        &mut dst,
        &taps,
    );
    Plane::new(src.width, src.height, dst)
}

/// rembg's post-process (`-ppm`): opening with the 3x3 ellipse, Gaussian
/// blur 5x5 sigma 2, then 1 where the blurred mask rounds to 127 or more of
/// 255, else 0. (OpenCV blurs 8-bit masks in fixed point; a pixel within a
/// rounding step of 127 may land on the other side.)
pub const POST_LEVEL: u32 = 127;

pub fn post_process_gpu(ctx: &GpuContext, mask: &GpuPlane) -> Result<(GpuPlane, Vec<Dispatch>)> {
    let (opened, mut out) = morph_gpu(
        ctx,
        mask,
        &Element::ellipse(3, 3),
        MorphOp::Open,
        Border::Ignore,
    )?;
    let (blurred, blur) = gaussian_gpu(ctx, &opened, 5, 2.0)?;
    out.extend(blur);
    let dst = GpuPlane::new(ctx, "post-processed", mask.width, mask.height);
    let p = MaskParams {
        len: mask.pixels() as u32,
        level_a: POST_LEVEL,
        ..MaskParams::default()
    };
    out.push(MaskOp::Threshold.dispatch(ctx, &p, &blurred.buffer, &dst.buffer, None)?);
    Ok((dst, out))
}

pub fn post_process_cpu(mask: &Plane) -> Plane {
    let opened = morph_cpu(mask, &Element::ellipse(3, 3), MorphOp::Open, Border::Ignore);
    let blurred = gaussian_cpu(&opened, 5, 2.0);
    let p = MaskParams {
        len: blurred.data.len() as u32,
        level_a: POST_LEVEL,
        ..MaskParams::default()
    };
    let mut dst = vec![0.0; blurred.data.len()];
    MaskOp::Threshold.cpu(&p, &blurred.data, &mut dst, &mut []);
    Plane::new(mask.width, mask.height, dst)
}

/// Small-region removal: connected regions of pixels above `threshold`
/// (below or at it with `holes`) with fewer than `min_size` pixels are set
/// to the other class: islands to 0, holes to 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Islands {
    pub threshold: f32,
    pub min_size: u32,
    /// 4 or 8.
    pub connectivity: u32,
    pub holes: bool,
}

impl Islands {
    pub fn params(&self, (width, height): (u32, u32)) -> ComponentParams {
        assert!(matches!(self.connectivity, 4 | 8), "connectivity is 4 or 8");
        ComponentParams {
            width,
            height,
            threshold: self.threshold,
            invert: u32::from(self.holes),
            connectivity: self.connectivity,
            min_size: self.min_size,
            _pad: [0; 2],
        }
    }
}

/// Records island removal; also returns the label and size buffers (u32
/// per pixel) for inspection.
pub fn islands_gpu(
    ctx: &GpuContext,
    mask: &GpuPlane,
    islands: &Islands,
) -> Result<(GpuPlane, Vec<Dispatch>, [wgpu::Buffer; 2])> {
    let p = islands.params(mask.size());
    let bytes = mask.pixels() as u64 * 4;
    let labels = ctx.storage("component labels", bytes);
    let sizes = ctx.storage("component sizes", bytes);
    let dst = GpuPlane::new(ctx, "islands removed", mask.width, mask.height);
    let mut out = Vec::new();
    for step in components::Step::LABEL {
        out.push(step.dispatch(ctx, &p, &mask.buffer, &labels, &sizes, None)?);
    }
    out.push(components::Step::Keep.dispatch(
        ctx,
        &p,
        &mask.buffer,
        &labels,
        &sizes,
        Some(&dst.buffer),
    )?);
    Ok((dst, out, [labels, sizes]))
}

pub fn islands_cpu(mask: &Plane, islands: &Islands) -> Plane {
    let p = islands.params(mask.size());
    let (labels, sizes) = components::label_cpu(&p, &mask.data);
    Plane::new(
        mask.width,
        mask.height,
        components::keep_cpu(&p, &mask.data, &labels, &sizes),
    )
}
