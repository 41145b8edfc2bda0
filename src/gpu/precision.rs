//! How activations are stored, the one choice shared by the shader
//! variants (gpu::shaders) and the kernels and graphs that record them.

/// How the network's activations are stored on the GPU. Arithmetic is f32
/// either way; with `F16` every activation tensor is stored as f16 (half
/// the memory and traffic), except the network's input and its sigmoid
/// outputs, which stay f32. Weights stay f32.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    F32,
    F16,
}

impl Precision {
    /// Bytes of one stored activation.
    pub fn element_bytes(self) -> u64 {
        match self {
            Precision::F32 => 4,
            Precision::F16 => 2,
        }
    }

    /// Bytes of `elements` activations.
    pub fn bytes(self, elements: u64) -> u64 {
        elements * self.element_bytes()
    }

    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F16 => "f16",
        }
    }
}
