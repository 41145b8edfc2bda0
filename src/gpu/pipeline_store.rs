//! The driver's compiled pipelines kept on disk between runs: wgpu's
//! `PipelineCache` (Vulkan pipeline-cache data), one file per adapter,
//! driver and u2cut version in u2cut's cache folder.
//!
//! What a driver keeps in it is up to the driver. NVIDIA's keeps the
//! compiled machine code; lavapipe (Mesa 22.3) returns a 32-byte header
//! only, and Mesa's own shader cache (`MESA_SHADER_CACHE_DIR`) keeps its
//! LLVM code instead (BENCHMARKS.md has the measurements).
//!
//! A file that is not ours, was written for another adapter, driver or
//! version, or is damaged, is ignored with a warning and replaced at the
//! next save: it only costs speed.

use std::path::{Path, PathBuf};

use crate::Result;

/// The file's first bytes, then the key's length (u32 LE), the key, the
/// payload's length (u64 LE) and CRC-32 (u32 LE), and the payload.
const MAGIC: &[u8; 8] = b"u2cutpc1";

/// A pipeline cache backed by a file.
pub struct PipelineStore {
    path: PathBuf,
    key: String,
    pub(crate) cache: wgpu::PipelineCache,
    /// The payload read at open, so an unchanged cache is not rewritten.
    loaded: Vec<u8>,
}

/// What identifies compatible cache data: the adapter (`adapter`, wgpu's
/// key for it), its driver, and u2cut's version (our shaders change
/// between versions).
fn store_key(adapter: &str, info: &wgpu::AdapterInfo) -> String {
    format!(
        "{adapter} {} {} u2cut {}",
        info.driver,
        info.driver_info,
        env!("CARGO_PKG_VERSION")
    )
}

/// The payload of a store file, if it is one for `key`.
fn decode<'a>(bytes: &'a [u8], key: &str) -> std::result::Result<&'a [u8], String> {
    let mut rest = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or("not a u2cut pipeline cache")?;
    let mut take = |n: usize| -> std::result::Result<&'a [u8], String> {
        if rest.len() < n {
            return Err("the file is truncated".to_owned());
        }
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Ok(head)
    };
    let key_len = u32::from_le_bytes(take(4)?.try_into().unwrap()) as usize;
    if take(key_len)? != key.as_bytes() {
        return Err("written for another adapter, driver or u2cut version".to_owned());
    }
    let len = u64::from_le_bytes(take(8)?.try_into().unwrap());
    let crc = u32::from_le_bytes(take(4)?.try_into().unwrap());
    let payload = take(usize::try_from(len).map_err(|_| "the file is truncated")?)?;
    if crc32fast::hash(payload) != crc {
        return Err("the file is damaged (checksum mismatch)".to_owned());
    }
    Ok(payload)
}

fn encode(key: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(MAGIC.len() + key.len() + payload.len() + 16);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(key.len() as u32).to_le_bytes());
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

impl PipelineStore {
    /// The store in `dir` for this device, seeded from its file if that
    /// holds data for this adapter; a file that does not is reported in
    /// the second value and left to be replaced. None (and no warning)
    /// where the device has no pipeline caches.
    pub fn open(
        device: &wgpu::Device,
        info: &wgpu::AdapterInfo,
        dir: &Path,
    ) -> (Option<Self>, Option<String>) {
        // wgpu has no key where the backend has no pipeline caches.
        let Some(adapter) = wgpu::util::pipeline_cache_key(info)
            .filter(|_| device.features().contains(wgpu::Features::PIPELINE_CACHE))
        else {
            return (None, None);
        };
        let key = store_key(&adapter, info);
        let path = dir.join("pipelines").join(format!("{adapter}.bin"));
        let (loaded, warning) = match std::fs::read(&path) {
            Ok(bytes) => match decode(&bytes, &key) {
                Ok(payload) => (payload.to_vec(), None),
                Err(why) => (
                    Vec::new(),
                    Some(format!(
                        "{}: {why}; ignoring it (compiled pipelines will be saved anew)",
                        path.display()
                    )),
                ),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Vec::new(), None),
            Err(e) => (
                Vec::new(),
                Some(format!(
                    "{}: cannot be read ({e}); ignoring it",
                    path.display()
                )),
            ),
        };
        // SAFETY: the data is what `get_data` returned for an adapter with
        // the same wgpu cache key, driver and u2cut version, checked whole
        // by its CRC; wgpu and the driver validate their own headers too,
        // and `fallback` makes a rejected blob an empty cache.
        let cache = unsafe {
            device.create_pipeline_cache(&wgpu::PipelineCacheDescriptor {
                label: Some("u2cut pipelines"),
                data: (!loaded.is_empty()).then_some(loaded.as_slice()),
                fallback: true,
            })
        };
        let store = Self {
            path,
            key,
            cache,
            loaded,
        };
        (Some(store), warning)
    }

    /// Writes the driver's current data if it changed since it was read,
    /// atomically (concurrent runs, shards on one machine, never read half
    /// a file).
    pub fn save(&self) -> Result<()> {
        match self.cache.get_data() {
            Some(data) if data != self.loaded => crate::cache_dir::write_atomically(
                &self.path,
                &encode(&self.key, &data),
                "the pipeline cache",
            ),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_for_another_key_or_damaged_is_refused_with_the_reason() {
        let file = encode("gpu A driver 1 u2cut 0.1", b"compiled");
        assert_eq!(
            decode(&file, "gpu A driver 1 u2cut 0.1"),
            Ok(&b"compiled"[..])
        );
        let other = decode(&file, "gpu A driver 2 u2cut 0.1").unwrap_err();
        assert!(other.contains("another adapter"), "{other}");
        let mut damaged = file.clone();
        *damaged.last_mut().unwrap() ^= 1;
        assert!(
            decode(&damaged, "gpu A driver 1 u2cut 0.1")
                .unwrap_err()
                .contains("damaged")
        );
        let cut = &file[..file.len() - 3];
        assert!(
            decode(cut, "gpu A driver 1 u2cut 0.1")
                .unwrap_err()
                .contains("truncated")
        );
        assert!(decode(b"PNG...", "k").unwrap_err().contains("not a u2cut"));
        assert!(decode(b"", "k").is_err());
    }
}
