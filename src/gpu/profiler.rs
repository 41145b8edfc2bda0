//! Per-dispatch GPU timing. With timestamp queries each dispatch gets its
//! own compute pass with begin/end timestamps; without them each dispatch
//! is submitted alone and timed on the host (slower, includes submit cost).

use std::time::Instant;

use crate::Result;

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

/// One profiled run of a list of dispatches.
pub struct Profile {
    /// Each dispatch's time, ms.
    pub times: Vec<f64>,
    /// From the first dispatch's start to the last one's end, ms: the
    /// batch as the same run saw it, gaps between dispatches included.
    pub span: f64,
    pub source: TimingSource,
}

impl GpuContext {
    /// Runs every dispatch once, in order, timing each.
    pub fn time_dispatches(&self, dispatches: &[Dispatch]) -> Result<Profile> {
        if !self.features.contains(wgpu::Features::TIMESTAMP_QUERY) {
            let mut times = Vec::with_capacity(dispatches.len());
            for d in dispatches {
                let t = Instant::now();
                self.run(std::slice::from_ref(d));
                self.wait()?;
                times.push(t.elapsed().as_secs_f64() * 1e3);
            }
            let span = times.iter().sum();
            return Ok(Profile {
                times,
                span,
                source: TimingSource::HostPerDispatch,
            });
        }
        let mut profile = Profile {
            times: Vec::new(),
            span: 0.0,
            source: TimingSource::Timestamps,
        };
        for chunk in dispatches.chunks(MAX_QUERIES / 2) {
            let (times, span) = self.time_with_timestamps(chunk)?;
            profile.times.extend(times);
            profile.span += span;
        }
        Ok(profile)
    }

    /// (per-dispatch ms, first start to last end ms)
    fn time_with_timestamps(&self, dispatches: &[Dispatch]) -> Result<(Vec<f64>, f64)> {
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
            d.record(&mut pass, d.batch);
        }
        encoder.resolve_query_set(&queries, 0..count, &resolved, 0);
        self.queue.submit([encoder.finish()]);
        let ticks: Vec<u64> =
            bytemuck::pod_collect_to_vec(&self.read_bytes(&resolved, 0, u64::from(count) * 8)?);
        let ms = |ticks: u64| ticks as f64 * f64::from(self.queue.get_timestamp_period()) / 1e6;
        let times = ticks
            .chunks_exact(2)
            .map(|t| ms(t[1].saturating_sub(t[0])))
            .collect();
        let span = ms(ticks[ticks.len() - 1].saturating_sub(ticks[0]));
        Ok((times, span))
    }
}
