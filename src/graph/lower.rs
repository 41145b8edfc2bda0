//! One lowering of graph ops to kernel calls, shared by the CPU and GPU
//! executors: each op's kernel, its params struct, and the slices it
//! reads and writes. The executors only bind data to what this says.

use super::{ConvLayer, Graph, Op, Slice};
use crate::kernels::batchnorm::{self, BatchNormParams};
use crate::kernels::conv::ConvParams;
use crate::kernels::elementwise::{Elementwise, ElementwiseParams};
use crate::kernels::{SpatialParams, pool};

/// Which spatial kernel a [`Lowered::Spatial`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spatial {
    MaxPool,
    Upsample,
}

/// An op as its kernel sees it.
pub enum Lowered<'m> {
    Conv {
        /// The layer, at `index` in the model's layers.
        layer: &'m ConvLayer,
        index: usize,
        p: ConvParams,
        a: Slice,
        b: Option<Slice>,
        residual: Option<Slice>,
        dst: Slice,
    },
    /// The layer's BatchNorm statistics are `layer.bn`.
    BatchNorm {
        layer: &'m ConvLayer,
        index: usize,
        p: BatchNormParams,
        src: Slice,
        dst: Slice,
    },
    Spatial {
        kind: Spatial,
        p: SpatialParams,
        src: Slice,
        dst: Slice,
    },
    Elementwise {
        kind: Elementwise,
        p: ElementwiseParams,
        a: Slice,
        b: Option<Slice>,
        dst: Slice,
    },
}

/// Lowers `op` of `graph`, whose layers are `layers`.
pub fn lower<'m>(graph: &Graph, layers: &'m [ConvLayer], op: &Op) -> Lowered<'m> {
    let v = |s| graph.view(s);
    match *op {
        Op::Conv {
            layer,
            a,
            b,
            residual,
            dst,
        } => {
            let index = layer;
            let layer = &layers[index];
            Lowered::Conv {
                layer,
                index,
                p: graph.conv_params(op, &layer.spec),
                a,
                b,
                residual,
                dst,
            }
        }
        Op::BatchNorm { layer, src, dst } => Lowered::BatchNorm {
            layer: &layers[layer],
            index: layer,
            p: BatchNormParams {
                src: v(src),
                dst: v(dst),
                eps: batchnorm::EPS,
                relu: 1,
                _pad: [0; 2],
            },
            src,
            dst,
        },
        Op::MaxPool { src, dst } => Lowered::Spatial {
            kind: Spatial::MaxPool,
            p: pool::params(v(src), v(dst), graph.size(src)),
            src,
            dst,
        },
        Op::Upsample { src, dst } => Lowered::Spatial {
            kind: Spatial::Upsample,
            p: SpatialParams::new(v(src), v(dst), graph.size(src), graph.size(dst)),
            src,
            dst,
        },
        Op::Add { a, b, dst } => Lowered::Elementwise {
            kind: Elementwise::Add,
            p: ElementwiseParams {
                a: v(a),
                b: v(b),
                dst: v(dst),
            },
            a,
            b: Some(b),
            dst,
        },
        Op::Sigmoid { src, dst } | Op::Convert { src, dst } => Lowered::Elementwise {
            kind: match op {
                Op::Sigmoid { .. } => Elementwise::Sigmoid,
                _ => Elementwise::Convert,
            },
            p: ElementwiseParams {
                a: v(src),
                b: v(src),
                dst: v(dst),
            },
            a: src,
            b: None,
            dst,
        },
    }
}
