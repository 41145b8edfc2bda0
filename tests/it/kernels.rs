//! Each GPU kernel against its CPU reference on random inputs over many
//! shapes: odd sizes, 1x1, batch > 1, every dilation, ceil-mode edges,
//! channel counts not a multiple of 4, and views inside larger tensors.
//! The network kernels run with f32 and with f16 activation storage; for
//! f16 the inputs are rounded to f16 first, so the reference sees the same
//! values and only the f16 rounding of the output is allowed for.

use crate::common;

use common::{assert_close, gpu, random_vec, rng};
use half::f16;
use rand::Rng;
use rand::rngs::StdRng;
use u2cut::gpu::GpuContext;
use u2cut::kernels::batchnorm::{self, BatchNorm, BatchNormParams};
use u2cut::kernels::conv::{self, Caps, ConvKernel, ConvSpec};
use u2cut::kernels::elementwise::{Elementwise, ElementwiseParams};
use u2cut::kernels::{Bound, Precision, SpatialParams, View, pool, upsample};

const TOL: f32 = 1e-4;
/// f16 keeps 11 significant bits: outputs up to ~8 in size round by 4e-3.
const TOL_F16: f32 = 8e-3;

fn tol(precision: Precision) -> f32 {
    match precision {
        Precision::F32 => TOL,
        Precision::F16 => TOL_F16,
    }
}
/// Value written around the views under test: it must survive every kernel.
const SENTINEL: f32 = 12345.0;

/// A tensor of `channels` channels embedded at channel `offset` of a larger
/// one, so every test also checks view indexing.
struct Framed {
    view: View,
    data: Vec<f32>,
}

impl Framed {
    fn random(rng: &mut StdRng, batch: u32, channels: u32, plane: u32) -> Self {
        let (before, after) = (rng.random_range(0..3), rng.random_range(0..3));
        let view = View::slice(before + channels + after, before, channels, plane);
        let data = random_vec(rng, (batch * view.c_total * plane) as usize, 1.0);
        Self { view, data }
    }

    fn sentinel(rng: &mut StdRng, batch: u32, channels: u32, plane: u32) -> Self {
        let mut t = Self::random(rng, batch, channels, plane);
        t.data.fill(SENTINEL);
        t
    }

    /// The tensor stored as the kernels store `precision` activations.
    fn upload_as(&self, ctx: &GpuContext, precision: Precision) -> wgpu::Buffer {
        match precision {
            Precision::F32 => ctx.upload("test tensor", &self.data),
            Precision::F16 => {
                let mut h: Vec<f16> = self.data.iter().map(|&v| f16::from_f32(v)).collect();
                // Storage buffers are whole 4-byte words.
                h.resize(h.len().next_multiple_of(2), f16::ZERO);
                ctx.upload_bytes("test tensor f16", bytemuck::cast_slice(&h))
            }
        }
    }

    /// Rounds the values to what `precision` stores.
    fn rounded(mut self, precision: Precision) -> Self {
        if precision == Precision::F16 {
            for v in &mut self.data {
                *v = f16::from_f32(*v).to_f32();
            }
        }
        self
    }
}

fn read_all(ctx: &GpuContext, buffer: &wgpu::Buffer, len: usize) -> Vec<f32> {
    ctx.read(buffer, 0, len).unwrap()
}

fn read_as(ctx: &GpuContext, buffer: &wgpu::Buffer, len: usize, precision: Precision) -> Vec<f32> {
    match precision {
        Precision::F32 => read_all(ctx, buffer, len),
        Precision::F16 => {
            let bytes = ctx
                .read_bytes(buffer, 0, (2 * len).next_multiple_of(4) as u64)
                .unwrap();
            let h: Vec<f16> = bytemuck::pod_collect_to_vec(&bytes);
            h[..len].iter().map(|v| v.to_f32()).collect()
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct ConvCase {
    batch: u32,
    ca: u32,
    cb: u32,
    cout: u32,
    h: u32,
    w: u32,
    k: u32,
    dilation: u32,
    relu: bool,
    /// Add a residual tensor after the activation.
    residual: bool,
    /// `a` is half the size, upsampled on read.
    up: bool,
}

/// One test per conv kernel and storage precision, so each fails (and
/// runs in parallel) on its own; the list must name every kernel of the
/// registry (checked below).
macro_rules! conv_tests {
    ($($test:ident: $kernel:literal $precision:ident;)*) => {
        $(
            #[test]
            fn $test() {
                check_kernel($kernel, Precision::$precision);
            }
        )*
        const CONV_TESTS: &[(&str, Precision)] = &[$(($kernel, Precision::$precision)),*];
    };
}

conv_tests! {
    conv_direct_f32: "direct" F32;
    conv_direct_f16: "direct" F16;
    conv_subgroup_f32: "subgroup" F32;
    conv_subgroup_f16: "subgroup" F16;
    conv_subgroup_any_f32: "subgroup_any" F32;
    conv_subgroup_any_f16: "subgroup_any" F16;
    conv_subgroup_uniform_f32: "subgroup_uniform" F32;
    conv_subgroup_uniform_f16: "subgroup_uniform" F16;
    conv_winograd_f32: "winograd" F32;
    conv_winograd_f16: "winograd" F16;
    conv_gemm64x32_f32: "gemm64x32" F32;
    conv_gemm64x32_f16: "gemm64x32" F16;
    conv_gemm128x32_f32: "gemm128x32" F32;
    conv_gemm128x32_f16: "gemm128x32" F16;
    conv_gemm64x64_f32: "gemm64x64" F32;
    conv_gemm64x64_f16: "gemm64x64" F16;
    conv_gemm128x64_f32: "gemm128x64" F32;
    conv_gemm128x64_f16: "gemm128x64" F16;
    conv_coop_f32: "coop" F32;
    conv_coop_f16: "coop" F16;
}

#[test]
fn conv_tests_cover_every_kernel() {
    for precision in [Precision::F32, Precision::F16] {
        let tested: Vec<&str> = CONV_TESTS
            .iter()
            .filter(|(_, p)| *p == precision)
            .map(|(k, _)| *k)
            .collect();
        let registry: Vec<&str> = ConvKernel::all().map(ConvKernel::name).collect();
        assert_eq!(tested, registry, "conv_tests! for {precision:?}");
    }
}

/// `kernel` in `precision` against the reference on every case it takes.
fn check_kernel(name: &str, precision: Precision) {
    let Some(ctx) = gpu() else { return };
    let kernel = ConvKernel::by_name(name).expect("a kernel of the registry");
    if let Err(why) = kernel.supports(&Caps::of(&ctx)) {
        eprintln!(
            "not run: {} cannot run the {name} kernel: {why}",
            ctx.info.name
        );
        return;
    }
    let mut rng = rng(1);
    let cases = conv_cases(&mut rng);
    let taken = cases
        .iter()
        .filter(|&&c| check_conv(&ctx, &mut rng, c, kernel, precision))
        .count();
    // Every kernel takes the 3x3 convs at dilation 1, a third of the cases.
    assert!(
        taken * 3 >= cases.len(),
        "{name} took {taken} of {} cases",
        cases.len()
    );
}

/// Runs the case with `kernel`, if it takes it, against the reference;
/// returns whether it did.
fn check_conv(
    ctx: &GpuContext,
    rng: &mut StdRng,
    c: ConvCase,
    kernel: ConvKernel,
    precision: Precision,
) -> bool {
    let plane = c.h * c.w;
    let spec = ConvSpec {
        cin: c.ca + c.cb,
        cout: c.cout,
        k: c.k,
        dilation: c.dilation,
        relu: c.relu,
    };
    let frame = |rng: &mut StdRng, channels| {
        Framed::random(rng, c.batch, channels, plane).rounded(precision)
    };
    // Upsample-on-read: `a` at U²-Net's ceil-mode half size.
    let a_size = if c.up {
        (c.h.div_ceil(2), c.w.div_ceil(2))
    } else {
        (c.h, c.w)
    };
    let a = Framed::random(rng, c.batch, c.ca, a_size.0 * a_size.1).rounded(precision);
    let b = (c.cb > 0).then(|| frame(rng, c.cb));
    let res = c.residual.then(|| frame(rng, c.cout));
    let mut out = Framed::sentinel(rng, c.batch, c.cout, plane).rounded(precision);
    let scale = 1.0 / (spec.cin as f32 * (c.k * c.k) as f32).sqrt();
    let w = random_vec(rng, spec.weight_len(), scale);
    let bias = random_vec(rng, c.cout as usize, 0.5);
    let mut p = spec.params(a.view, b.as_ref().map(|b| b.view), out.view, c.h, c.w);
    if let Some(r) = &res {
        p = p.with_residual(r.view);
    }
    if c.up {
        p = p.with_upsampled_a(a_size);
    }

    let upload = |f: &Framed| f.upload_as(ctx, precision);
    let (ga, gb, gres) = (upload(&a), b.as_ref().map(upload), res.as_ref().map(upload));
    let gw = conv::ConvWeights::upload(ctx, "w", &spec, &w);
    let gbias = ctx.upload("bias", &conv::pack_bias(&spec, &bias));
    if kernel.check(&Caps::of(ctx), &spec, &p).is_err() {
        return false;
    }
    let gout = upload(&out);
    let buffers = conv::ConvBuffers {
        a: &ga,
        b: gb.as_ref(),
        residual: gres.as_ref(),
        weights: &gw,
        bias: &gbias,
        dst: Bound {
            buffer: &gout,
            view: out.view,
        },
    };
    let d = conv::dispatch(ctx, (kernel, precision), &spec, &p, c.batch, buffers);
    ctx.run(&[d.unwrap()]);
    let got = read_as(ctx, &gout, out.data.len(), precision);
    let data = conv::ConvData {
        a: &a.data,
        b: b.as_ref().map_or(&[], |b| &b.data),
        residual: res.as_ref().map_or(&[], |r| &r.data),
        weight: &w,
        bias: &bias,
    };
    conv::cpu(&spec, &p, c.batch, &data, &mut out.data);
    let what = format!("{kernel} {precision:?} {c:?}");
    // The coop kernel multiplies in f16 whatever the storage.
    let tol = if kernel.f16_products() {
        TOL_F16
    } else {
        tol(precision)
    };
    assert_close(&what, &got, &out.data, tol);
    true
}

/// The shapes every conv kernel is held to: fixed edge cases, then random ones.
fn conv_cases(rng: &mut StdRng) -> Vec<ConvCase> {
    let fixed = [
        // 1x1 image, 1x1 conv, batch 3
        ConvCase {
            batch: 3,
            ca: 5,
            cb: 0,
            cout: 1,
            h: 1,
            w: 1,
            k: 1,
            dilation: 1,
            relu: false,
            residual: false,
            up: false,
        },
        // U²-Net's fuse: 6 -> 1, 1x1
        ConvCase {
            batch: 2,
            ca: 6,
            cb: 0,
            cout: 1,
            h: 9,
            w: 13,
            k: 1,
            dilation: 1,
            relu: false,
            residual: false,
            up: false,
        },
        // input conv: 3 channels
        ConvCase {
            batch: 1,
            ca: 3,
            cb: 0,
            cout: 16,
            h: 17,
            w: 23,
            k: 3,
            dilation: 1,
            relu: true,
            residual: false,
            up: false,
        },
        // concat-on-read, odd channels, every dilation
        ConvCase {
            batch: 2,
            ca: 7,
            cb: 9,
            cout: 13,
            h: 11,
            w: 10,
            k: 3,
            dilation: 2,
            relu: true,
            residual: true,
            up: true,
        },
        ConvCase {
            batch: 1,
            ca: 4,
            cb: 4,
            cout: 8,
            h: 12,
            w: 19,
            k: 3,
            dilation: 4,
            relu: true,
            residual: false,
            up: true,
        },
        ConvCase {
            batch: 2,
            ca: 3,
            cb: 2,
            cout: 5,
            h: 20,
            w: 18,
            k: 3,
            dilation: 8,
            relu: false,
            residual: false,
            up: false,
        },
        // dilation larger than the image: only the centre tap sees data
        ConvCase {
            batch: 1,
            ca: 2,
            cb: 0,
            cout: 3,
            h: 3,
            w: 5,
            k: 3,
            dilation: 8,
            relu: false,
            residual: false,
            up: false,
        },
        // width not a multiple of the 4-pixel tile, single row / column
        ConvCase {
            batch: 1,
            ca: 3,
            cb: 0,
            cout: 9,
            h: 1,
            w: 7,
            k: 3,
            dilation: 1,
            relu: true,
            residual: true,
            up: false,
        },
        ConvCase {
            batch: 2,
            ca: 3,
            cb: 0,
            cout: 17,
            h: 6,
            w: 1,
            k: 3,
            dilation: 1,
            relu: false,
            residual: false,
            up: false,
        },
        // Taller than two subgroups of 32 lanes (NVIDIA's), so a tile
        // column spans several subgroups: their edge rows, and the last
        // one partly past the image.
        ConvCase {
            batch: 1,
            ca: 5,
            cb: 3,
            cout: 20,
            h: 71,
            w: 21,
            k: 3,
            dilation: 1,
            relu: true,
            residual: true,
            up: false,
        },
        ConvCase {
            batch: 2,
            ca: 4,
            cb: 0,
            cout: 16,
            h: 69,
            w: 13,
            k: 3,
            dilation: 2,
            relu: false,
            residual: false,
            up: true,
        },
    ];
    // Widths divisible by 4: the direct kernel's vec4 loads (with b and a
    // residual; dilation 2 mixes vector and scalar loads; 1x1).
    let vec_cases = [
        ConvCase {
            batch: 2,
            ca: 5,
            cb: 3,
            cout: 17,
            h: 7,
            w: 20,
            k: 3,
            dilation: 1,
            relu: true,
            residual: true,
            up: false,
        },
        ConvCase {
            batch: 1,
            ca: 6,
            cb: 2,
            cout: 9,
            h: 9,
            w: 12,
            k: 3,
            dilation: 2,
            relu: false,
            residual: false,
            up: false,
        },
        ConvCase {
            batch: 2,
            ca: 7,
            cb: 0,
            cout: 3,
            h: 5,
            w: 8,
            k: 1,
            dilation: 1,
            relu: false,
            residual: false,
            up: false,
        },
        ConvCase {
            batch: 1,
            ca: 4,
            cb: 4,
            cout: 16,
            h: 10,
            w: 16,
            k: 3,
            dilation: 1,
            relu: true,
            residual: false,
            up: true,
        },
        // Upsampled exactly 2x on read, a's rows not 4-aligned and the
        // output's width not a multiple of the 8-pixel tile.
        ConvCase {
            batch: 2,
            ca: 5,
            cb: 3,
            cout: 16,
            h: 6,
            w: 20,
            k: 3,
            dilation: 1,
            relu: true,
            residual: true,
            up: true,
        },
        // Upsampled on read by a factor other than 2 (ceil-mode halves).
        ConvCase {
            batch: 1,
            ca: 6,
            cb: 2,
            cout: 8,
            h: 9,
            w: 14,
            k: 3,
            dilation: 1,
            relu: false,
            residual: false,
            up: true,
        },
        // 1x1 over more than nine channels on each side of the concat, not
        // multiples of nine (the direct kernels take nine at a time).
        ConvCase {
            batch: 2,
            ca: 11,
            cb: 13,
            cout: 20,
            h: 6,
            w: 12,
            k: 1,
            dilation: 1,
            relu: true,
            residual: true,
            up: true,
        },
        // More than 64 output channels, over 128 pixels: every implicit
        // GEMM tile shape spans several channel tiles, the last one partial.
        ConvCase {
            batch: 2,
            ca: 6,
            cb: 5,
            cout: 70,
            h: 9,
            w: 15,
            k: 3,
            dilation: 1,
            relu: true,
            residual: true,
            up: false,
        },
        // A wide concat: each view's weights for an output block nearly
        // fill a 64 KiB uniform window (113 channels is the most that fit).
        ConvCase {
            batch: 1,
            ca: 113,
            cb: 100,
            cout: 20,
            h: 5,
            w: 9,
            k: 3,
            dilation: 1,
            relu: true,
            residual: false,
            up: false,
        },
    ];
    let random = (0..12).map(|_| {
        let c = ConvCase {
            batch: rng.random_range(1..4),
            ca: rng.random_range(1..20),
            cb: if rng.random_bool(0.5) {
                rng.random_range(1..20)
            } else {
                0
            },
            cout: rng.random_range(1..34),
            h: rng.random_range(1..40),
            w: rng.random_range(1..40),
            k: if rng.random_bool(0.8) { 3 } else { 1 },
            dilation: [1, 2, 4, 8][rng.random_range(0..4)],
            relu: rng.random_bool(0.5),
            residual: rng.random_bool(0.3),
            up: rng.random_bool(0.3),
        };
        if c.k == 1 {
            ConvCase { dilation: 1, ..c }
        } else {
            c
        }
    });
    let random: Vec<ConvCase> = random.collect();
    fixed.into_iter().chain(vec_cases).chain(random).collect()
}

/// The uniform-window kernel takes a conv only where each output block's
/// weights for each input view fit one 64 KiB window: 113 input channels
/// of a 3x3 (576 bytes each, after the window's alignment), not 114;
/// 1x1 convs up to ~1000. The others take any layer.
#[test]
fn uniform_weight_windows_bound_the_views() {
    let Some(ctx) = gpu() else { return };
    let caps = Caps::of(&ctx);
    let kernel = ConvKernel::by_name("subgroup_uniform").unwrap();
    if let Err(why) = kernel.supports(&caps) {
        eprintln!(
            "not run: {} cannot run the {kernel} kernel: {why}",
            ctx.info.name
        );
        return;
    }
    let subgroup = ConvKernel::by_name("subgroup").unwrap();
    let fits = |ca: u32, cb: u32, k: u32| {
        let spec = ConvSpec {
            cin: ca + cb,
            cout: 40,
            k,
            dilation: 1,
            relu: true,
        };
        let b = (cb > 0).then(|| View::whole(cb, 64));
        let p = spec.params(View::whole(ca, 64), b, View::whole(40, 64), 8, 8);
        assert!(subgroup.check(&caps, &spec, &p).is_ok());
        kernel.check(&caps, &spec, &p).is_ok()
    };
    assert!(fits(113, 0, 3));
    assert!(!fits(114, 0, 3));
    assert!(fits(64, 64, 3));
    assert!(fits(113, 113, 3));
    assert!(!fits(64, 114, 3));
    assert!(fits(1000, 0, 1));
    assert!(!fits(1100, 0, 1));
}

/// Runs a kernel that reads one framed tensor and writes another, each
/// stored as given, returning the GPU's output buffer; the reference
/// result is left in `dst`.
fn run_unary(
    ctx: &GpuContext,
    (src, src_storage): (&Framed, Precision),
    (dst, dst_storage): (&mut Framed, Precision),
    record: impl FnOnce(&wgpu::Buffer, &wgpu::Buffer) -> u2cut::gpu::Dispatch,
    reference: impl FnOnce(&[f32], &mut [f32]),
) -> Vec<f32> {
    let (gs, gd) = (
        src.upload_as(ctx, src_storage),
        dst.upload_as(ctx, dst_storage),
    );
    ctx.run(&[record(&gs, &gd)]);
    let got = read_as(ctx, &gd, dst.data.len(), dst_storage);
    reference(&src.data, &mut dst.data);
    got
}

const PRECISIONS: [Precision; 2] = [Precision::F32, Precision::F16];

fn random_sizes(rng: &mut StdRng) -> Vec<(u32, u32, u32, u32)> {
    // (batch, channels, h, w), with the 1x1 and odd edge cases first
    let mut v = vec![
        (1, 1, 1, 1),
        (2, 3, 1, 5),
        (1, 5, 7, 1),
        (3, 2, 5, 7),
        (2, 13, 32, 33),
    ];
    v.extend((0..8).map(|_| {
        (
            rng.random_range(1..4),
            rng.random_range(1..18),
            rng.random_range(1..50),
            rng.random_range(1..50),
        )
    }));
    v
}

#[test]
fn maxpool_matches_reference() {
    let Some(ctx) = gpu() else { return };
    let mut rng = rng(2);
    // Rows 4-aligned in and out (vec4 loads and stores), only in (a width
    // of 8k + 4, odd height), only out (width 7 -> 4).
    let aligned = [(1, 4, 6, 16), (2, 3, 7, 20), (2, 2, 5, 7)];
    for ((batch, c, h, w), pr) in random_sizes(&mut rng)
        .into_iter()
        .chain(aligned)
        .zip(PRECISIONS.iter().cycle())
    {
        let (oh, ow) = pool::out_size((h, w));
        let src = Framed::random(&mut rng, batch, c, h * w).rounded(*pr);
        let mut dst = Framed::sentinel(&mut rng, batch, c, oh * ow).rounded(*pr);
        let p = pool::params(src.view, dst.view, (h, w));
        let got = run_unary(
            &ctx,
            (&src, *pr),
            (&mut dst, *pr),
            |s, d| pool::dispatch(&ctx, *pr, &p, batch, s, d).unwrap(),
            |s, d| pool::cpu(&p, batch, s, d),
        );
        // A maximum of stored values is exact in either precision.
        assert_close(
            &format!("maxpool {pr:?} {batch}x{c}x{h}x{w}"),
            &got,
            &dst.data,
            0.0,
        );
    }
}

#[test]
fn upsample_matches_reference() {
    let Some(ctx) = gpu() else { return };
    let mut rng = rng(3);
    for (batch, c, h, w) in random_sizes(&mut rng) {
        // U²-Net upsamples to the skip's size (about 2x, ceil-mode odd sizes);
        // also test shrinking and single-pixel outputs.
        let targets = [
            (2 * h, 2 * w),
            (2 * h - 1, 2 * w + 1),
            (h.div_ceil(2), w),
            (1, 3),
            (h, w),
        ];
        for ((oh, ow), pr) in targets.into_iter().zip(PRECISIONS.iter().cycle()) {
            let src = Framed::random(&mut rng, batch, c, h * w).rounded(*pr);
            let mut dst = Framed::sentinel(&mut rng, batch, c, oh * ow).rounded(*pr);
            let p = SpatialParams::new(src.view, dst.view, (h, w), (oh, ow));
            let got = run_unary(
                &ctx,
                (&src, *pr),
                (&mut dst, *pr),
                |s, d| upsample::dispatch(&ctx, *pr, &p, batch, s, d).unwrap(),
                |s, d| upsample::cpu(&p, batch, s, d),
            );
            assert_close(
                &format!("upsample {pr:?} {batch}x{c}x{h}x{w} -> {oh}x{ow}"),
                &got,
                &dst.data,
                tol(*pr),
            );
        }
    }
}

#[test]
fn batchnorm_matches_reference() {
    let Some(ctx) = gpu() else { return };
    let mut rng = rng(4);
    for (batch, c, h, w) in random_sizes(&mut rng) {
        let bn = BatchNorm {
            gamma: random_vec(&mut rng, c as usize, 2.0),
            beta: random_vec(&mut rng, c as usize, 1.0),
            mean: random_vec(&mut rng, c as usize, 1.0),
            var: random_vec(&mut rng, c as usize, 1.0)
                .iter()
                .map(|v| v.abs() + 0.01)
                .collect(),
        };
        for (relu, pr) in [false, true].into_iter().zip(PRECISIONS) {
            let src = Framed::random(&mut rng, batch, c, h * w).rounded(pr);
            let mut dst = Framed::sentinel(&mut rng, batch, c, h * w).rounded(pr);
            let p = BatchNormParams {
                src: src.view,
                dst: dst.view,
                eps: batchnorm::EPS,
                relu: u32::from(relu),
                _pad: [0; 2],
            };
            let stats = ctx.upload("bn", &bn.packed());
            let got = run_unary(
                &ctx,
                (&src, pr),
                (&mut dst, pr),
                |s, d| batchnorm::dispatch(&ctx, pr, &p, batch, s, (&stats, d)).unwrap(),
                |s, d| batchnorm::cpu(&p, batch, &bn, s, d),
            );
            // |x - mean| / sqrt(var) reaches ~100 here: f16 rounds that by 0.03.
            let tol = if pr == Precision::F16 { 0.1 } else { TOL };
            assert_close(
                &format!("batchnorm {pr:?} {batch}x{c}x{h}x{w}"),
                &got,
                &dst.data,
                tol,
            );
        }
    }
}

#[test]
fn elementwise_matches_reference() {
    let Some(ctx) = gpu() else { return };
    let mut rng = rng(5);
    let ops = [Elementwise::Add, Elementwise::Sigmoid, Elementwise::Convert];
    for (batch, c, h, w) in random_sizes(&mut rng) {
        for (op, pr) in ops.into_iter().flat_map(|op| PRECISIONS.map(|pr| (op, pr))) {
            // Sigmoid writes f32 (the network's outputs); Convert reads f32
            // (the network's input).
            let (src_storage, dst_storage) = match op {
                Elementwise::Add => (pr, pr),
                Elementwise::Sigmoid => (pr, Precision::F32),
                Elementwise::Convert => (Precision::F32, pr),
            };
            let plane = h * w;
            let a = Framed::random(&mut rng, batch, c, plane).rounded(src_storage);
            let b = Framed::random(&mut rng, batch, c, plane).rounded(pr);
            let mut dst = Framed::sentinel(&mut rng, batch, c, plane).rounded(dst_storage);
            let p = ElementwiseParams {
                a: a.view,
                b: b.view,
                dst: dst.view,
            };
            let gb = b.upload_as(&ctx, pr);
            let got = run_unary(
                &ctx,
                (&a, src_storage),
                (&mut dst, dst_storage),
                |s, d| op.dispatch(&ctx, pr, &p, batch, s, Some(&gb), d).unwrap(),
                |s, d| op.cpu(&p, batch, s, &b.data, d),
            );
            let what = format!("{op:?} {pr:?} {batch}x{c}x{h}x{w}");
            assert_close(&what, &got, &dst.data, tol(dst_storage));
        }
    }
}

#[test]
fn sigmoid_saturates_without_nan() {
    let Some(ctx) = gpu() else { return };
    let xs = [-1000.0f32, -90.0, -20.0, 0.0, 20.0, 90.0, 1000.0];
    let v = View::whole(1, xs.len() as u32);
    let p = ElementwiseParams { a: v, b: v, dst: v };
    let (ga, gd) = (ctx.upload("x", &xs), ctx.storage("y", 4 * xs.len() as u64));
    ctx.run(&[Elementwise::Sigmoid
        .dispatch(&ctx, Precision::F32, &p, 1, &ga, None, &gd)
        .unwrap()]);
    let got = read_all(&ctx, &gd, xs.len());
    let mut want = vec![0.0; xs.len()];
    Elementwise::Sigmoid.cpu(&p, 1, &xs, &[], &mut want);
    assert_close("sigmoid extremes", &got, &want, 1e-6);
    assert_eq!(got[0], 0.0);
    assert_eq!(got[6], 1.0);
}
