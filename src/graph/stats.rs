//! Static work counts of a graph.

use super::{ConvLayer, Graph, Op};

/// Multiply-accumulates of the convs, per image.
pub fn macs(graph: &Graph, layers: &[ConvLayer]) -> u64 {
    graph
        .ops
        .iter()
        .map(|op| match op {
            Op::Conv { layer, dst, .. } => {
                let (h, w) = graph.size(*dst);
                layers[*layer].spec.flops(h, w) / 2
            }
            _ => 0,
        })
        .sum()
}
