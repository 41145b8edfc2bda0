//! One batch of [`super::Remover`] on the GPU: every pass from the upload
//! of the RGBA images to the composed outputs recorded into one compute
//! pass with the network's own dispatches, one submit, one wait for all
//! read-backs.

use image::{GrayImage, RgbaImage};
use wgpu::util::DeviceExt as _;

use super::{
    Background, NET_SIZE, Product, Removed, Remover, background_resize, compose_mode, grow_cpu,
    resized_words, shrink_cpu, small_words,
};
use crate::error::{Error, Result, ensure};
use crate::gpu::{Dispatch, GpuContext};
use crate::kernels::pixels::{self, ComposeParams, MaskParams, NormalizeParams};
use crate::kernels::resample::{self, Image8, Pass, Resize};

const STORAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

/// A storage buffer holding `bytes` (a multiple of 4 long; at least 4).
fn upload(ctx: &GpuContext, label: &str, bytes: &[u8]) -> wgpu::Buffer {
    let bytes: &[u8] = if bytes.is_empty() { &[0; 4] } else { bytes };
    ctx.device
        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytes,
            usage: STORAGE,
        })
}

/// The GPU work of one image whose buffers fit the adapter's bindings.
struct Item {
    down: Resize,
    up: Resize,
    background: Option<Resize>,
    /// Where each resize's table starts in the batch's table buffer.
    tables: [u32; 3],
}

impl Item {
    /// Words of the scratch buffer the intermediates share.
    fn tmp_words(&self) -> u64 {
        let bg = self
            .background
            .as_ref()
            .map_or(0, |b| b.intermediate(0).words());
        self.down
            .intermediate(0)
            .words()
            .max(self.up.intermediate(0).words())
            .max(bg)
    }
}

/// The device buffers of one [`Item`].
struct Buffers {
    image: wgpu::Buffer,
    tmp: wgpu::Buffer,
    mask: wgpu::Buffer,
    background: Option<wgpu::Buffer>,
}

/// Records both passes of `resize` from `src` to `dst` through `tmp`.
#[allow(clippy::too_many_arguments)]
fn record_resize(
    ctx: &GpuContext,
    resize: &Resize,
    table_offset: u32,
    table: &wgpu::Buffer,
    (src_buf, src): (&wgpu::Buffer, Image8),
    tmp: &wgpu::Buffer,
    (dst_buf, dst): (&wgpu::Buffer, Image8),
    out: &mut Vec<Dispatch>,
) -> Result<()> {
    let [h, v] = resize.params(src, resize.intermediate(0), dst, table_offset);
    out.push(resample::dispatch(
        ctx,
        Pass::Horizontal,
        &h,
        table,
        src_buf,
        tmp,
    )?);
    out.push(resample::dispatch(
        ctx,
        Pass::Vertical,
        &v,
        table,
        tmp,
        dst_buf,
    )?);
    Ok(())
}

/// Copies `bytes` of `src` into a new mappable buffer, recorded in `encoder`.
fn stage(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    src: &wgpu::Buffer,
    bytes: u64,
) -> wgpu::Buffer {
    let staging = ctx.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("read-back"),
        size: bytes.max(4),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    encoder.copy_buffer_to_buffer(src, 0, &staging, 0, bytes.max(4));
    staging
}

/// Maps every staging buffer (one wait for all) and returns their words.
fn read_all(ctx: &GpuContext, staged: &[wgpu::Buffer]) -> Result<Vec<Vec<u32>>> {
    let (tx, rx) = std::sync::mpsc::channel();
    for b in staged {
        let tx = tx.clone();
        b.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send(r);
        });
    }
    ctx.wait()?;
    for _ in staged {
        match rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(Error::Gpu(format!("mapping a read-back buffer: {e}"))),
            Err(_) => return Err(Error::Gpu("read-back callback dropped".into())),
        }
    }
    staged
        .iter()
        .map(|b| {
            let range = b
                .get_mapped_range(..)
                .map_err(|e| Error::Gpu(format!("reading back: {e}")))?;
            let words = bytemuck::pod_collect_to_vec(&range);
            drop(range);
            b.unmap();
            Ok(words)
        })
        .collect()
}

/// Whether buffers of these sizes can be bound.
fn fits(ctx: &GpuContext, words: &[u64]) -> bool {
    words.iter().all(|&w| w * 4 <= ctx.max_binding_bytes())
}

pub(super) fn run(
    r: &Remover,
    ctx: &GpuContext,
    images: &[RgbaImage],
    plan_batch: u32,
    product: Product,
) -> Result<Vec<Removed>> {
    let n = images.len() as u32;
    let plan = r.net.plan(NET_SIZE, NET_SIZE, plan_batch)?;
    ensure!(
        n <= plan.batch,
        Gpu,
        "internal: {n} images for a plan of {}",
        plan.batch
    );
    let (input, input_view) = plan.input_binding();
    let Some((d0, d0_view)) = plan.output_binding("d0") else {
        crate::error::bail!(Unsupported, "the network has no d0 output");
    };
    // Post-processing runs on the CPU, so composing waits for it there.
    // Post-processing and matting change the mask after this pass: compose later.
    let compose =
        product == Product::Cutout && !r.options.post_process && r.options.matting.is_none();
    let background = match &r.options.background {
        Background::Image(b) if compose => {
            let words = u64::from(b.width()) * u64::from(b.height());
            fits(ctx, &[words]).then(|| (b, upload(ctx, "background", b.as_raw())))
        }
        _ => None,
    };
    // A background image too large to bind: those composites are made on the CPU.
    let compose =
        compose && !matches!(r.options.background, Background::Image(_) if background.is_none());

    let (rw, sw) = (resized_words(), small_words());
    let resized = ctx.storage("resized", 4 * u64::from(rw * n));
    let small = ctx.storage("small masks", 4 * u64::from(sw * n));

    // Tables and buffer sizes first: every dispatch binds the one table buffer.
    let mut table: Vec<i32> = Vec::new();
    let mut items: Vec<Option<Item>> = Vec::with_capacity(images.len());
    for (i, img) in images.iter().enumerate() {
        let size = img.dimensions();
        let mark = table.len();
        let mut add = |resize: &Resize| {
            let at = table.len() as u32;
            table.extend(resize.table());
            at
        };
        let down = Resize::new(4, size, (NET_SIZE, NET_SIZE));
        let up = Resize::new(1, (NET_SIZE, NET_SIZE), size);
        let bg = background.as_ref().map(|(b, _)| background_resize(b, size));
        let tables = [add(&down), add(&up), bg.as_ref().map_or(0, &mut add)];
        let item = Item {
            down,
            up,
            background: bg,
            tables,
        };
        let pixels = u64::from(size.0) * u64::from(size.1);
        if fits(ctx, &[pixels, item.tmp_words()]) {
            items.push(Some(item));
        } else {
            // Too large for one binding: this image's resizes run on the CPU
            // references (bit-identical), around the GPU network.
            table.truncate(mark);
            let words = shrink_cpu(img);
            ctx.queue.write_buffer(
                &resized,
                4 * u64::from(i as u32 * rw),
                bytemuck::cast_slice(&words),
            );
            items.push(None);
        }
    }
    let table = upload(ctx, "resize tables", bytemuck::cast_slice(&table));

    let mut buffers: Vec<Option<Buffers>> = Vec::with_capacity(items.len());
    let mut pre = Vec::new();
    let mut post = Vec::new();
    for (i, (img, item)) in images.iter().zip(&items).enumerate() {
        let Some(item) = item else {
            buffers.push(None);
            continue;
        };
        let (w, h) = img.dimensions();
        let rgba = Image8::new(w, h, 4, 0);
        let mask_img = Image8::new(w, h, 1, 0);
        let b = Buffers {
            image: upload(ctx, "image", img.as_raw()),
            tmp: ctx.storage("resize scratch", 4 * item.tmp_words()),
            mask: ctx.storage("mask", 4 * mask_img.words()),
            background: item
                .background
                .as_ref()
                .map(|_| ctx.storage("background", 4 * rgba.words())),
        };
        let i = i as u32;
        let dst = Image8::new(NET_SIZE, NET_SIZE, 4, i * rw);
        record_resize(
            ctx,
            &item.down,
            item.tables[0],
            &table,
            (&b.image, rgba),
            &b.tmp,
            (&resized, dst),
            &mut pre,
        )?;
        let src = Image8::new(NET_SIZE, NET_SIZE, 1, i * sw);
        record_resize(
            ctx,
            &item.up,
            item.tables[1],
            &table,
            (&small, src),
            &b.tmp,
            (&b.mask, mask_img),
            &mut post,
        )?;
        if let (Some(resize), Some(dst), Some((bg, bg_buf))) =
            (&item.background, &b.background, &background)
        {
            let src = Image8::new(bg.width(), bg.height(), 4, 0);
            record_resize(
                ctx,
                resize,
                item.tables[2],
                &table,
                (bg_buf, src),
                &b.tmp,
                (dst, rgba),
                &mut post,
            )?;
        }
        if compose {
            let p = ComposeParams::new(compose_mode(&r.options.background), rgba, mask_img, rgba);
            let bg = b.background.as_ref();
            post.push(pixels::compose(ctx, &p, &b.image, &b.mask, bg)?);
        }
        buffers.push(Some(b));
    }

    let mut norm = NormalizeParams::new(NET_SIZE, NET_SIZE);
    norm.dst_offset = input_view.index(0, 0, 0) as u32;
    ensure!(
        norm.dst_step as u64 == input_view.len(1),
        Unsupported,
        "network input is not 3x320x320"
    );
    let normalize = pixels::normalize(ctx, &norm, n, &resized, input)?;
    let mask_params = MaskParams::new(d0_view, NET_SIZE, NET_SIZE);
    let mask = pixels::mask(ctx, &mask_params, n, d0, &small)?;

    let mut encoder = ctx.device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        let all = pre
            .iter()
            .chain([&normalize])
            .chain(&plan.dispatches)
            .chain([&mask])
            .chain(&post);
        // The network's dispatches run for the `n` real images only.
        for d in all {
            d.record(&mut pass, n);
        }
    }
    // Read back: each GPU image's mask (and composite); the small masks of
    // the others, to finish on the CPU.
    let mut staged = Vec::new();
    if buffers.iter().any(Option::is_none) {
        staged.push(stage(ctx, &mut encoder, &small, 4 * u64::from(sw * n)));
    }
    for b in buffers.iter().flatten() {
        staged.push(stage(ctx, &mut encoder, &b.mask, b.mask.size()));
        if compose {
            staged.push(stage(ctx, &mut encoder, &b.image, b.image.size()));
        }
    }
    ctx.queue.submit([encoder.finish()]);
    let mut words = read_all(ctx, &staged)?.into_iter();

    let small_host = if buffers.iter().any(Option::is_none) {
        words.next()
    } else {
        None
    };
    let mut out = Vec::with_capacity(images.len());
    for (i, (img, b)) in images.iter().zip(&buffers).enumerate() {
        let (w, h) = img.dimensions();
        if b.is_none() {
            let small = small_host.as_ref().expect("staged above");
            let mask = grow_cpu(small, i as u32, (w, h));
            out.push(r.finish(img, mask, None, product)?);
            continue;
        }
        let m = words.next().expect("a mask per image");
        let mask = GrayImage::from_raw(w, h, resample::unpack(&m, &Image8::new(w, h, 1, 0), 1))
            .expect("w x h bytes");
        let composed = if compose {
            let rgba: Vec<u8> = bytemuck::cast_slice(&words.next().expect("a composite"))
                [..(4 * w * h) as usize]
                .to_vec();
            Some(RgbaImage::from_raw(w, h, rgba).expect("w x h pixels"))
        } else {
            None
        };
        out.push(r.finish(img, mask, composed, product)?);
    }
    Ok(out)
}
