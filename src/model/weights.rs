//! Safetensors weight files with PyTorch state_dict names. Every tensor is
//! checked for presence, dtype and shape; errors name the tensor and file.

use std::collections::HashMap;

use crate::error::bail;
use crate::{Error, Result, ResultExt as _};
use safetensors::{Dtype, SafeTensors};

use super::config::{STAGE_NAMES, U2NetConfig};
use crate::kernels::batchnorm::BatchNorm;

pub struct WeightFile<'a> {
    /// Where the bytes came from, for error messages.
    pub origin: String,
    tensors: SafeTensors<'a>,
    pub metadata: HashMap<String, String>,
}

impl<'a> WeightFile<'a> {
    pub fn parse(bytes: &'a [u8], origin: &str) -> Result<Self> {
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| {
            Error::Input(format!(
                "{origin}: not a valid safetensors file (truncated or corrupt?): {e}"
            ))
        })?;
        let (_, meta) = SafeTensors::read_metadata(bytes)
            .map_err(|e| Error::Input(format!("{origin}: {e}")))?;
        Ok(Self {
            origin: origin.to_owned(),
            tensors,
            metadata: meta.metadata().clone().unwrap_or_default(),
        })
    }

    pub fn contains(&self, name: &str) -> bool {
        self.tensors.tensor(name).is_ok()
    }

    /// The shape of tensor `name`.
    pub fn shape(&self, name: &str) -> Result<Vec<usize>> {
        let t = self
            .tensors
            .tensor(name)
            .map_err(|_| Error::Input(format!("{}: tensor `{name}` is missing", self.origin)))?;
        Ok(t.shape().to_vec())
    }

    /// Tensor `name` as f32, which must have exactly `shape`.
    pub fn f32(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let t = self
            .tensors
            .tensor(name)
            .map_err(|_| Error::Input(format!("{}: tensor `{name}` is missing", self.origin)))?;
        if t.shape() != shape {
            bail!(
                Input,
                "{}: tensor `{name}` has shape {:?}, expected {shape:?}",
                self.origin,
                t.shape()
            );
        }
        if t.dtype() != Dtype::F32 {
            bail!(
                Input,
                "{}: tensor `{name}` is {:?}, expected F32",
                self.origin,
                t.dtype()
            );
        }
        Ok(t.data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    /// The BatchNorm under `prefix` if the file has one (unfolded weights).
    pub fn batchnorm(&self, prefix: &str, channels: usize) -> Result<Option<BatchNorm>> {
        if !self.contains(&format!("{prefix}.weight")) {
            return Ok(None);
        }
        let get = |n: &str| self.f32(&format!("{prefix}.{n}"), &[channels]);
        Ok(Some(BatchNorm {
            gamma: get("weight")?,
            beta: get("bias")?,
            mean: get("running_mean")?,
            var: get("running_var")?,
        }))
    }

    /// The architecture, from the tensor shapes: each stage's `rebnconvin`
    /// is (out, in) and its `rebnconv1` is (mid, out).
    pub fn config(&self) -> Result<U2NetConfig> {
        let mut widths = [(0, 0, 0); 11];
        for (i, stage) in STAGE_NAMES.iter().enumerate() {
            let conv_in = self.conv_shape(&format!("{stage}.rebnconvin.conv_s1.weight"))?;
            let conv1 = self.conv_shape(&format!("{stage}.rebnconv1.conv_s1.weight"))?;
            widths[i] = (conv_in.1, conv1.0, conv_in.0);
        }
        let name = self
            .metadata
            .get("u2cut.model")
            .cloned()
            .unwrap_or_else(|| "custom".to_owned());
        let config = U2NetConfig::from_widths(&name, widths)
            .with_context(|| format!("{}: inconsistent widths", self.origin))?;
        // A file that claims a preset must have its widths.
        if let Some(preset) = U2NetConfig::preset(&name)
            && preset.stages != config.stages
        {
            bail!(
                Input,
                "{}: metadata says `{name}` but the tensor shapes differ from {name}",
                self.origin
            );
        }
        Ok(config)
    }

    /// (out, in) of a conv weight of shape (out, in, k, k).
    fn conv_shape(&self, name: &str) -> Result<(u32, u32)> {
        match self.shape(name)?.as_slice() {
            &[o, i, _, _] => Ok((o as u32, i as u32)),
            s => bail!(
                Input,
                "{}: tensor `{name}` has shape {s:?}, expected a 4-d conv weight",
                self.origin
            ),
        }
    }
}

/// Writes a model as safetensors with PyTorch state_dict names, so weights
/// changed or made in Rust can be saved and loaded like converted ones.
pub fn serialize(model: &super::Model) -> Result<Vec<u8>> {
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    let mut push = |name: String, shape: Vec<usize>, values: &[f32]| {
        tensors.push((name, shape, bytemuck::cast_slice(values).to_vec()));
    };
    for l in &model.layers {
        let (o, i, k) = (l.spec.cout as usize, l.spec.cin as usize, l.spec.k as usize);
        push(format!("{}.weight", l.name), vec![o, i, k, k], &l.weight);
        push(format!("{}.bias", l.name), vec![o], &l.bias);
        if let Some(bn) = &l.bn {
            let prefix = l
                .name
                .strip_suffix(".conv_s1")
                .ok_or_else(|| Error::Input("BatchNorm on a conv outside a REBNCONV".into()))?;
            for (field, v) in [
                ("weight", &bn.gamma),
                ("bias", &bn.beta),
                ("running_mean", &bn.mean),
                ("running_var", &bn.var),
            ] {
                push(format!("{prefix}.bn_s1.{field}"), vec![o], v);
            }
        }
    }
    let views = tensors
        .iter()
        .map(|(name, shape, bytes)| {
            Ok((
                name.as_str(),
                safetensors::tensor::TensorView::new(Dtype::F32, shape.clone(), bytes)?,
            ))
        })
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()
        .map_err(|e| Error::Input(format!("{}: {e}", model.config.name)))?;
    let folded = model.layers.iter().all(|l| l.bn.is_none());
    let metadata = HashMap::from([
        ("format".to_owned(), "pt".to_owned()),
        ("u2cut.model".to_owned(), model.config.name.clone()),
        ("u2cut.bn_folded".to_owned(), folded.to_string()),
    ]);
    safetensors::serialize(views, Some(metadata))
        .map_err(|e| Error::Input(format!("{}: {e}", model.config.name)))
}
