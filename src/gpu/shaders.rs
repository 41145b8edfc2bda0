//! The WGSL sources, built into the binary.
//!
//! WGSL has no `#include`, so shared declarations live in `shaders/shared/`
//! and a kernel pulls one in with a line `//#include "shared/NAME.wgsl"`,
//! which [`Shader::source`] replaces by the file's text.
//!
//! Nor does WGSL have generics: network kernels store activations as
//! `array<act>`, with `alias act = f32;` (shared/tensor.wgsl), and their
//! f16 variant ([`Shader::storing`]) is the same text with `act = f16`.

use crate::kernels::Precision;

/// One kernel family: a `shaders/<name>.wgsl` file, in one storage
/// precision (and, for conv_coop.wgsl, one cooperative matrix size).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shader {
    pub name: &'static str,
    raw: &'static str,
    pub precision: Precision,
    matrix: u32,
}

macro_rules! shader {
    ($name:literal) => {
        Shader {
            name: $name,
            raw: include_str!(concat!("../../shaders/", $name, ".wgsl")),
            precision: Precision::F32,
            matrix: COOP_SIZE,
        }
    };
}

/// The cooperative matrix size written in conv_coop.wgsl (`S`).
const COOP_SIZE: u32 = 8;

const ACT_F32: &str = "alias act = f32;";
const F16_ENABLED: &str = "enable f16;";

pub const CONV: Shader = shader!("conv");
pub const CONV_SUBGROUP: Shader = shader!("conv_subgroup");
pub const CONV_SUBGROUP_UNIFORM: Shader = shader!("conv_subgroup_uniform");
pub const CONV_WINOGRAD: Shader = shader!("conv_winograd");
pub const CONV_GEMM: Shader = shader!("conv_gemm");
pub const CONV_COOP: Shader = shader!("conv_coop");
pub const BATCHNORM: Shader = shader!("batchnorm");
pub const POOL: Shader = shader!("pool");
pub const UPSAMPLE: Shader = shader!("upsample");
pub const ELEMENTWISE: Shader = shader!("elementwise");
pub const RESAMPLE: Shader = shader!("resample");
pub const PIXELS: Shader = shader!("pixels");
pub const MATTING_PYRAMID: Shader = shader!("matting_pyramid");
pub const MATTING_SETUP: Shader = shader!("matting_setup");
pub const MATTING_LAPLACIAN: Shader = shader!("matting_laplacian");
pub const MATTING_SOLVER: Shader = shader!("matting_solver");
pub const MORPHOLOGY: Shader = shader!("morphology");
pub const FILTER: Shader = shader!("filter");
pub const MASKOPS: Shader = shader!("maskops");
pub const COMPONENTS: Shader = shader!("components");
pub const FOREGROUND: Shader = shader!("foreground");
pub const GUIDED: Shader = shader!("guided");

/// Every kernel family, for validation and pipeline warm-up.
pub const ALL: &[Shader] = &[
    CONV,
    CONV_SUBGROUP,
    CONV_SUBGROUP_UNIFORM,
    CONV_WINOGRAD,
    CONV_GEMM,
    CONV_COOP,
    BATCHNORM,
    POOL,
    UPSAMPLE,
    ELEMENTWISE,
    RESAMPLE,
    PIXELS,
    MATTING_PYRAMID,
    MATTING_SETUP,
    MATTING_LAPLACIAN,
    MATTING_SOLVER,
    MORPHOLOGY,
    FILTER,
    MASKOPS,
    COMPONENTS,
    FOREGROUND,
    GUIDED,
];

/// Files under `shaders/shared/`, by the path used in `//#include`.
const SHARED: &[(&str, &str)] = &[
    (
        "shared/tensor.wgsl",
        include_str!("../../shaders/shared/tensor.wgsl"),
    ),
    (
        "shared/image8.wgsl",
        include_str!("../../shaders/shared/image8.wgsl"),
    ),
    (
        "shared/reduce.wgsl",
        include_str!("../../shaders/shared/reduce.wgsl"),
    ),
    (
        "shared/conv_params.wgsl",
        include_str!("../../shaders/shared/conv_params.wgsl"),
    ),
    (
        "shared/bilinear.wgsl",
        include_str!("../../shaders/shared/bilinear.wgsl"),
    ),
    (
        "shared/conv_rows.wgsl",
        include_str!("../../shaders/shared/conv_rows.wgsl"),
    ),
    (
        "shared/lane_rows.wgsl",
        include_str!("../../shaders/shared/lane_rows.wgsl"),
    ),
    (
        "shared/conv_direct.wgsl",
        include_str!("../../shaders/shared/conv_direct.wgsl"),
    ),
    (
        "shared/conv_subgroup_body.wgsl",
        include_str!("../../shaders/shared/conv_subgroup_body.wgsl"),
    ),
    (
        "shared/matting_layout.wgsl",
        include_str!("../../shaders/shared/matting_layout.wgsl"),
    ),
];

const INCLUDE: &str = "//#include ";

impl Shader {
    /// This family with activations stored in `precision`.
    pub fn storing(self, precision: Precision) -> Self {
        Self { precision, ..self }
    }

    /// Whether the family stores activations as `act` (has an f16 variant).
    pub fn has_act(&self) -> bool {
        self.source_f32().contains("array<act>")
    }

    /// This family on `size` x `size` cooperative matrices: conv_coop.wgsl
    /// is written for 8 x 8, and NVIDIA offers 16 x 16.
    pub fn with_matrix(self, size: u32) -> Self {
        Self {
            matrix: size,
            ..self
        }
    }

    /// The complete WGSL text with every include expanded, in this
    /// shader's precision and matrix size.
    pub fn source(&self) -> String {
        let mut text = self.source_f32();
        if self.matrix != COOP_SIZE {
            let s = self.matrix;
            text = text
                .replace("coop_mat8x8", &format!("coop_mat{s}x{s}"))
                .replace("const S: u32 = 8u;", &format!("const S: u32 = {s}u;"));
        }
        match self.precision {
            Precision::F32 => text,
            // conv_coop.wgsl enables f16 itself, for its f16 tiles.
            Precision::F16 if text.contains(F16_ENABLED) => {
                text.replace(ACT_F32, "alias act = f16;")
            }
            Precision::F16 => format!(
                "{F16_ENABLED}\n{}",
                text.replace(ACT_F32, "alias act = f16;")
            ),
        }
    }

    /// The complete WGSL text with every include expanded.
    ///
    /// # Panics
    /// If an include names a file that is not in `SHARED`; the naga test
    /// validates every shader, so this cannot reach a release.
    fn source_f32(&self) -> String {
        let mut out = String::with_capacity(self.raw.len() * 2);
        for line in self.raw.lines() {
            match line.trim().strip_prefix(INCLUDE) {
                Some(path) => {
                    let path = path.trim().trim_matches('"');
                    let text = SHARED
                        .iter()
                        .find(|(p, _)| *p == path)
                        .unwrap_or_else(|| panic!("{}.wgsl includes unknown {path}", self.name))
                        .1;
                    out.push_str(text);
                }
                None => out.push_str(line),
            }
            out.push('\n');
        }
        out
    }
}
