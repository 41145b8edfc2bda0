//! Runs a graph on the CPU reference kernels. Each tensor is its own
//! vector (no buffer sharing): this path defines correctness, not speed.

use crate::Result;
use crate::error::ensure;

use super::{ConvLayer, Graph, Op, Slice};
use crate::kernels::batchnorm::{self, BatchNormParams};
use crate::kernels::conv::{self, ConvData};
use crate::kernels::elementwise::{Elementwise, ElementwiseParams};
use crate::kernels::{SpatialParams, pool, upsample};

/// Runs `graph` on `batch` images of `input` (NCHW). Returns each named
/// output as a batch x channels x H x W vector.
pub fn run(
    graph: &Graph,
    layers: &[ConvLayer],
    input: &[f32],
    batch: u32,
) -> Result<Vec<Vec<f32>>> {
    let input_id = graph.input.expect("graph has an input");
    let expect = graph.tensors[input_id.0].len() * u64::from(batch);
    ensure!(
        input.len() as u64 == expect,
        Input,
        "input has {} values, the graph expects {expect}",
        input.len()
    );
    let mut data: Vec<Vec<f32>> = graph
        .tensors
        .iter()
        .map(|t| {
            if t.is_empty() {
                Vec::new()
            } else {
                vec![0.0; (t.len() * u64::from(batch)) as usize]
            }
        })
        .collect();
    data[input_id.0] = input.to_vec();

    for op in &graph.ops {
        let (reads, write) = op.io();
        // The written tensor is taken out so inputs can be borrowed alongside.
        let mut dst = std::mem::take(&mut data[write.tensor.0]);
        let src = |i: usize| -> &[f32] { &data[reads[i].tensor.0] };
        let v = |s: Slice| graph.view(s);
        match *op {
            Op::Conv {
                layer, b, residual, ..
            } => {
                let l = &layers[layer];
                let p = graph.conv_params(op, &l.spec);
                // Reads are a, then b and residual where present.
                let data = ConvData {
                    a: src(0),
                    b: if b.is_some() { src(1) } else { &[] },
                    residual: if residual.is_some() {
                        src(reads.len() - 1)
                    } else {
                        &[]
                    },
                    weight: &l.weight,
                    bias: &l.bias,
                };
                conv::cpu(&l.spec, &p, batch, &data, &mut dst);
            }
            Op::BatchNorm {
                layer,
                src: s,
                dst: d,
            } => {
                let p = BatchNormParams {
                    src: v(s),
                    dst: v(d),
                    eps: batchnorm::EPS,
                    relu: 1,
                    _pad: [0; 2],
                };
                let bn = layers[layer]
                    .bn
                    .as_ref()
                    .expect("BatchNorm op on a folded layer");
                batchnorm::cpu(&p, batch, bn, src(0), &mut dst);
            }
            Op::MaxPool { src: s, dst: d } => {
                pool::cpu(
                    &pool::params(v(s), v(d), graph.size(s)),
                    batch,
                    src(0),
                    &mut dst,
                );
            }
            Op::Upsample { src: s, dst: d } => {
                let p = SpatialParams::new(v(s), v(d), graph.size(s), graph.size(d));
                upsample::cpu(&p, batch, src(0), &mut dst);
            }
            Op::Add { a, b, dst: d } => {
                let p = ElementwiseParams {
                    a: v(a),
                    b: v(b),
                    dst: v(d),
                };
                Elementwise::Add.cpu(&p, batch, src(0), src(1), &mut dst);
            }
            Op::Sigmoid { src: s, dst: d } | Op::Convert { src: s, dst: d } => {
                let p = ElementwiseParams {
                    a: v(s),
                    b: v(s),
                    dst: v(d),
                };
                let kind = match op {
                    Op::Sigmoid { .. } => Elementwise::Sigmoid,
                    _ => Elementwise::Convert,
                };
                kind.cpu(&p, batch, src(0), &[], &mut dst);
            }
        }
        data[write.tensor.0] = dst;
    }
    Ok(graph
        .outputs
        .iter()
        .map(|(_, s)| extract(graph, s, &data[s.tensor.0], batch))
        .collect())
}

/// Copies a slice's channels out of its tensor, batch-major.
pub(crate) fn extract(graph: &Graph, s: &Slice, tensor: &[f32], batch: u32) -> Vec<f32> {
    let view = graph.view(*s);
    let plane = view.plane as usize;
    let mut out = Vec::with_capacity(view.len(batch) as usize);
    for n in 0..batch {
        let start = view.index(n, 0, 0);
        out.extend_from_slice(&tensor[start..start + s.channels as usize * plane]);
    }
    out
}
