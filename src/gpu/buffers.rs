//! Storage buffers: upload, allocation, read-back.

use crate::Result;
use crate::error::GpuResultExt as _;
use wgpu::util::DeviceExt as _;

use super::GpuContext;

const STORAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

/// The smallest buffer: kernels bind their tensors as vec4 arrays too,
/// which needs 16 bytes (and an empty binding is invalid).
const MIN_BUFFER_BYTES: u64 = 16;

impl GpuContext {
    /// A storage buffer holding `data`.
    pub fn upload(&self, label: &str, data: &[f32]) -> wgpu::Buffer {
        self.upload_bytes(label, bytemuck::cast_slice(data))
    }

    /// A storage buffer holding `bytes` (f16 data, packed pixels).
    pub fn upload_bytes(&self, label: &str, bytes: &[u8]) -> wgpu::Buffer {
        self.upload_with(label, bytes, STORAGE)
    }

    /// A buffer holding `data` that binds as storage or as uniform windows.
    pub fn upload_uniform(&self, label: &str, data: &[f32]) -> wgpu::Buffer {
        let usage = STORAGE | wgpu::BufferUsages::UNIFORM;
        self.upload_with(label, bytemuck::cast_slice(data), usage)
    }

    fn upload_with(&self, label: &str, bytes: &[u8], usage: wgpu::BufferUsages) -> wgpu::Buffer {
        // Shorter data is padded with zeros (see MIN_BUFFER_BYTES).
        let padded: Vec<u8>;
        let bytes = if bytes.len() < MIN_BUFFER_BYTES as usize {
            padded = [bytes, &[0; MIN_BUFFER_BYTES as usize][bytes.len()..]].concat();
            &padded
        } else {
            bytes
        };
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytes,
                usage,
            })
    }

    /// An uninitialized storage buffer of `bytes` (at least MIN_BUFFER_BYTES).
    pub fn storage(&self, label: &str, bytes: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes.max(MIN_BUFFER_BYTES).next_multiple_of(4),
            usage: STORAGE,
            mapped_at_creation: false,
        })
    }

    /// A uniform buffer holding one parameter struct.
    pub fn uniform<T: bytemuck::Pod>(&self, label: &str, value: &T) -> wgpu::Buffer {
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytemuck::bytes_of(value),
                usage: wgpu::BufferUsages::UNIFORM,
            })
    }

    /// Copies `len` f32 of `buffer` starting at element `offset` back to
    /// the host, waiting for all submitted work.
    pub fn read(&self, buffer: &wgpu::Buffer, offset: u64, len: usize) -> Result<Vec<f32>> {
        let bytes = self.read_bytes(buffer, offset * 4, len as u64 * 4)?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// Copies `bytes` bytes of `buffer` from byte `offset` back to the host.
    pub fn read_bytes(&self, buffer: &wgpu::Buffer, offset: u64, bytes: u64) -> Result<Vec<u8>> {
        if bytes == 0 {
            return Ok(Vec::new());
        }
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("read-back"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self.device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(buffer, offset, &staging, 0, bytes);
        self.queue.submit([encoder.finish()]);
        let (tx, rx) = std::sync::mpsc::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send(r);
        });
        self.wait()?;
        rx.recv()
            .gpu("read-back callback dropped")?
            .gpu("mapping read-back buffer")?;
        let data = staging.get_mapped_range(..).gpu("reading back")?.to_vec();
        staging.unmap();
        Ok(data)
    }

    /// Blocks until all submitted work is done.
    pub fn wait(&self) -> Result<()> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .gpu("waiting for the GPU")?;
        Ok(())
    }

    /// Writes `data` into `buffer` at element `offset`.
    pub fn write(&self, buffer: &wgpu::Buffer, offset: u64, data: &[f32]) {
        self.queue
            .write_buffer(buffer, offset * 4, bytemuck::cast_slice(data));
    }
}
