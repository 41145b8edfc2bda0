//! A recorded kernel launch: pipeline, bind group and grid, built once and
//! replayed every run. A batch is a list of these in one compute pass.

use crate::Result;
use crate::error::{bail, ensure};

use super::GpuContext;
use super::shaders::Shader;

/// Invocations per workgroup of every kernel (`WG` in shaders/shared/tensor.wgsl).
pub const WORKGROUP: u32 = 64;

/// Workgroups of [`WORKGROUP`] invocations that cover `threads`.
pub fn groups_for(threads: u64) -> u64 {
    threads.div_ceil(u64::from(WORKGROUP))
}

pub struct Dispatch {
    /// Kernel name for reports, e.g. `conv3x3_d2`.
    pub label: String,
    pub pipeline: wgpu::ComputePipeline,
    /// One grid per bind group, in order (several where a kernel's
    /// bindings change along the work, see [`Dispatch::then`]).
    pub bind_groups: Vec<wgpu::BindGroup>,
    pub groups: [u32; 3],
    /// Images the grid covers: z is this many equal slices, one per image,
    /// so [`Dispatch::record`] can run fewer.
    pub batch: u32,
    /// Useful floating-point operations (a multiply-add counts 2).
    pub flops: u64,
    /// Bytes of activations and weights read and written, at least once each.
    pub bytes: u64,
}

/// Builds one [`Dispatch`]: params go to binding 0, buffers to the given bindings.
#[derive(Clone)]
pub struct DispatchBuilder<'a> {
    ctx: &'a GpuContext,
    shader: Shader,
    entry: &'static str,
    constants: Vec<(&'static str, f64)>,
    /// (binding, buffer, offset, size): buffer ranges bound as they are.
    ranges: Vec<(u32, &'a wgpu::Buffer, u64, u64)>,
}

impl<'a> DispatchBuilder<'a> {
    pub fn new(ctx: &'a GpuContext, shader: Shader, entry: &'static str) -> Self {
        Self {
            ctx,
            shader,
            entry,
            constants: Vec::new(),
            ranges: Vec::new(),
        }
    }

    /// Binds `size` bytes of `buffer` from `offset` (a uniform window,
    /// where [`DispatchBuilder::build`] binds whole buffers).
    pub fn range(mut self, binding: u32, buffer: &'a wgpu::Buffer, offset: u64, size: u64) -> Self {
        self.ranges.push((binding, buffer, offset, size));
        self
    }

    /// Sets a pipeline-overridable constant (`override` in WGSL), replacing
    /// an earlier value: a kernel may override what every kernel of its
    /// family sets, and the pipeline is keyed by the final values.
    pub fn constant(mut self, name: &'static str, value: u32) -> Self {
        self.constants.retain(|(n, _)| *n != name);
        self.constants.push((name, f64::from(value)));
        self
    }

    /// `groups` workgroups along x (spread over x and y as the per-dimension
    /// limit requires) times `z` workgroups along z.
    pub fn build<P: bytemuck::Pod>(
        self,
        label: String,
        params: &P,
        buffers: &[(u32, &wgpu::Buffer)],
        groups: u64,
        z: u32,
    ) -> Result<Dispatch> {
        let groups = grid(self.ctx, groups, z, &label)?;
        let pipeline =
            self.ctx
                .pipelines
                .get(&self.ctx.device, self.shader, self.entry, &self.constants);
        let uniform = self.ctx.uniform(&label, params);
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: uniform.as_entire_binding(),
        }];
        for &(binding, buffer) in buffers {
            ensure!(
                buffer.size() <= self.ctx.max_binding_bytes(),
                Limit,
                "{label}: a buffer of {} bytes exceeds this adapter's storage binding limit of {} bytes",
                buffer.size(),
                self.ctx.max_binding_bytes()
            );
            entries.push(wgpu::BindGroupEntry {
                binding,
                resource: buffer.as_entire_binding(),
            });
        }
        for &(binding, buffer, offset, size) in &self.ranges {
            entries.push(wgpu::BindGroupEntry {
                binding,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer,
                    offset,
                    size: wgpu::BufferSize::new(size),
                }),
            });
        }
        // A binding that only a branch this pipeline's constants dropped
        // read is not in its layout (see specialize.rs).
        entries.retain(|e| pipeline.bindings.contains(&e.binding));
        let bind_group = self
            .ctx
            .device
            .create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(&label),
                layout: &pipeline.pipeline.get_bind_group_layout(0),
                entries: &entries,
            });
        Ok(Dispatch {
            label,
            pipeline: pipeline.pipeline,
            bind_groups: vec![bind_group],
            groups,
            batch: 1,
            flops: 0,
            bytes: 0,
        })
    }
}

/// Spreads `groups` workgroups over x and y; shaders recover the linear
/// index with `linear_group`.
fn grid(ctx: &GpuContext, groups: u64, z: u32, label: &str) -> Result<[u32; 3]> {
    let max = u64::from(ctx.limits.max_compute_workgroups_per_dimension);
    let x = groups.clamp(1, max);
    let y = groups.div_ceil(x).max(1);
    if y > max || u64::from(z) > max || z == 0 {
        bail!(
            Limit,
            "{label}: grid of {groups} x {z} workgroups exceeds this adapter's limit of {max} per dimension"
        );
    }
    Ok([x as u32, y as u32, z])
}

impl Dispatch {
    /// Records the dispatch for its first `images` images (at most its batch;
    /// a dispatch of batch 1 runs whole).
    pub fn record(&self, pass: &mut wgpu::ComputePass, images: u32) {
        let z = self.groups[2] / self.batch * images.clamp(1, self.batch);
        pass.set_pipeline(&self.pipeline);
        for bind_group in &self.bind_groups {
            pass.set_bind_group(0, bind_group, &[]);
            pass.dispatch_workgroups(self.groups[0], self.groups[1], z);
        }
    }

    /// This dispatch followed by `next`, built from the same pipeline and
    /// grid with other bindings: one kernel launch in reports.
    pub fn then(mut self, next: Dispatch) -> Dispatch {
        assert!(
            self.pipeline == next.pipeline && self.groups == next.groups,
            "{}: only the bindings may differ between the parts of a dispatch",
            self.label
        );
        self.bind_groups.extend(next.bind_groups);
        self
    }
}

impl GpuContext {
    /// Records all dispatches, whole, into one compute pass and submits them once.
    pub fn run<'a>(&self, dispatches: impl IntoIterator<Item = &'a Dispatch>) {
        self.run_images(dispatches, u32::MAX);
    }

    /// Like [`GpuContext::run`] for the first `images` images of each dispatch.
    pub fn run_images<'a>(&self, dispatches: impl IntoIterator<Item = &'a Dispatch>, images: u32) {
        let mut encoder = self.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            for d in dispatches {
                d.record(&mut pass, images);
            }
        }
        self.queue.submit([encoder.finish()]);
    }
}
