//! Per-dispatch GPU timing. With timestamp queries each dispatch gets its
//! own compute pass with begin/end timestamps; without them each dispatch
//! is submitted alone and timed on the host (slower, includes submit cost).

use std::time::Instant;

use anyhow::Result;

use super::{Dispatch, GpuContext};

/// How per-dispatch times were measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimingSource {
    Timestamps,
    HostPerDispatch,
}

/// wgpu's cap on queries in one set.
const MAX_QUERIES: usize = 4096;

impl GpuContext {
    /// Runs every dispatch once, in order, and returns each one's time in ms.
    pub fn time_dispatches(&self, dispatches: &[Dispatch]) -> Result<(Vec<f64>, TimingSource)> {
        if !self.features.contains(wgpu::Features::TIMESTAMP_QUERY) {
            let mut times = Vec::with_capacity(dispatches.len());
            for d in dispatches {
                let t = Instant::now();
                self.run(std::slice::from_ref(d));
                self.wait()?;
                times.push(t.elapsed().as_secs_f64() * 1e3);
            }
            return Ok((times, TimingSource::HostPerDispatch));
        }
        let mut times = Vec::with_capacity(dispatches.len());
        for chunk in dispatches.chunks(MAX_QUERIES / 2) {
            times.extend(self.time_with_timestamps(chunk)?);
        }
        Ok((times, TimingSource::Timestamps))
    }

    fn time_with_timestamps(&self, dispatches: &[Dispatch]) -> Result<Vec<f64>> {
        let count = 2 * dispatches.len() as u32;
        let queries = self.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("kernel timestamps"),
            ty: wgpu::QueryType::Timestamp,
            count,
        });
        let resolved = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("timestamps"),
            size: u64::from(count) * 8,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let mut encoder = self.device.create_command_encoder(&Default::default());
        for (i, d) in dispatches.iter().enumerate() {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(&d.label),
                timestamp_writes: Some(wgpu::ComputePassTimestampWrites {
                    query_set: &queries,
                    beginning_of_pass_write_index: Some(2 * i as u32),
                    end_of_pass_write_index: Some(2 * i as u32 + 1),
                }),
            });
            pass.set_pipeline(&d.pipeline);
            pass.set_bind_group(0, &d.bind_group, &[]);
            pass.dispatch_workgroups(d.groups[0], d.groups[1], d.groups[2]);
        }
        encoder.resolve_query_set(&queries, 0..count, &resolved, 0);
        self.queue.submit([encoder.finish()]);
        let ticks: Vec<u64> =
            bytemuck::pod_collect_to_vec(&self.read_bytes(&resolved, 0, u64::from(count) * 8)?);
        let ns_per_tick = f64::from(self.queue.get_timestamp_period());
        Ok(ticks
            .chunks_exact(2)
            .map(|t| t[1].saturating_sub(t[0]) as f64 * ns_per_tick / 1e6)
            .collect())
    }
}
