//! Images on the GPU as the matting passes read them, and recording
//! dispatch lists that repeat.

use image::Rgb32FImage;
use wgpu::util::DeviceExt as _;

use super::Plane;
use crate::Result;
use crate::gpu::GpuContext;
use crate::kernels::foreground::{Packed, unpack};

const STORAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

/// A storage buffer holding `words` (at least one word: empty bindings are invalid).
pub(crate) fn upload_words(ctx: &GpuContext, label: &str, words: &[u32]) -> wgpu::Buffer {
    let words: &[u32] = if words.is_empty() { &[0] } else { words };
    ctx.device
        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::cast_slice(words),
            usage: STORAGE,
        })
}

/// Reads `len` u32 words of `buffer` back.
pub(crate) fn read_words(ctx: &GpuContext, buffer: &wgpu::Buffer, len: usize) -> Result<Vec<u32>> {
    let bytes = ctx.read_bytes(buffer, 0, len as u64 * 4)?;
    Ok(bytemuck::pod_collect_to_vec(&bytes))
}

/// A one-channel f32 image on the GPU (mask, trimap, alpha), row-major.
pub struct GpuPlane {
    pub buffer: wgpu::Buffer,
    pub width: u32,
    pub height: u32,
}

impl GpuPlane {
    /// An uninitialized plane.
    pub fn new(ctx: &GpuContext, label: &str, width: u32, height: u32) -> Self {
        Self {
            buffer: ctx.storage(label, u64::from(width) * u64::from(height) * 4),
            width,
            height,
        }
    }

    pub fn upload(ctx: &GpuContext, label: &str, plane: &Plane) -> Self {
        Self {
            buffer: ctx.upload(label, &plane.data),
            width: plane.width,
            height: plane.height,
        }
    }

    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    pub fn pixels(&self) -> usize {
        self.width as usize * self.height as usize
    }

    /// Waits for the GPU and copies the plane back.
    pub fn read(&self, ctx: &GpuContext) -> Result<Plane> {
        let data = ctx.read(&self.buffer, 0, self.pixels())?;
        Ok(Plane::new(self.width, self.height, data))
    }
}

/// An RGBA8 image on the GPU, one u32 word per pixel with R in the low
/// byte (the byte order of an `RgbaImage`, so it uploads as is).
pub struct GpuRgba {
    pub buffer: wgpu::Buffer,
    pub width: u32,
    pub height: u32,
}

impl GpuRgba {
    pub fn upload(ctx: &GpuContext, label: &str, words: &[u32], width: u32, height: u32) -> Self {
        assert_eq!(
            words.len(),
            width as usize * height as usize,
            "{label}: pixel count"
        );
        Self {
            buffer: upload_words(ctx, label, words),
            width,
            height,
        }
    }

    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }
}

/// Colours in [0, 1] on the GPU as foreground.wgsl stores them: two words a
/// pixel, (r, g) and (b, 0) as 16-bit unorm.
pub struct GpuColors {
    pub buffer: wgpu::Buffer,
    pub width: u32,
    pub height: u32,
}

impl GpuColors {
    pub fn new(ctx: &GpuContext, label: &str, width: u32, height: u32) -> Self {
        Self {
            buffer: ctx.storage(label, u64::from(width) * u64::from(height) * 8),
            width,
            height,
        }
    }

    /// Waits for the GPU and copies the colours back as f32 RGB.
    pub fn read(&self, ctx: &GpuContext) -> Result<Rgb32FImage> {
        let n = self.width as usize * self.height as usize;
        let words = read_words(ctx, &self.buffer, 2 * n)?;
        let packed: &[Packed] = bytemuck::cast_slice(&words);
        let data: Vec<f32> = packed.iter().flat_map(|&p| unpack(p)).collect();
        Ok(Rgb32FImage::from_raw(self.width, self.height, data).expect("three values a pixel"))
    }
}
