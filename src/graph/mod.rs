//! The network as data: ops over named tensors, built for one input size.
//! One [`Graph`] runs on the GPU ([`gpu::GpuPlan`]) or on the CPU reference
//! ([`cpu::run`]); the memory planner decides which tensors share buffers.

pub mod cpu;
pub mod gpu;
pub mod lower;
pub mod planner;
pub mod stats;
pub mod tune;

use crate::kernels::conv::{ConvParams, ConvSpec};
use crate::kernels::{Precision, View};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(pub usize);

/// Which upsamples a GPU plan folds into the convs reading them
/// (upsample-on-read, [`Graph::fusing_upsamples`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpsampleFusion {
    /// None: each upsample is written by its own kernel.
    Off,
    /// Those that double both sides (every one of U²-Net's at sizes
    /// divisible by 32, such as 320x320): the direct conv kernels read the
    /// source rows whole, 6 loads per row of 10 inputs.
    Doubling,
    /// Every one; the others read 4 source pixels per input.
    All,
}

impl UpsampleFusion {
    pub const ALL: [UpsampleFusion; 3] = [Self::Off, Self::Doubling, Self::All];

    pub fn name(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Doubling => "doubling",
            Self::All => "all",
        }
    }
}

/// An activation tensor, per image: `channels x height x width`, stored
/// on the GPU in `precision` (the CPU executor computes in f32 throughout).
#[derive(Clone, Debug)]
pub struct TensorInfo {
    pub name: String,
    pub channels: u32,
    pub height: u32,
    pub width: u32,
    pub precision: Precision,
}

impl TensorInfo {
    pub fn plane(&self) -> u32 {
        self.height * self.width
    }

    /// Whether the tensor holds nothing (a channel count or side of 0).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Elements per image.
    pub fn len(&self) -> u64 {
        u64::from(self.channels) * u64::from(self.plane())
    }

    /// Bytes per image on the GPU.
    pub fn bytes(&self) -> u64 {
        self.precision.bytes(self.len())
    }
}

/// Channels `offset .. offset + channels` of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slice {
    pub tensor: TensorId,
    pub offset: u32,
    pub channels: u32,
}

/// One kernel launch. Conv and BatchNorm refer to a layer of the model by index.
#[derive(Clone, Debug)]
pub enum Op {
    /// Conv over the channel concatenation of `a` and `b`, plus
    /// `residual` after the activation. An `a` smaller than `dst` is read
    /// through the bilinear upsample to `dst`'s size (upsample-on-read).
    Conv {
        layer: usize,
        a: Slice,
        b: Option<Slice>,
        residual: Option<Slice>,
        dst: Slice,
    },
    /// The layer's BatchNorm (unfolded weights only), with ReLU.
    BatchNorm {
        layer: usize,
        src: Slice,
        dst: Slice,
    },
    MaxPool {
        src: Slice,
        dst: Slice,
    },
    /// Bilinear resize of `src` to `dst`'s size.
    Upsample {
        src: Slice,
        dst: Slice,
    },
    Add {
        a: Slice,
        b: Slice,
        dst: Slice,
    },
    /// Writes f32 whatever `src` is stored as: the network's outputs.
    Sigmoid {
        src: Slice,
        dst: Slice,
    },
    /// Copies the f32 network input into the activations' storage type.
    Convert {
        src: Slice,
        dst: Slice,
    },
}

impl Op {
    /// Slices read, then the slice written.
    pub fn io(&self) -> (Vec<Slice>, Slice) {
        match *self {
            Op::Conv {
                a,
                b,
                residual,
                dst,
                ..
            } => (std::iter::once(a).chain(b).chain(residual).collect(), dst),
            Op::BatchNorm { src, dst, .. }
            | Op::MaxPool { src, dst }
            | Op::Upsample { src, dst }
            | Op::Sigmoid { src, dst }
            | Op::Convert { src, dst } => (vec![src], dst),
            Op::Add { a, b, dst } => (vec![a, b], dst),
        }
    }
}

/// A conv layer's static shape and its weights (OIHW, PyTorch layout).
#[derive(Clone, Debug)]
pub struct ConvLayer {
    /// PyTorch module path, e.g. `stage1.rebnconvin`.
    pub name: String,
    pub spec: ConvSpec,
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
    /// Present when the weights were loaded without folding BN.
    pub bn: Option<crate::kernels::batchnorm::BatchNorm>,
}

#[derive(Clone, Debug, Default)]
pub struct Graph {
    pub tensors: Vec<TensorInfo>,
    pub ops: Vec<Op>,
    pub input: Option<TensorId>,
    /// Named outputs, in order.
    pub outputs: Vec<(String, Slice)>,
}

impl Graph {
    pub fn tensor(
        &mut self,
        name: impl Into<String>,
        channels: u32,
        (height, width): (u32, u32),
    ) -> Slice {
        self.tensors.push(TensorInfo {
            name: name.into(),
            channels,
            height,
            width,
            precision: Precision::F32,
        });
        Slice {
            tensor: TensorId(self.tensors.len() - 1),
            offset: 0,
            channels,
        }
    }

    pub fn info(&self, s: Slice) -> &TensorInfo {
        &self.tensors[s.tensor.0]
    }

    pub fn size(&self, s: Slice) -> (u32, u32) {
        let t = self.info(s);
        (t.height, t.width)
    }

    /// The kernels' view of a slice.
    pub fn view(&self, s: Slice) -> View {
        let t = self.info(s);
        View::slice(t.channels, s.offset, s.channels, t.plane())
    }

    pub fn input(&self) -> &TensorInfo {
        &self.tensors[self.input.expect("graph has an input").0]
    }

    /// The same network with its activations stored in `precision`. The
    /// input and the sigmoid outputs stay f32 (callers upload and read
    /// f32); with f16 a [`Op::Convert`] first turns the input into an f16
    /// copy that every other op reads instead.
    pub fn storing(mut self, precision: Precision) -> Graph {
        if precision == Precision::F32 {
            return self;
        }
        let input = self.input.expect("graph has an input");
        let outputs: Vec<TensorId> = self
            .ops
            .iter()
            .filter(|op| matches!(op, Op::Sigmoid { .. }))
            .map(|op| op.io().1.tensor)
            .collect();
        let info = self.tensors[input.0].clone();
        let src = Slice {
            tensor: input,
            offset: 0,
            channels: info.channels,
        };
        let copy = self.tensor(
            format!("{}.{}", info.name, precision.name()),
            info.channels,
            (info.height, info.width),
        );
        for op in &mut self.ops {
            op.reading(input, copy.tensor);
        }
        self.ops.insert(0, Op::Convert { src, dst: copy });
        for (id, t) in self.tensors.iter_mut().enumerate() {
            if TensorId(id) != input && !outputs.contains(&TensorId(id)) {
                t.precision = precision;
            }
        }
        self
    }

    /// Conv params of a conv op: views, sizes, residual, upsample-on-read.
    pub fn conv_params(&self, op: &Op, spec: &ConvSpec) -> ConvParams {
        let Op::Conv {
            a,
            b,
            residual,
            dst,
            ..
        } = *op
        else {
            panic!("conv_params of a {op:?}");
        };
        let (h, w) = self.size(dst);
        let mut p = spec.params(self.view(a), b.map(|b| self.view(b)), self.view(dst), h, w);
        if let Some(r) = residual {
            p = p.with_residual(self.view(r));
        }
        if self.size(a) != (h, w) {
            p = p.with_upsampled_a(self.size(a));
        }
        p
    }

    /// Whether some conv reads its `a` input upsampled.
    pub fn upsamples_on_read(&self) -> bool {
        self.ops
            .iter()
            .any(|op| matches!(*op, Op::Conv { a, dst, .. } if self.size(a) != self.size(dst)))
    }

    /// The same network with the upsamples `which` names folded into the
    /// convs that read them (upsample-on-read), where they only feed
    /// convs' `a` input: the upsampled tensor is never written, saving its
    /// write and reads.
    pub fn fusing_upsamples(mut self, which: UpsampleFusion) -> Graph {
        let outputs: Vec<TensorId> = self.outputs.iter().map(|(_, s)| s.tensor).collect();
        let mut fused = vec![false; self.ops.len()];
        for (i, is_fused) in fused.iter_mut().enumerate() {
            let Op::Upsample { src, dst } = self.ops[i] else {
                continue;
            };
            let (h, w) = self.size(src);
            let wanted = match which {
                UpsampleFusion::Off => false,
                UpsampleFusion::Doubling => self.size(dst) == (2 * h, 2 * w),
                UpsampleFusion::All => true,
            };
            let whole = dst.offset == 0 && dst.channels == self.info(dst).channels;
            let readers: Vec<usize> = (0..self.ops.len())
                .filter(|&j| self.ops[j].io().0.iter().any(|r| r.tensor == dst.tensor))
                .collect();
            let only_conv_a = readers.iter().all(|&j| {
                matches!(self.ops[j], Op::Conv { a, b, residual, .. }
                    if a == dst && b.is_none_or(|b| b.tensor != dst.tensor)
                        && residual.is_none_or(|r| r.tensor != dst.tensor))
            });
            if !wanted
                || !whole
                || outputs.contains(&dst.tensor)
                || readers.is_empty()
                || !only_conv_a
            {
                continue;
            }
            for j in readers {
                if let Op::Conv { a, .. } = &mut self.ops[j] {
                    *a = src;
                }
            }
            *is_fused = true;
        }
        let mut fused = fused.into_iter();
        self.ops.retain(|_| !fused.next().expect("one flag per op"));
        self
    }
}

impl Op {
    /// Makes the op read tensor `to` wherever it read `from`.
    fn reading(&mut self, from: TensorId, to: TensorId) {
        let swap = |s: &mut Slice| {
            if s.tensor == from {
                s.tensor = to;
            }
        };
        match self {
            Op::Conv { a, b, residual, .. } => {
                swap(a);
                b.iter_mut().chain(residual.iter_mut()).for_each(swap);
            }
            Op::BatchNorm { src, .. }
            | Op::MaxPool { src, .. }
            | Op::Upsample { src, .. }
            | Op::Sigmoid { src, .. }
            | Op::Convert { src, .. } => swap(src),
            Op::Add { a, b, .. } => {
                swap(a);
                swap(b);
            }
        }
    }
}
