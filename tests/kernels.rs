//! Each GPU kernel against its CPU reference on random inputs over many
//! shapes: odd sizes, 1x1, batch > 1, every dilation, ceil-mode edges,
//! channel counts not a multiple of 4, and views inside larger tensors.

mod common;

use common::{assert_close, gpu, random_vec, rng};
use rand::Rng;
use rand::rngs::StdRng;
use u2cut::gpu::GpuContext;
use u2cut::kernels::batchnorm::{self, BatchNorm, BatchNormParams};
use u2cut::kernels::conv::{self, ConvKernel, ConvSpec};
use u2cut::kernels::elementwise::{Elementwise, ElementwiseParams};
use u2cut::kernels::{Bound, SpatialParams, View, pool, upsample};

const TOL: f32 = 1e-4;
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

    fn upload(&self, ctx: &GpuContext) -> wgpu::Buffer {
        ctx.upload("test tensor", &self.data)
    }
}

fn read_all(ctx: &GpuContext, buffer: &wgpu::Buffer, len: usize) -> Vec<f32> {
    ctx.read(buffer, 0, len).unwrap()
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
}

/// Both conv kernels against the reference, on the same inputs.
fn check_conv(ctx: &GpuContext, rng: &mut StdRng, c: ConvCase) {
    let plane = c.h * c.w;
    let spec = ConvSpec {
        cin: c.ca + c.cb,
        cout: c.cout,
        k: c.k,
        dilation: c.dilation,
        relu: c.relu,
    };
    let a = Framed::random(rng, c.batch, c.ca, plane);
    let b = (c.cb > 0).then(|| Framed::random(rng, c.batch, c.cb, plane));
    let mut out = Framed::sentinel(rng, c.batch, c.cout, plane);
    let scale = 1.0 / (spec.cin as f32 * (c.k * c.k) as f32).sqrt();
    let w = random_vec(rng, spec.weight_len(), scale);
    let bias = random_vec(rng, c.cout as usize, 0.5);
    let res = c
        .residual
        .then(|| Framed::random(rng, c.batch, c.cout, plane));
    let mut p = spec.params(a.view, b.as_ref().map(|b| b.view), out.view, c.h, c.w);
    if let Some(r) = &res {
        p = p.with_residual(r.view);
    }

    let (ga, gb, gres, gout) = (
        a.upload(ctx),
        b.as_ref().map(|b| b.upload(ctx)),
        res.as_ref().map(|r| r.upload(ctx)),
        out.upload(ctx),
    );
    let gw = ctx.upload("w", &conv::pack_weights(&spec, &w));
    let gbias = ctx.upload("bias", &conv::pack_bias(&spec, &bias));
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
    let runs: Vec<_> = ConvKernel::ALL
        .iter()
        .map(|&kernel| {
            let fresh = out.upload(ctx);
            let buffers = conv::ConvBuffers {
                dst: Bound {
                    buffer: &fresh,
                    view: out.view,
                },
                ..buffers
            };
            ctx.run(&[conv::dispatch(ctx, kernel, &spec, &p, c.batch, buffers).unwrap()]);
            (kernel, read_all(ctx, &fresh, out.data.len()))
        })
        .collect();
    let data = conv::ConvData {
        a: &a.data,
        b: b.as_ref().map_or(&[], |b| &b.data),
        residual: res.as_ref().map_or(&[], |r| &r.data),
        weight: &w,
        bias: &bias,
    };
    conv::cpu(&spec, &p, c.batch, &data, &mut out.data);
    for (kernel, got) in runs {
        assert_close(&format!("{kernel:?} {c:?}"), &got, &out.data, TOL);
    }
}

#[test]
fn conv_matches_reference() {
    let Some(ctx) = gpu() else { return };
    let mut rng = rng(1);
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
        },
    ];
    for c in fixed {
        check_conv(&ctx, &mut rng, c);
    }
    for _ in 0..12 {
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
        };
        let c = if c.k == 1 {
            ConvCase { dilation: 1, ..c }
        } else {
            c
        };
        check_conv(&ctx, &mut rng, c);
    }
}

/// Runs a kernel that reads one framed tensor and writes another, returning
/// (gpu result, reference result) over the whole output buffer.
fn run_unary(
    ctx: &GpuContext,
    src: &Framed,
    dst: &mut Framed,
    record: impl FnOnce(&wgpu::Buffer, &wgpu::Buffer) -> u2cut::gpu::Dispatch,
    reference: impl FnOnce(&[f32], &mut [f32]),
) -> Vec<f32> {
    let (gs, gd) = (src.upload(ctx), dst.upload(ctx));
    ctx.run(&[record(&gs, &gd)]);
    let got = read_all(ctx, &gd, dst.data.len());
    reference(&src.data, &mut dst.data);
    got
}

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
    for (batch, c, h, w) in random_sizes(&mut rng) {
        let (oh, ow) = pool::out_size((h, w));
        let src = Framed::random(&mut rng, batch, c, h * w);
        let mut dst = Framed::sentinel(&mut rng, batch, c, oh * ow);
        let p = pool::params(src.view, dst.view, (h, w));
        let got = run_unary(
            &ctx,
            &src,
            &mut dst,
            |s, d| pool::dispatch(&ctx, &p, batch, s, d).unwrap(),
            |s, d| pool::cpu(&p, batch, s, d),
        );
        assert_close(
            &format!("maxpool {batch}x{c}x{h}x{w}"),
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
        for (oh, ow) in targets {
            let src = Framed::random(&mut rng, batch, c, h * w);
            let mut dst = Framed::sentinel(&mut rng, batch, c, oh * ow);
            let p = SpatialParams::new(src.view, dst.view, (h, w), (oh, ow));
            let got = run_unary(
                &ctx,
                &src,
                &mut dst,
                |s, d| upsample::dispatch(&ctx, &p, batch, s, d).unwrap(),
                |s, d| upsample::cpu(&p, batch, s, d),
            );
            assert_close(
                &format!("upsample {batch}x{c}x{h}x{w} -> {oh}x{ow}"),
                &got,
                &dst.data,
                TOL,
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
        for relu in [false, true] {
            let src = Framed::random(&mut rng, batch, c, h * w);
            let mut dst = Framed::sentinel(&mut rng, batch, c, h * w);
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
                &src,
                &mut dst,
                |s, d| batchnorm::dispatch(&ctx, &p, batch, s, &stats, d).unwrap(),
                |s, d| batchnorm::cpu(&p, batch, &bn, s, d),
            );
            assert_close(
                &format!("batchnorm {batch}x{c}x{h}x{w}"),
                &got,
                &dst.data,
                TOL,
            );
        }
    }
}

#[test]
fn elementwise_matches_reference() {
    let Some(ctx) = gpu() else { return };
    let mut rng = rng(5);
    for (batch, c, h, w) in random_sizes(&mut rng) {
        for op in [Elementwise::Add, Elementwise::Sigmoid] {
            let plane = h * w;
            let a = Framed::random(&mut rng, batch, c, plane);
            let b = Framed::random(&mut rng, batch, c, plane);
            let mut dst = Framed::sentinel(&mut rng, batch, c, plane);
            let p = ElementwiseParams {
                a: a.view,
                b: b.view,
                dst: dst.view,
            };
            let gb = b.upload(&ctx);
            let got = run_unary(
                &ctx,
                &a,
                &mut dst,
                |s, d| op.dispatch(&ctx, &p, batch, s, Some(&gb), d).unwrap(),
                |s, d| op.cpu(&p, batch, s, &b.data, d),
            );
            assert_close(&format!("{op:?} {batch}x{c}x{h}x{w}"), &got, &dst.data, TOL);
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
        .dispatch(&ctx, &p, 1, &ga, None, &gd)
        .unwrap()]);
    let got = read_all(&ctx, &gd, xs.len());
    let mut want = vec![0.0; xs.len()];
    Elementwise::Sigmoid.cpu(&p, 1, &xs, &[], &mut want);
    assert_close("sigmoid extremes", &got, &want, 1e-6);
    assert_eq!(got[0], 0.0);
    assert_eq!(got[6], 1.0);
}
