//! The tuner. What is fastest depends on the adapter (llvmpipe pays for
//! every workgroup barrier and every gathered load; a GPU pays for every
//! byte of memory traffic) and on the layer's shape, so it is measured:
//! - per conv, each [`ConvKernel`] on the plan's own buffers;
//! - per plan, the whole batch in each [`UpsampleFusion`].
//!
//! Winners are cached on disk per adapter, keyed by the layer's shape (or
//! the plan's), the input size, the batch and the storage precision, so
//! later runs start tuned.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::graph::UpsampleFusion;
use crate::kernels::Precision;
use crate::kernels::conv::{ConvKernel, ConvSpec};

/// A whole tuning run: the plan-level choice and each conv's.
#[derive(Clone, Debug, Serialize)]
pub struct Tuning {
    /// Median whole-batch time in each upsample fusion tried.
    pub plan_ms: BTreeMap<String, f64>,
    pub upsample_fusion: UpsampleFusion,
    /// The convs of the chosen plan.
    pub convs: Vec<TuneRow>,
}

/// One conv's tuning: every kernel's median time and the winner.
#[derive(Clone, Debug, Serialize)]
pub struct TuneRow {
    /// The layer's PyTorch module path.
    pub layer: String,
    pub key: String,
    pub ms: BTreeMap<String, f64>,
    pub chosen: ConvKernel,
}

/// How a conv is run, as far as its speed goes: the layer's shape, the
/// input size, the batch, the activations' storage, and whether it reads a
/// concatenation, adds a residual or upsamples `a` on read (all change its
/// memory traffic).
pub struct ConvUse<'a> {
    pub spec: &'a ConvSpec,
    pub size: (u32, u32),
    pub batch: u32,
    pub precision: Precision,
    pub concat: bool,
    pub residual: bool,
    pub upsample: bool,
}

impl ConvUse<'_> {
    /// The cache key, e.g. `128>64 k3 d1 40x40 b1 f32 cat`.
    pub fn key(&self) -> String {
        let ConvSpec {
            cin,
            cout,
            k,
            dilation,
            ..
        } = *self.spec;
        let (h, w) = self.size;
        format!(
            "{cin}>{cout} k{k} d{dilation} {h}x{w} b{} {}{}{}{}",
            self.batch,
            self.precision.name(),
            if self.concat { " cat" } else { "" },
            if self.residual { " res" } else { "" },
            if self.upsample { " up" } else { "" },
        )
    }
}

/// The key of a plan-level choice: size, batch and storage.
pub fn plan_key((height, width): (u32, u32), batch: u32, precision: Precision) -> String {
    format!("{height}x{width} b{batch} {}", precision.name())
}

/// One adapter's choices.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Choices {
    /// Conv key -> kernel name (a name no kernel has any more is ignored).
    convs: BTreeMap<String, String>,
    /// Plan key -> which upsamples are fused into the convs. (Caches
    /// before it had `fuse_upsamples`, a bool, which is ignored.)
    #[serde(default)]
    upsample_fusion: BTreeMap<String, UpsampleFusion>,
}

/// The on-disk choices: adapter -> [`Choices`], as JSON.
#[derive(Clone, Debug)]
pub struct TuneCache {
    path: PathBuf,
    adapter: String,
    all: BTreeMap<String, Choices>,
}

impl TuneCache {
    /// `U2CUT_TUNE_CACHE`, else `tune.json` in u2cut's cache folder
    /// ([`cache_dir`](crate::cache_dir::cache_dir)).
    pub fn default_path() -> Option<PathBuf> {
        match std::env::var_os("U2CUT_TUNE_CACHE").filter(|v| !v.is_empty()) {
            Some(p) => Some(p.into()),
            None => Some(crate::cache_dir::cache_dir()?.join("tune.json")),
        }
    }

    /// The cache at `path` (empty if the file does not exist yet), for the
    /// adapter described by `adapter` (name, backend and driver).
    pub fn open(path: &Path, adapter: &str) -> Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) => Self::parse(&bytes, path, adapter),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self {
                path: path.to_owned(),
                adapter: adapter.to_owned(),
                all: BTreeMap::new(),
            }),
            Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
        }
    }

    /// The cache held in `bytes`, as read from `path`.
    pub fn parse(bytes: &[u8], path: &Path, adapter: &str) -> Result<Self> {
        let all = serde_json::from_slice(bytes).map_err(|e| {
            Error::Input(format!(
                "{}: not a u2cut tuning cache (delete it to start over): {e}",
                path.display()
            ))
        })?;
        Ok(Self {
            path: path.to_owned(),
            adapter: adapter.to_owned(),
            all,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The kernel chosen for a conv key.
    pub fn get(&self, key: &str) -> Option<ConvKernel> {
        ConvKernel::by_name(self.all.get(&self.adapter)?.convs.get(key)?)
    }

    pub fn insert(&mut self, key: String, kernel: ConvKernel) {
        self.mine().convs.insert(key, kernel.name().to_owned());
    }

    /// Which upsamples are fused for a plan key.
    pub fn upsample_fusion(&self, plan: &str) -> Option<UpsampleFusion> {
        self.all
            .get(&self.adapter)?
            .upsample_fusion
            .get(plan)
            .copied()
    }

    pub fn set_upsample_fusion(&mut self, plan: String, fuse: UpsampleFusion) {
        self.mine().upsample_fusion.insert(plan, fuse);
    }

    fn mine(&mut self) -> &mut Choices {
        self.all.entry(self.adapter.clone()).or_default()
    }

    /// Writes the cache atomically (a temporary file renamed over it), so a
    /// concurrent reader never sees half a file.
    pub fn save(&self) -> Result<()> {
        let json = serde_json::to_vec_pretty(&self.all).expect("choices serialize");
        crate::cache_dir::write_atomically(&self.path, &json, "the tuning cache")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_are_per_adapter_and_survive_a_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/tune.json");
        let mut cache = TuneCache::open(&path, "gpu A").unwrap();
        let gemm = ConvKernel::by_name("gemm128x64").unwrap();
        cache.insert("k".into(), gemm);
        cache.set_upsample_fusion("p".into(), UpsampleFusion::All);
        cache.save().unwrap();
        let a = TuneCache::open(&path, "gpu A").unwrap();
        assert_eq!(a.get("k"), Some(gemm));
        assert_eq!(a.upsample_fusion("p"), Some(UpsampleFusion::All));
        let b = TuneCache::open(&path, "gpu B").unwrap();
        assert_eq!((b.get("k"), b.upsample_fusion("p")), (None, None));
        // Caches from before the GEMM had several tile shapes, and from
        // before the fusion had three settings, still load; a kernel that
        // was dropped since is no choice.
        let old =
            r#"{"gpu A": {"convs": {"k": "gemm", "x": "gone"}, "fuse_upsamples": {"p": true}}}"#;
        std::fs::write(&path, old).unwrap();
        let a = TuneCache::open(&path, "gpu A").unwrap();
        assert_eq!(a.get("k").map(ConvKernel::name), Some("gemm64x32"));
        assert_eq!(a.get("x"), None);
        assert_eq!(a.upsample_fusion("p"), None);
        std::fs::write(&path, "{oops").unwrap();
        let err = TuneCache::open(&path, "gpu A").unwrap_err().to_string();
        assert!(err.contains("tune.json") && err.contains("not a u2cut tuning cache"));
    }
}
