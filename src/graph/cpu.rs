//! Runs a graph on the CPU reference kernels. Each tensor is its own
//! vector (no buffer sharing): this path defines correctness, not speed.

use crate::Result;
use crate::error::ensure;

use super::lower::{Lowered, Spatial, lower};
use super::{ConvLayer, Graph, Slice};
use crate::kernels::batchnorm;
use crate::kernels::conv::{self, ConvData};
use crate::kernels::{pool, upsample};

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
        let (_, write) = op.io();
        // The written tensor is taken out so inputs can be borrowed alongside.
        let mut dst = std::mem::take(&mut data[write.tensor.0]);
        let src = |s: Slice| -> &[f32] { &data[s.tensor.0] };
        match lower(graph, layers, op) {
            Lowered::Conv {
                layer: l,
                p,
                a,
                b,
                residual,
                ..
            } => {
                let data = ConvData {
                    a: src(a),
                    b: b.map_or(&[], src),
                    residual: residual.map_or(&[], src),
                    weight: &l.weight,
                    bias: &l.bias,
                };
                conv::cpu(&l.spec, &p, batch, &data, &mut dst);
            }
            Lowered::BatchNorm {
                layer, p, src: s, ..
            } => {
                let bn = layer.bn.as_ref().expect("BatchNorm op on a folded layer");
                batchnorm::cpu(&p, batch, bn, src(s), &mut dst);
            }
            Lowered::Spatial {
                kind, p, src: s, ..
            } => match kind {
                Spatial::MaxPool => pool::cpu(&p, batch, src(s), &mut dst),
                Spatial::Upsample => upsample::cpu(&p, batch, src(s), &mut dst),
            },
            Lowered::Elementwise { kind, p, a, b, .. } => {
                kind.cpu(&p, batch, src(a), b.map_or(&[], src), &mut dst);
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
