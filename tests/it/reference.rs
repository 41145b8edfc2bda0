//! The CPU references themselves, against hand-computed cases.

use u2cut::kernels::batchnorm::BatchNorm;
use u2cut::kernels::conv::{self, ConvSpec};
use u2cut::kernels::{SpatialParams, View, pool, upsample};

fn conv(
    spec: ConvSpec,
    (h, w): (u32, u32),
    input: &[f32],
    weights: &[f32],
    bias: &[f32],
) -> Vec<f32> {
    let plane = h * w;
    let p = spec.params(
        View::whole(spec.cin, plane),
        None,
        View::whole(spec.cout, plane),
        h,
        w,
    );
    let mut out = vec![0.0; (spec.cout * plane) as usize];
    let data = conv::ConvData {
        a: input,
        b: &[],
        residual: &[],
        weight: weights,
        bias,
    };
    conv::cpu(&spec, &p, 1, &data, &mut out);
    out
}

fn spec3(cin: u32, cout: u32, dilation: u32, relu: bool) -> ConvSpec {
    ConvSpec {
        cin,
        cout,
        k: 3,
        dilation,
        relu,
    }
}

#[test]
fn conv_ones_kernel_counts_neighbours_inside_the_image() {
    // 3x3 ones on a 3x3 image of ones, padding 1: corners see 4, edges 6, centre 9.
    let out = conv(spec3(1, 1, 1, false), (3, 3), &[1.0; 9], &[1.0; 9], &[0.5]);
    let want = [4.0, 6.0, 4.0, 6.0, 9.0, 6.0, 4.0, 6.0, 4.0].map(|v| v + 0.5);
    assert_eq!(out, want);
}

#[test]
fn conv_identity_kernel_copies_and_relu_clamps() {
    let input: Vec<f32> = (0..12).map(|i| i as f32 - 6.0).collect();
    let mut centre = [0.0; 9];
    centre[4] = 1.0;
    let out = conv(spec3(1, 1, 1, true), (3, 4), &input, &centre, &[0.0]);
    let want: Vec<f32> = input.iter().map(|v| v.max(0.0)).collect();
    assert_eq!(out, want);
}

#[test]
fn conv_dilation_spreads_taps() {
    // An impulse at the centre of a 5x5 image through a dilation-2 ones
    // kernel lights up the 9 pixels at offsets {-2, 0, 2}^2 from it.
    let mut input = [0.0; 25];
    input[12] = 1.0;
    let out = conv(spec3(1, 1, 2, false), (5, 5), &input, &[1.0; 9], &[0.0]);
    for y in 0..5 {
        for x in 0..5 {
            let want = if y % 2 == 0 && x % 2 == 0 { 1.0 } else { 0.0 };
            assert_eq!(out[y * 5 + x], want, "at ({y}, {x})");
        }
    }
}

#[test]
fn conv_1x1_mixes_channels_and_reads_concatenation() {
    // out = 2 a - 3 b + 1 with a and b as two separate views.
    let spec = ConvSpec {
        cin: 2,
        cout: 1,
        k: 1,
        dilation: 1,
        relu: false,
    };
    let (a, b) = ([1.0, 2.0, 3.0], [10.0, 20.0, 30.0]);
    let p = spec.params(
        View::whole(1, 3),
        Some(View::whole(1, 3)),
        View::whole(1, 3),
        1,
        3,
    );
    let mut out = vec![0.0; 3];
    let data = conv::ConvData {
        a: &a,
        b: &b,
        residual: &[],
        weight: &[2.0, -3.0],
        bias: &[1.0],
    };
    conv::cpu(&spec, &p, 1, &data, &mut out);
    assert_eq!(out, [2.0 - 30.0 + 1.0, 4.0 - 60.0 + 1.0, 6.0 - 90.0 + 1.0]);
}

#[test]
fn conv_residual_is_added_after_relu() {
    // out = relu(-a + 1) + r: the residual is not clamped.
    let spec = ConvSpec {
        cin: 1,
        cout: 1,
        k: 1,
        dilation: 1,
        relu: true,
    };
    let p = spec
        .params(View::whole(1, 3), None, View::whole(1, 3), 1, 3)
        .with_residual(View::whole(1, 3));
    let mut out = vec![0.0; 3];
    let data = conv::ConvData {
        a: &[0.0, 1.0, 3.0],
        b: &[],
        residual: &[-5.0, 0.5, -1.0],
        weight: &[-1.0],
        bias: &[1.0],
    };
    conv::cpu(&spec, &p, 1, &data, &mut out);
    assert_eq!(out, [1.0 - 5.0, 0.5, -1.0]);
}

#[test]
fn conv_two_channels_in_two_out_by_hand() {
    // 2x2 image, 2 in / 2 out channels, 3x3 kernels with one nonzero tap each.
    let input = [1.0, 2.0, 3.0, 4.0, /* ch1 */ 5.0, 6.0, 7.0, 8.0];
    let mut w = [0.0; 36];
    w[4] = 1.0; // out0 <- in0 centre
    w[9 + 8] = 2.0; // out0 <- in1 bottom-right: (y+1, x+1)
    w[18 + 9] = -1.0; // out1 <- in1 top-left: (y-1, x-1)
    let out = conv(spec3(2, 2, 1, false), (2, 2), &input, &w, &[0.0, 10.0]);
    assert_eq!(
        out,
        [1.0 + 2.0 * 8.0, 2.0, 3.0, 4.0, 10.0, 10.0, 10.0, 10.0 - 5.0]
    );
}

#[test]
fn packed_weights_put_a_block_of_output_channels_side_by_side() {
    // 17 output channels: one full block of OCB = 16 and one of a single channel.
    let spec = ConvSpec {
        cin: 2,
        cout: 17,
        k: 1,
        dilation: 1,
        relu: false,
    };
    let oihw: Vec<f32> = (0..34).map(|i| i as f32).collect();
    let packed = conv::pack_weights(&spec, &oihw);
    let ocb = conv::OCB as usize;
    assert_eq!(ocb, 16);
    assert_eq!(packed.len(), 2 * 2 * ocb);
    // block 0, input channel 1: output channels 0..16, i.e. oihw[2 co + 1]
    let want: Vec<f32> = (0..16).map(|co| (2 * co + 1) as f32).collect();
    assert_eq!(&packed[ocb..2 * ocb], want.as_slice());
    // block 1, input channel 0 holds output channel 16, zero-padded
    assert_eq!(packed[2 * ocb], 32.0);
    assert!(packed[2 * ocb + 1..3 * ocb].iter().all(|&v| v == 0.0));
}

#[test]
fn batchnorm_fold_matches_conv_then_bn() {
    let spec = spec3(1, 2, 1, false);
    let input: Vec<f32> = (0..20).map(|i| (i as f32 * 0.37).sin()).collect();
    let w: Vec<f32> = (0..18).map(|i| (i as f32 * 0.91).cos()).collect();
    let bias = [0.3, -0.2];
    let bn = BatchNorm {
        gamma: vec![1.5, 0.5],
        beta: vec![0.1, -0.4],
        mean: vec![0.2, -1.0],
        var: vec![0.8, 2.5],
    };
    let raw = conv(spec, (4, 5), &input, &w, &bias);
    let (mut fw, mut fb) = (w.clone(), bias.to_vec());
    bn.fold_into(&mut fw, &mut fb);
    let folded = conv(spec, (4, 5), &input, &fw, &fb);
    for (i, (r, f)) in raw.iter().zip(&folded).enumerate() {
        let c = i / 20;
        let want = (r - bn.mean[c]) / (bn.var[c] + 1e-5).sqrt() * bn.gamma[c] + bn.beta[c];
        assert!((want - f).abs() < 1e-5, "element {i}: {want} vs {f}");
    }
}

#[test]
fn maxpool_ceil_mode_keeps_the_ragged_border() {
    // 3x3 -> 2x2; the last row/column form windows of their own.
    let src: Vec<f32> = (1..=9).map(|v| v as f32).collect();
    let p = pool::params(View::whole(1, 9), View::whole(1, 4), (3, 3));
    let mut out = vec![0.0; 4];
    pool::cpu(&p, 1, &src, &mut out);
    assert_eq!(out, [5.0, 6.0, 8.0, 9.0]);
}

#[test]
fn upsample_half_pixel_by_hand() {
    // 1x2 -> 1x4 with align_corners=False: [a, .75a+.25b, .25a+.75b, b].
    let p = SpatialParams::new(View::whole(1, 2), View::whole(1, 4), (1, 2), (1, 4));
    let mut out = vec![0.0; 4];
    upsample::cpu(&p, 1, &[4.0, 8.0], &mut out);
    assert_eq!(out, [4.0, 5.0, 7.0, 8.0]);
    // To a single pixel, ONNX's pytorch_half_pixel takes the first sample.
    let p = SpatialParams::new(View::whole(1, 2), View::whole(1, 1), (1, 2), (1, 1));
    let mut out = vec![0.0; 1];
    upsample::cpu(&p, 1, &[4.0, 8.0], &mut out);
    assert_eq!(out, [4.0]);
}
