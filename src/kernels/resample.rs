//! Pillow-exact Lanczos resizing of 8-bit images (shaders/resample.wgsl).
//!
//! Pillow resizes 8-bit images in two separable passes, horizontal first into
//! an 8-bit intermediate, then vertical, each in fixed point: weights are
//! computed in f64 (Lanczos, support 3 widened by the downscale factor,
//! normalized to sum 1), rounded to integers with [`PRECISION_BITS`]
//! fraction bits, and every output byte is `clip8(sum + half)`
//! (libImaging/Resample.c). rembg resizes with it on the way into the network
//! and on the way out, so matching rembg's masks to the gray level means
//! doing exactly this. The weight tables depend only on the sizes: [`Axis`]
//! computes them on the CPU as Pillow does and both the kernels and the CPU
//! reference read them, so the two agree bit for bit, and with Pillow.

use crate::Result;
use bytemuck::{Pod, Zeroable};

use crate::gpu::{Dispatch, DispatchBuilder, GpuContext, groups_for, shaders};

/// Fraction bits of Pillow's 8-bit weights (`PRECISION_BITS = 32 - 8 - 2`).
pub const PRECISION_BITS: u32 = 22;
/// Lanczos window radius (Lanczos3) before widening by the downscale factor.
const SUPPORT: f64 = 3.0;

/// An 8-bit image packed into u32 words, `Image8` in
/// shaders/shared/image8.wgsl (tests/it/layout.rs checks the layout): rows of `stride` words from
/// word `offset`; byte `j` of a row (channel `j % channels` of pixel
/// `j / channels`) is byte `j % 4` (little-endian) of word `j / 4`. RGBA
/// images have a pixel per word; gray masks four.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct Image8 {
    pub offset: u32,
    pub stride: u32,
    pub width: u32,
    pub height: u32,
}

impl Image8 {
    /// A `width x height` image of `channels` bytes per pixel at word `offset`,
    /// rows padded to whole words.
    pub fn new(width: u32, height: u32, channels: u32, offset: u32) -> Self {
        Self {
            offset,
            stride: (width * channels).div_ceil(4),
            width,
            height,
        }
    }

    /// Words the image covers (from its offset).
    pub fn words(&self) -> u64 {
        u64::from(self.stride) * u64::from(self.height)
    }

    /// Byte `j` of row `y`.
    pub fn byte(&self, words: &[u32], y: u32, j: u32) -> u8 {
        let w = words[(self.offset + y * self.stride + j / 4) as usize];
        (w >> (8 * (j % 4))) as u8
    }
}

/// Packs rows of `width * channels` bytes into the [`Image8`] layout at offset 0.
pub fn pack(bytes: &[u8], width: u32, height: u32, channels: u32) -> Vec<u32> {
    let row = (width * channels) as usize;
    assert_eq!(bytes.len(), row * height as usize, "image size");
    let img = Image8::new(width, height, channels, 0);
    let mut out = Vec::with_capacity(img.words() as usize);
    for r in bytes.chunks_exact(row.max(1)).take(height as usize) {
        out.extend(r.chunks(4).map(|c| {
            let mut w = [0u8; 4];
            w[..c.len()].copy_from_slice(c);
            u32::from_le_bytes(w)
        }));
    }
    out
}

/// The bytes of `img` in `words`, rows of `width * channels` bytes, padding dropped.
pub fn unpack(words: &[u32], img: &Image8, channels: u32) -> Vec<u8> {
    let row = (img.width * channels) as usize;
    let mut out = Vec::with_capacity(row * img.height as usize);
    for y in 0..img.height {
        let start = (img.offset + y * img.stride) as usize;
        let bytes: &[u8] = bytemuck::cast_slice(&words[start..start + img.stride as usize]);
        out.extend_from_slice(&bytes[..row]);
    }
    out
}

/// `sin(pi x) / (pi x)`.
fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        return 1.0;
    }
    let x = x * std::f64::consts::PI;
    x.sin() / x
}

/// Pillow's `lanczos_filter`: the sinc windowed by a 3x wider sinc, over [-3, 3).
fn lanczos(x: f64) -> f64 {
    if (-SUPPORT..SUPPORT).contains(&x) {
        sinc(x) * sinc(x / SUPPORT)
    } else {
        0.0
    }
}

/// Pillow's `normalize_coeffs_8bpc`: round half away from zero.
fn fixed_point(w: f64) -> i32 {
    let scaled = w * f64::from(1u32 << PRECISION_BITS);
    if w < 0.0 {
        (scaled - 0.5) as i32
    } else {
        (scaled + 0.5) as i32
    }
}

/// The weights of one axis of a resize, as Pillow's `precompute_coeffs`
/// computes them. `table` holds `ksize + 2` values per output index: the
/// first input index, the number of taps (at most `ksize`), then the taps'
/// fixed-point weights (zero past the taps).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Axis {
    pub in_len: u32,
    pub out_len: u32,
    pub ksize: u32,
    pub table: Vec<i32>,
}

impl Axis {
    /// `in_len` samples to `out_len`.
    pub fn lanczos(in_len: u32, out_len: u32) -> Self {
        Self::lanczos_box(in_len, out_len, 0.0, in_len as f32)
    }

    /// The input span `in0 .. in1` (Pillow's `box`, in f32 like Pillow's) to
    /// `out_len` samples; input samples outside it still weigh in near its edges.
    pub fn lanczos_box(in_len: u32, out_len: u32, in0: f32, in1: f32) -> Self {
        assert!(in_len > 0 && out_len > 0, "resize of an empty axis");
        // The same f64 operations in the same order as Resample.c.
        let scale = f64::from(in1 - in0) / f64::from(out_len);
        let filterscale = scale.max(1.0);
        let support = SUPPORT * filterscale;
        let ksize = support.ceil() as u32 * 2 + 1;
        let mut table = Vec::with_capacity((out_len * (ksize + 2)) as usize);
        let mut weights = Vec::with_capacity(ksize as usize);
        for o in 0..out_len {
            let center = f64::from(in0) + (f64::from(o) + 0.5) * scale;
            let ss = 1.0 / filterscale;
            // Truncation toward zero, as C's (int) cast.
            let xmin = ((center - support + 0.5) as i64).max(0);
            let xmax = ((center + support + 0.5) as i64).min(i64::from(in_len));
            let taps = (xmax - xmin).max(0);
            weights.clear();
            weights.extend((0..taps).map(|x| lanczos(((x + xmin) as f64 - center + 0.5) * ss)));
            let sum: f64 = weights.iter().sum();
            table.push(xmin as i32);
            table.push(taps as i32);
            table.extend(weights.iter().map(|&w| {
                let w = if sum != 0.0 { w / sum } else { w };
                fixed_point(w)
            }));
            table.extend(std::iter::repeat_n(0, (i64::from(ksize) - taps) as usize));
        }
        Self {
            in_len,
            out_len,
            ksize,
            table,
        }
    }
}

/// `ResampleParams` in shaders/resample.wgsl (tests/it/layout.rs checks the layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct ResampleParams {
    pub src: Image8,
    pub dst: Image8,
    pub channels: u32,
    pub ksize: u32,
    /// Index of output 0's entry in the table buffer.
    pub table_offset: u32,
    pub _pad: u32,
}

/// Which axis a pass resamples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    Horizontal,
    Vertical,
}

impl Pass {
    fn entry(self) -> &'static str {
        match self {
            Self::Horizontal => "horizontal",
            Self::Vertical => "vertical",
        }
    }
}

/// A whole two-pass resize of one `channels`-byte image: both axes' tables
/// in one array (horizontal first) and the two passes' parameters.
#[derive(Clone, Debug)]
pub struct Resize {
    pub channels: u32,
    pub horizontal: Axis,
    pub vertical: Axis,
}

impl Resize {
    /// `(width, height)` to `(out_w, out_h)`, like Pillow's `resize(size, LANCZOS)`.
    pub fn new(channels: u32, (width, height): (u32, u32), (out_w, out_h): (u32, u32)) -> Self {
        Self::with_box(
            channels,
            (width, height),
            (out_w, out_h),
            [0.0, 0.0, width as f32, height as f32],
        )
    }

    /// Pillow's `resize(size, LANCZOS, box=(x0, y0, x1, y1))`: the box of the
    /// input (in pixels, fractional allowed) to `(out_w, out_h)`.
    pub fn with_box(
        channels: u32,
        (width, height): (u32, u32),
        (out_w, out_h): (u32, u32),
        [x0, y0, x1, y1]: [f32; 4],
    ) -> Self {
        assert!((1..=4).contains(&channels), "1..4 bytes per pixel");
        Self {
            channels,
            horizontal: Axis::lanczos_box(width, out_w, x0, x1),
            vertical: Axis::lanczos_box(height, out_h, y0, y1),
        }
    }

    /// Both tables, horizontal then vertical, for one upload.
    pub fn table(&self) -> Vec<i32> {
        [&self.horizontal.table[..], &self.vertical.table[..]].concat()
    }

    /// The intermediate image: output width, input height.
    pub fn intermediate(&self, offset: u32) -> Image8 {
        Image8::new(
            self.horizontal.out_len,
            self.vertical.in_len,
            self.channels,
            offset,
        )
    }

    /// The output image.
    pub fn output(&self, offset: u32) -> Image8 {
        Image8::new(
            self.horizontal.out_len,
            self.vertical.out_len,
            self.channels,
            offset,
        )
    }

    /// Parameters of the two passes, src -> tmp -> dst, with this resize's
    /// table at `table_offset` of the table buffer.
    pub fn params(
        &self,
        src: Image8,
        tmp: Image8,
        dst: Image8,
        table_offset: u32,
    ) -> [ResampleParams; 2] {
        assert_eq!((src.width, src.height), self.input_size(), "source size");
        assert_eq!((tmp.width, tmp.height), (dst.width, src.height), "tmp size");
        assert_eq!(
            (dst.width, dst.height),
            (self.horizontal.out_len, self.vertical.out_len),
            "output size"
        );
        let pass = |src, dst, axis: &Axis, offset| ResampleParams {
            src,
            dst,
            channels: self.channels,
            ksize: axis.ksize,
            table_offset: offset,
            _pad: 0,
        };
        [
            pass(src, tmp, &self.horizontal, table_offset),
            pass(
                tmp,
                dst,
                &self.vertical,
                table_offset + self.horizontal.table.len() as u32,
            ),
        ]
    }

    pub fn input_size(&self) -> (u32, u32) {
        (self.horizontal.in_len, self.vertical.in_len)
    }

    /// Resizes rows of `width * channels` bytes on the CPU with the reference
    /// passes; the result is Pillow's to the bit.
    pub fn run_cpu(&self, bytes: &[u8]) -> Vec<u8> {
        let (w, h) = self.input_size();
        let src = Image8::new(w, h, self.channels, 0);
        let (tmp, dst) = (self.intermediate(0), self.output(0));
        let [ph, pv] = self.params(src, tmp, dst, 0);
        let table = self.table();
        let input = pack(bytes, w, h, self.channels);
        let mut mid = vec![0; tmp.words() as usize];
        let mut out = vec![0; dst.words() as usize];
        cpu(Pass::Horizontal, &ph, &table, &input, &mut mid);
        cpu(Pass::Vertical, &pv, &table, &mid, &mut out);
        unpack(&out, &dst, self.channels)
    }
}

/// Records one pass: one invocation per output word.
pub fn dispatch(
    ctx: &GpuContext,
    pass: Pass,
    p: &ResampleParams,
    table: &wgpu::Buffer,
    src: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) -> Result<Dispatch> {
    let mut d = DispatchBuilder::new(ctx, shaders::RESAMPLE, pass.entry()).build(
        format!("resample_{}", pass.entry()),
        p,
        &[(1, table), (2, src), (3, dst)],
        groups_for(p.dst.words()),
        1,
    )?;
    d.bytes = 4 * (p.src.words() + p.dst.words());
    d.flops = 2 * 4 * p.dst.words() * u64::from(p.ksize);
    Ok(d)
}

/// Pillow's `clip8`: the arithmetic shift floors, then the value is clamped.
fn clip8(acc: i32) -> u32 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u32
}

const HALF: i32 = 1 << (PRECISION_BITS - 1);

/// CPU reference of both entry points, mirroring resample.wgsl word by word.
pub fn cpu(pass: Pass, p: &ResampleParams, table: &[i32], src: &[u32], dst: &mut [u32]) {
    let stride = p.ksize + 2;
    let entry = |i: u32| {
        let t = (p.table_offset + i * stride) as usize;
        (table[t] as u32, table[t + 1] as usize, &table[t + 2..])
    };
    for y in 0..p.dst.height {
        for word in 0..p.dst.stride {
            let mut out = [0u32; 4];
            match pass {
                Pass::Horizontal => {
                    for (lane, o) in out.iter_mut().enumerate() {
                        let j = word * 4 + lane as u32;
                        if j >= p.dst.width * p.channels {
                            break;
                        }
                        let (first, taps, weights) = entry(j / p.channels);
                        let mut acc = HALF;
                        for (k, &w) in weights[..taps].iter().enumerate() {
                            let b = (first + k as u32) * p.channels + j % p.channels;
                            acc += i32::from(p.src.byte(src, y, b)) * w;
                        }
                        *o = clip8(acc);
                    }
                }
                Pass::Vertical => {
                    let (first, taps, weights) = entry(y);
                    let mut acc = [HALF; 4];
                    for (k, &w) in weights[..taps].iter().enumerate() {
                        let v = src
                            [(p.src.offset + (first + k as u32) * p.src.stride + word) as usize]
                            .to_le_bytes();
                        for (a, b) in acc.iter_mut().zip(v) {
                            *a += i32::from(b) * w;
                        }
                    }
                    for (o, a) in out.iter_mut().zip(acc) {
                        *o = clip8(a);
                    }
                }
            }
            dst[(p.dst.offset + y * p.dst.stride + word) as usize] =
                out[0] | out[1] << 8 | out[2] << 16 | out[3] << 24;
        }
    }
}
