//! Runs a graph on the GPU. Weights are uploaded once per model
//! ([`GpuWeights`]); a [`GpuPlan`] is built once per (input size, batch):
//! buffers from the memory plan, then every dispatch with its pipeline and
//! bind group. Running a plan is one upload, one submit, one read-back.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::{bail, ensure};
use crate::{Error, Result};
use rayon::prelude::*;

use super::lower::{Lowered, Spatial, lower};
use super::planner::{self, MemoryPlan};
use super::tune::{ConvUse, TuneRow};
use super::{ConvLayer, Graph, Op};
use crate::gpu::{Dispatch, GpuContext};
use crate::kernels::batchnorm;
use crate::kernels::conv::{
    self, Caps, ConvBuffers, ConvKernel, ConvParams, ConvSpec, ConvWeights,
};
use crate::kernels::elementwise::Elementwise;
use crate::kernels::{Bound, pool, upsample};
use crate::model::Model;

/// A model's layers on the device, in the kernels' packed layouts.
pub struct GpuWeights {
    convs: Vec<(ConvWeights, wgpu::Buffer)>,
    bns: Vec<Option<wgpu::Buffer>>,
}

impl GpuWeights {
    /// Device memory held by the weights.
    pub fn bytes(&self) -> u64 {
        let convs = self.convs.iter().map(|(w, b)| w.bytes() + b.size());
        convs
            .chain(self.bns.iter().flatten().map(|b| b.size()))
            .sum()
    }

    pub fn upload(ctx: &GpuContext, layers: &[ConvLayer]) -> Self {
        let convs = layers
            .iter()
            .map(|l| {
                (
                    ConvWeights::upload(ctx, &l.name, &l.spec, &l.weight),
                    ctx.upload(&l.name, &conv::pack_bias(&l.spec, &l.bias)),
                )
            })
            .collect();
        let bns = layers
            .iter()
            .map(|l| l.bn.as_ref().map(|bn| ctx.upload(&l.name, &bn.packed())))
            .collect();
        Self { convs, bns }
    }
}

/// The largest batch one plan can run for this graph on this adapter:
/// every buffer must fit one storage binding, and every grid the
/// per-dimension workgroup limit.
pub fn max_batch(
    ctx: &GpuContext,
    graph: &Graph,
    plan: &MemoryPlan,
    layers: &[ConvLayer],
) -> Result<u32> {
    let slot = plan.largest_slot_bytes().max(4);
    let by_memory = ctx.max_binding_bytes() / slot;
    // Grids take a layer of workgroups per image and channel group, as
    // many as the kernel with the most that could run the conv has.
    let caps = Caps::of(ctx);
    let blocks = graph
        .ops
        .iter()
        .filter_map(|op| match *op {
            Op::Conv { layer, .. } => Some((op, &layers[layer].spec)),
            _ => None,
        })
        .flat_map(|(op, spec)| {
            let p = graph.conv_params(op, spec);
            ConvKernel::all()
                .filter(move |k| k.check(&caps, spec, &p).is_ok())
                .map(move |k| k.kernel().grid(&caps, spec, &p).1)
        })
        .max()
        .unwrap_or(1);
    let by_grid = u64::from(ctx.limits.max_compute_workgroups_per_dimension / blocks);
    let n = by_memory.min(by_grid).min(u64::from(u32::MAX));
    if n == 0 {
        let input = graph.input();
        bail!(
            Limit,
            "a {}x{} input needs {} bytes for one activation tensor, more than this adapter's storage binding limit of {} bytes; use a smaller input",
            input.width,
            input.height,
            slot,
            ctx.max_binding_bytes()
        );
    }
    Ok(n as u32)
}

/// A graph ready to run on the device for one batch size: its buffers and
/// every dispatch, recorded once. It shares its model's weights, so it
/// can re-record a conv with another kernel (tuning) on its own.
pub struct GpuPlan {
    ctx: GpuContext,
    model: Arc<Model>,
    weights: Arc<GpuWeights>,
    pub graph: Graph,
    pub batch: u32,
    pub memory: MemoryPlan,
    buffers: Vec<wgpu::Buffer>,
    pub dispatches: Vec<Dispatch>,
    /// The kernel of each conv op (None for other ops).
    pub conv_kernels: Vec<Option<ConvKernel>>,
}

impl GpuPlan {
    /// Builds the plan; `choose` gives each conv's tuned kernel from its
    /// tuning key (see [`GpuPlan::conv_key`]). Untuned convs, and tuned
    /// ones whose kernel cannot take them here (a hand-edited cache), get
    /// [`ConvKernel::untuned`].
    pub fn new(
        ctx: &GpuContext,
        graph: Graph,
        (model, weights): (Arc<Model>, Arc<GpuWeights>),
        batch: u32,
        choose: &dyn Fn(&str) -> Option<ConvKernel>,
    ) -> Result<Self> {
        let memory = planner::plan(&graph);
        let limit = max_batch(ctx, &graph, &memory, &model.layers)?;
        ensure!(
            batch <= limit,
            Limit,
            "batch {batch} exceeds the {limit} images one pass can hold on this adapter"
        );
        let buffers: Vec<wgpu::Buffer> = memory
            .slot_bytes
            .iter()
            .enumerate()
            .map(|(i, &bytes)| ctx.storage(&format!("slot {i}"), bytes * u64::from(batch)))
            .collect();
        let mut plan = Self {
            ctx: ctx.clone(),
            model,
            weights,
            graph,
            batch,
            memory,
            buffers,
            dispatches: Vec::new(),
            conv_kernels: Vec::new(),
        };
        plan.conv_kernels = (0..plan.graph.ops.len())
            .map(|i| {
                let key = plan.conv_key(i)?;
                let fits = |k: &ConvKernel| plan.fits(i, *k);
                Some(choose(&key).filter(fits).unwrap_or_else(|| {
                    let (spec, p) = plan.conv_shape(i).expect("a conv");
                    ConvKernel::untuned(&Caps::of(&plan.ctx), spec, &p)
                }))
            })
            .collect();
        // In parallel: the driver compiles each new pipeline on the
        // recording thread (see PipelineCache).
        plan.dispatches = plan
            .graph
            .ops
            .par_iter()
            .zip(&plan.conv_kernels)
            .map(|(op, kernel)| plan.record(op, kernel.unwrap_or_default()))
            .collect::<Result<_>>()?;
        Ok(plan)
    }

    /// The tuning key of op `i` if it is a conv.
    pub fn conv_key(&self, i: usize) -> Option<String> {
        let Op::Conv {
            layer,
            a,
            b,
            residual,
            dst,
        } = self.graph.ops[i]
        else {
            return None;
        };
        let conv = ConvUse {
            spec: &self.model.layers[layer].spec,
            size: self.graph.size(dst),
            batch: self.batch,
            precision: self.graph.info(dst).precision,
            concat: b.is_some(),
            residual: residual.is_some(),
            upsample: self.graph.size(a) != self.graph.size(dst),
        };
        Some(conv.key())
    }

    /// Op `i`'s layer shape and params if it is a conv.
    pub fn conv_shape(&self, i: usize) -> Option<(&ConvSpec, ConvParams)> {
        let op = &self.graph.ops[i];
        let Op::Conv { layer, .. } = *op else {
            return None;
        };
        let spec = &self.model.layers[layer].spec;
        Some((spec, self.graph.conv_params(op, spec)))
    }

    /// Whether `kernel` can compute op `i` (a conv) on this device.
    fn fits(&self, i: usize, kernel: ConvKernel) -> bool {
        self.conv_shape(i)
            .is_some_and(|(spec, p)| kernel.check(&Caps::of(&self.ctx), spec, &p).is_ok())
    }

    /// The whole batch's GPU time, median of `runs` profiled runs (ms).
    pub fn median_ms(&self, runs: usize) -> Result<f64> {
        let mut spans = (0..runs.max(1))
            .map(|_| Ok(self.ctx.time_dispatches(&self.dispatches)?.span))
            .collect::<Result<Vec<f64>>>()?;
        spans.sort_by(f64::total_cmp);
        Ok(spans[spans.len() / 2])
    }

    /// Times every conv with every kernel (median of `repeats` runs each,
    /// on this plan's buffers) and switches each to the fastest. Convs that
    /// share a tuning key share the choice: the kernel with the least time
    /// summed over them, so the cache holds one answer per key.
    pub fn tune(&mut self, repeats: usize) -> Result<Vec<TuneRow>> {
        // (op index, key, median ms per kernel in `kernels` order)
        let kernels: Vec<ConvKernel> = ConvKernel::all().collect();
        let mut timed = Vec::new();
        for i in 0..self.graph.ops.len() {
            let Some(key) = self.conv_key(i) else {
                continue;
            };
            // Kernels this adapter cannot run stay at infinity.
            let mut ms = vec![f64::INFINITY; kernels.len()];
            for (t, &kernel) in ms.iter_mut().zip(&kernels) {
                if !self.fits(i, kernel) {
                    continue;
                }
                let runs = (0..repeats.max(1))
                    .map(|_| self.record(&self.graph.ops[i], kernel))
                    .collect::<Result<Vec<_>>>()?;
                let mut times = self.ctx.time_dispatches(&runs)?.times;
                times.sort_by(f64::total_cmp);
                *t = times[times.len() / 2];
            }
            timed.push((i, key, ms));
        }
        let mut totals: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        for (_, key, ms) in &timed {
            let sum = totals
                .entry(key)
                .or_insert_with(|| vec![0.0; kernels.len()]);
            for (s, t) in sum.iter_mut().zip(ms) {
                *s += t;
            }
        }
        let best: BTreeMap<&str, ConvKernel> = totals
            .iter()
            .map(|(&key, sums)| {
                let fastest = (0..sums.len())
                    .min_by(|&a, &b| sums[a].total_cmp(&sums[b]))
                    .expect("a kernel");
                (key, kernels[fastest])
            })
            .collect();
        let mut rows = Vec::new();
        for (i, key, ms) in &timed {
            let chosen = best[key.as_str()];
            if self.conv_kernels[*i] != Some(chosen) {
                self.dispatches[*i] = self.record(&self.graph.ops[*i], chosen)?;
                self.conv_kernels[*i] = Some(chosen);
            }
            let Op::Conv { layer, .. } = self.graph.ops[*i] else {
                unreachable!("conv_key is Some only for convs")
            };
            rows.push(TuneRow {
                layer: self.model.layers[layer].name.clone(),
                key: key.clone(),
                ms: kernels
                    .iter()
                    .zip(ms)
                    .filter(|(_, t)| t.is_finite())
                    .map(|(k, &t)| (k.name().to_owned(), t))
                    .collect(),
                chosen,
            });
        }
        Ok(rows)
    }

    /// The input tensor's buffer and view, for passes that prepare the
    /// input on the device in the same submit (image `n` at `view.index(n, ..)`).
    pub fn input_binding(&self) -> (&wgpu::Buffer, crate::kernels::View) {
        let id = self.graph.input.expect("graph has an input");
        let s = super::Slice {
            tensor: id,
            offset: 0,
            channels: self.graph.tensors[id.0].channels,
        };
        (self.buffer(s), self.graph.view(s))
    }

    /// A named output's buffer and view (e.g. `d0`), for passes that read
    /// it on the device in the same submit.
    pub fn output_binding(&self, name: &str) -> Option<(&wgpu::Buffer, crate::kernels::View)> {
        let (_, s) = self.graph.outputs.iter().find(|(n, _)| n == name)?;
        Some((self.buffer(*s), self.graph.view(*s)))
    }

    fn buffer(&self, s: super::Slice) -> &wgpu::Buffer {
        &self.buffers[self.memory.slot_of[s.tensor.0]]
    }

    fn record(&self, op: &Op, kernel: ConvKernel) -> Result<Dispatch> {
        let (ctx, g, n) = (&self.ctx, &self.graph, self.batch);
        let (layers, weights) = (&self.model.layers, &*self.weights);
        // Activations share one storage precision; the input and the
        // outputs are f32 (see Graph::storing).
        let act = |s| g.info(s).precision;
        let d = match lower(g, layers, op) {
            Lowered::Conv {
                layer,
                index,
                p,
                a,
                b,
                residual,
                dst,
            } => {
                let (wb, bb) = &weights.convs[index];
                let buffers = ConvBuffers {
                    a: self.buffer(a),
                    b: b.map(|b| self.buffer(b)),
                    residual: residual.map(|r| self.buffer(r)),
                    weights: wb,
                    bias: bb,
                    dst: Bound {
                        buffer: self.buffer(dst),
                        view: g.view(dst),
                    },
                };
                conv::dispatch(ctx, (kernel, act(dst)), &layer.spec, &p, n, buffers)?
            }
            Lowered::BatchNorm {
                index, p, src, dst, ..
            } => {
                let stats = weights.bns[index]
                    .as_ref()
                    .ok_or_else(|| Error::Input("BatchNorm op on a folded layer".into()))?;
                let buffers = (stats, self.buffer(dst));
                batchnorm::dispatch(ctx, act(dst), &p, n, self.buffer(src), buffers)?
            }
            Lowered::Spatial { kind, p, src, dst } => {
                let (src, dst_buffer) = (self.buffer(src), self.buffer(dst));
                match kind {
                    Spatial::MaxPool => pool::dispatch(ctx, act(dst), &p, n, src, dst_buffer)?,
                    Spatial::Upsample => upsample::dispatch(ctx, act(dst), &p, n, src, dst_buffer)?,
                }
            }
            Lowered::Elementwise {
                kind, p, a, b, dst, ..
            } => {
                // The sigmoid reads activations and writes the f32
                // outputs; the conversion reads the f32 input.
                let storage = match kind {
                    Elementwise::Sigmoid => act(a),
                    _ => act(dst),
                };
                let b = b.map(|b| self.buffer(b));
                kind.dispatch(ctx, storage, &p, n, self.buffer(a), b, self.buffer(dst))?
            }
        };
        // Every op's grid is one z slice per image: a run of fewer images
        // records fewer slices.
        let mut d = d;
        d.batch = n;
        Ok(d)
    }

    /// Device memory of the activation buffers (all images of the batch).
    pub fn activation_bytes(&self) -> u64 {
        self.buffers.iter().map(wgpu::Buffer::size).sum()
    }

    /// Runs `count <= batch` images of `input` (NCHW) and returns each named
    /// output as count x channels x H x W.
    pub fn run(&self, input: &[f32], count: u32) -> Result<Vec<Vec<f32>>> {
        ensure!(
            count <= self.batch,
            Limit,
            "{count} images for a plan of batch {}",
            self.batch
        );
        let input_id = self.graph.input.expect("graph has an input");
        let per_image = self.graph.tensors[input_id.0].len();
        ensure!(
            input.len() as u64 == per_image * u64::from(count),
            Input,
            "input has {} values, expected {count} images of {per_image}",
            input.len()
        );
        let input_buffer = &self.buffers[self.memory.slot_of[input_id.0]];
        self.ctx.write(input_buffer, 0, input);
        self.ctx.run_images(&self.dispatches, count);
        // Each output tensor is read once, then its slices are cut out.
        let mut tensors: std::collections::HashMap<usize, Vec<f32>> = Default::default();
        for (_, s) in &self.graph.outputs {
            if let std::collections::hash_map::Entry::Vacant(e) = tensors.entry(s.tensor.0) {
                let len = self.graph.tensors[s.tensor.0].len() * u64::from(count);
                e.insert(self.ctx.read(self.buffer(*s), 0, len as usize)?);
            }
        }
        Ok(self
            .graph
            .outputs
            .iter()
            .map(|(_, s)| super::cpu::extract(&self.graph, s, &tensors[&s.tensor.0], count))
            .collect())
    }
}
