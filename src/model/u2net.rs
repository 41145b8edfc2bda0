//! Builds the U²-Net graph from a config: RSU block builders over a
//! [`GraphBuilder`]. Layer weights come from a [`LayerSource`], so the same
//! code both loads a weight file (first build) and builds graphs for any
//! input size later.

use crate::Result;

use super::config::{Rsu, STAGE_NAMES, StageConfig, U2NetConfig};
use crate::graph::{Graph, Op, Slice};
use crate::kernels::conv::ConvSpec;

/// Hands out conv layers by PyTorch module path.
pub trait LayerSource {
    /// Index of the conv `conv` (e.g. `stage1.rebnconvin.conv_s1`) with its
    /// BatchNorm `bn` if the block has one, checked against `spec`.
    fn conv(&mut self, conv: &str, bn: Option<&str>, spec: ConvSpec) -> Result<usize>;
    /// Whether the layer keeps a separate BatchNorm (unfolded weights).
    fn has_bn(&self, layer: usize) -> bool;
}

pub struct GraphBuilder<'a> {
    pub graph: Graph,
    layers: &'a mut dyn LayerSource,
}

impl<'a> GraphBuilder<'a> {
    /// REBNCONV: 3x3 conv with dilation over cat(a, b), BatchNorm, ReLU,
    /// then `+ residual` if given. With folded weights the BN, ReLU and
    /// residual add all live in the conv.
    fn rebnconv(
        &mut self,
        name: &str,
        (a, b): (Slice, Option<Slice>),
        cout: u32,
        dilation: u32,
        residual: Option<Slice>,
    ) -> Result<Slice> {
        let cin = a.channels + b.map_or(0, |b| b.channels);
        let spec = ConvSpec {
            cin,
            cout,
            k: 3,
            dilation,
            relu: true,
        };
        let layer = self.layers.conv(
            &format!("{name}.conv_s1"),
            Some(&format!("{name}.bn_s1")),
            spec,
        )?;
        let size = self.graph.size(a);
        let dst = self.graph.tensor(name, cout, size);
        if !self.layers.has_bn(layer) {
            self.graph.ops.push(Op::Conv {
                layer,
                a,
                b,
                residual,
                dst,
            });
            return Ok(dst);
        }
        self.graph.ops.push(Op::Conv {
            layer,
            a,
            b,
            residual: None,
            dst,
        });
        let out = self.graph.tensor(format!("{name}.bn"), cout, size);
        self.graph.ops.push(Op::BatchNorm {
            layer,
            src: dst,
            dst: out,
        });
        Ok(match residual {
            Some(r) => self.add(&format!("{name}.res"), out, r),
            None => out,
        })
    }

    fn pool(&mut self, name: &str, src: Slice) -> Slice {
        let size = crate::kernels::pool::out_size(self.graph.size(src));
        let dst = self.graph.tensor(name, src.channels, size);
        self.graph.ops.push(Op::MaxPool { src, dst });
        dst
    }

    /// Bilinear resize of `src` to `like`'s size (U²-Net's `_upsample_like`).
    fn upsample_like(&mut self, name: &str, src: Slice, like: Slice) -> Slice {
        let dst = self.graph.tensor(name, src.channels, self.graph.size(like));
        self.graph.ops.push(Op::Upsample { src, dst });
        dst
    }

    fn add(&mut self, name: &str, a: Slice, b: Slice) -> Slice {
        let dst = self.graph.tensor(name, a.channels, self.graph.size(a));
        self.graph.ops.push(Op::Add { a, b, dst });
        dst
    }

    /// RSU-L: an encoder-decoder U inside the block, plus a residual.
    /// The block's input is cat(x, x2) when `x2` is given (decoder stages).
    fn rsu(&mut self, name: &str, s: &StageConfig, x: Slice, x2: Option<Slice>) -> Result<Slice> {
        let n = |conv: &str| format!("{name}.{conv}");
        let hxin = self.rebnconv(&n("rebnconvin"), (x, x2), s.cout, 1, None)?;
        let (depth, dilations): (u32, Vec<u32>) = match s.rsu {
            Rsu::Pooled(l) => (l, [vec![1; l as usize - 1], vec![2]].concat()),
            Rsu::Dilated => (4, vec![1, 2, 4, 8]),
        };
        // Encoder: hx1 .. hx{L}; pooled blocks pool before levels 2 .. L-1.
        let mut enc =
            vec![self.rebnconv(&n("rebnconv1"), (hxin, None), s.mid, dilations[0], None)?];
        for level in 2..=depth {
            let prev = *enc.last().unwrap();
            let pooled = matches!(s.rsu, Rsu::Pooled(_)) && level < depth;
            let src = if pooled {
                self.pool(&n(&format!("pool{}", level - 1)), prev)
            } else {
                prev
            };
            enc.push(self.rebnconv(
                &n(&format!("rebnconv{level}")),
                (src, None),
                s.mid,
                dilations[level as usize - 1],
                None,
            )?);
        }
        // Decoder: hx{L-1}d = conv(cat(hx{L}, hx{L-1})), then up to hx1d,
        // whose conv adds the block's residual hxin.
        let mut d = enc[depth as usize - 1];
        for level in (1..depth).rev() {
            let skip = enc[level as usize - 1];
            let (cout, residual) = if level == 1 {
                (s.cout, Some(hxin))
            } else {
                (s.mid, None)
            };
            let dil = dilations[level as usize - 1];
            let up = if level == depth - 1 || matches!(s.rsu, Rsu::Dilated) {
                d
            } else {
                self.upsample_like(&n(&format!("up{level}")), d, skip)
            };
            let name = n(&format!("rebnconv{level}d"));
            d = self.rebnconv(&name, (up, Some(skip)), cout, dil, residual)?;
        }
        Ok(d)
    }
}

/// Builds the network for one `height x width` input. Outputs `d0` .. `d6`
/// (sigmoid maps at input size) are channels 0..7 of one tensor `d`.
pub fn build(
    config: &U2NetConfig,
    (height, width): (u32, u32),
    layers: &mut dyn LayerSource,
) -> Result<Graph> {
    let mut b = GraphBuilder {
        graph: Graph::default(),
        layers,
    };
    let x = b.graph.tensor("input", 3, (height, width));
    b.graph.input = Some(x.tensor);

    // Encoder: stage1..stage6 with a pool between consecutive stages.
    let mut enc = Vec::new();
    let mut hx = x;
    for (i, (name, stage)) in STAGE_NAMES.iter().zip(&config.stages).take(6).enumerate() {
        let out = b.rsu(name, stage, hx, None)?;
        enc.push(out);
        if i < 5 {
            hx = b.pool(&format!("pool{}{}", i + 1, i + 2), out);
        }
    }
    // Decoder: stage{k}d over cat(deeper upsampled to the skip's size, skip).
    let mut dec = vec![enc[5]]; // hx6, hx5d, ..., hx1d
    for i in 6..11 {
        let skip = enc[10 - i];
        let deeper = *dec.last().unwrap();
        let up = b.upsample_like(&format!("{}.up", STAGE_NAMES[i - 1]), deeper, skip);
        dec.push(b.rsu(STAGE_NAMES[i], &config.stages[i], up, Some(skip))?);
    }

    // Side outputs, each upsampled straight into its channel of the fuse input.
    let full = (height, width);
    let fuse = b.graph.tensor("fuse", 6, full);
    for i in 1..=6 {
        let src = dec[6 - i];
        let spec = ConvSpec {
            cin: config.side_channels(i),
            cout: 1,
            k: 3,
            dilation: 1,
            relu: false,
        };
        let layer = b.layers.conv(&format!("side{i}"), None, spec)?;
        let slot = Slice {
            offset: i as u32 - 1,
            channels: 1,
            ..fuse
        };
        let dst = if b.graph.size(src) == full {
            slot
        } else {
            b.graph.tensor(format!("side{i}"), 1, b.graph.size(src))
        };
        b.graph.ops.push(Op::Conv {
            layer,
            a: src,
            b: None,
            residual: None,
            dst,
        });
        if dst != slot {
            b.graph.ops.push(Op::Upsample {
                src: dst,
                dst: slot,
            });
        }
    }
    let spec = ConvSpec {
        cin: 6,
        cout: 1,
        k: 1,
        dilation: 1,
        relu: false,
    };
    let layer = b.layers.conv("outconv", None, spec)?;
    let d0 = b.graph.tensor("outconv", 1, full);
    b.graph.ops.push(Op::Conv {
        layer,
        a: fuse,
        b: None,
        residual: None,
        dst: d0,
    });

    let d = b.graph.tensor("d", 7, full);
    b.graph.ops.push(Op::Sigmoid {
        src: d0,
        dst: Slice { channels: 1, ..d },
    });
    b.graph.ops.push(Op::Sigmoid {
        src: fuse,
        dst: Slice {
            offset: 1,
            channels: 6,
            ..d
        },
    });
    b.graph.outputs = (0..7)
        .map(|i| {
            (
                format!("d{i}"),
                Slice {
                    offset: i,
                    channels: 1,
                    ..d
                },
            )
        })
        .collect();
    Ok(b.graph)
}
