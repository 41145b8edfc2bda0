//! The WGSL sources, built into the binary, and the little preprocessing
//! that makes a complete module of one.
//!
//! WGSL has no `#include`, so shared declarations live in `shaders/shared/`
//! and a file pulls one in with a line `//#include "shared/NAME.wgsl"`.
//! [`Shader::source`] expands those recursively, each file once (see
//! `include.rs` for the rules); a shared file includes what it uses itself,
//! so a kernel names only the files it uses.
//!
//! Nor does WGSL have generics. What differs between the variants of a
//! family is declared by a prelude that [`Shader::source`] writes in front
//! of the expanded text, from the shader's [`Variant`]: the storage type
//! `act` of the network kernels' `array<act>` activations (f32, or f16
//! with [`Shader::storing`]), and for conv_coop.wgsl the cooperative matrix
//! size `S` and its tile types ([`Shader::with_matrix`]). The WGSL files
//! themselves never declare these, so every variant is the same text.

mod include;

use std::fmt::Write;

use super::Precision;

/// One kernel family: a `shaders/<name>.wgsl` file, in one [`Variant`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shader {
    pub name: &'static str,
    raw: &'static str,
    pub variant: Variant,
}

/// What the prelude of a family's source declares: the choices between
/// its variants. Part of [`Shader`], so the pipeline cache, keyed by
/// shader, compiles each variant apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Variant {
    /// The storage type of activations, `alias act = f32;` (or `f16`,
    /// with `enable f16;`). Declared for every family, used by those that
    /// store activations ([`Shader::has_act`]).
    pub precision: Precision,
    /// For a family built on cooperative matrices (conv_coop.wgsl), their
    /// side: `const S: u32`, and `AMat`, `BMat` (S x S f16 operands) and
    /// `CMat` (f32 sums) declared as its S x S `coop_mat` types. None for
    /// the others.
    pub matrix: Option<u32>,
}

impl Variant {
    /// The WGSL declarations of this variant, which go before any other:
    /// they include the `enable` directives, which WGSL wants first.
    pub fn prelude(&self) -> String {
        let act = self.precision.name();
        let mut out =
            String::from("// Prelude: this variant's declarations (src/gpu/shaders.rs).\n");
        if self.precision == Precision::F16 || self.matrix.is_some() {
            out.push_str("enable f16;\n");
        }
        if self.matrix.is_some() {
            out.push_str("enable wgpu_cooperative_matrix;\n");
        }
        writeln!(out, "alias act = {act};").unwrap();
        if let Some(s) = self.matrix {
            writeln!(out, "const S: u32 = {s}u;").unwrap();
            writeln!(out, "alias AMat = coop_mat{s}x{s}<f16, A>;").unwrap();
            writeln!(out, "alias BMat = coop_mat{s}x{s}<f16, B>;").unwrap();
            writeln!(out, "alias CMat = coop_mat{s}x{s}<f32, C>;").unwrap();
        }
        out
    }
}

/// `shader!("name")`, or `shader!("name", matrix = 8)` for a family built
/// on cooperative matrices (of that size unless [`Shader::with_matrix`]
/// says otherwise): f32 storage.
macro_rules! shader {
    ($name:literal) => {
        shader!(@ $name, None)
    };
    ($name:literal, matrix = $size:literal) => {
        shader!(@ $name, Some($size))
    };
    (@ $name:literal, $matrix:expr) => {
        Shader {
            name: $name,
            raw: include_str!(concat!("../../shaders/", $name, ".wgsl")),
            variant: Variant {
                precision: Precision::F32,
                matrix: $matrix,
            },
        }
    };
}

pub const CONV: Shader = shader!("conv");
pub const CONV_SUBGROUP: Shader = shader!("conv_subgroup");
pub const CONV_SUBGROUP_UNIFORM: Shader = shader!("conv_subgroup_uniform");
pub const CONV_WINOGRAD: Shader = shader!("conv_winograd");
pub const CONV_GEMM: Shader = shader!("conv_gemm");
pub const CONV_COOP: Shader = shader!("conv_coop", matrix = 8);
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
pub const MATTING_MULTIGRID: Shader = shader!("matting_multigrid");
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
    MATTING_MULTIGRID,
    MORPHOLOGY,
    FILTER,
    MASKOPS,
    COMPONENTS,
    FOREGROUND,
    GUIDED,
];

/// Files under `shaders/shared/`, by the path used in `//#include`.
macro_rules! shared {
    ($($name:literal),* $(,)?) => {
        &[$((
            concat!("shared/", $name, ".wgsl"),
            include_str!(concat!("../../shaders/shared/", $name, ".wgsl")),
        )),*]
    };
}

const SHARED: &[(&str, &str)] = shared![
    "tensor",
    "image8",
    "reduce",
    "conv_params",
    "bilinear",
    "conv_rows",
    "lane_rows",
    "conv_direct",
    "conv_subgroup_body",
    "matting_layout",
];

impl Shader {
    /// This family with activations stored in `precision`.
    pub fn storing(self, precision: Precision) -> Self {
        self.in_variant(Variant {
            precision,
            ..self.variant
        })
    }

    /// Whether the family stores activations as `act` (has an f16 variant).
    pub fn has_act(&self) -> bool {
        self.expanded().contains("array<act>")
    }

    /// This family on `size` x `size` cooperative matrices: 8 x 8 on
    /// lavapipe, 16 x 16 on NVIDIA.
    ///
    /// # Panics
    /// If the family is not built on cooperative matrices.
    pub fn with_matrix(self, size: u32) -> Self {
        assert!(
            self.variant.matrix.is_some(),
            "{}.wgsl has no cooperative matrices",
            self.name
        );
        self.in_variant(Variant {
            matrix: Some(size),
            ..self.variant
        })
    }

    fn in_variant(self, variant: Variant) -> Self {
        Self { variant, ..self }
    }

    /// The complete WGSL module: this variant's prelude, then the file
    /// with every include expanded.
    pub fn source(&self) -> String {
        self.variant.prelude() + &self.expanded()
    }

    /// The file with every include expanded.
    ///
    /// # Panics
    /// If an include is malformed, names a file that is not in `SHARED` or
    /// closes a cycle; the naga test expands every shader, so this cannot
    /// reach a release.
    fn expanded(&self) -> String {
        let entry = format!("{}.wgsl", self.name);
        include::expand(&entry, self.raw, SHARED).unwrap_or_else(|e| panic!("{e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shared_file_is_built_in() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders/shared");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| format!("shared/{}", e.unwrap().file_name().to_string_lossy()))
            .collect();
        files.sort();
        let mut built_in: Vec<&str> = SHARED.iter().map(|(path, _)| *path).collect();
        built_in.sort_unstable();
        assert_eq!(files, built_in, "shaders/shared/ and SHARED differ");
    }

    #[test]
    fn the_prelude_declares_the_variant() {
        let coop = CONV_COOP.with_matrix(16).storing(Precision::F16).source();
        assert!(coop.starts_with(
            "// Prelude: this variant's declarations (src/gpu/shaders.rs).\n\
             enable f16;\n\
             enable wgpu_cooperative_matrix;\n\
             alias act = f16;\n\
             const S: u32 = 16u;\n\
             alias AMat = coop_mat16x16<f16, A>;\n"
        ));
        let conv = CONV.source();
        assert!(!conv.contains("enable ") && conv.contains("alias act = f32;\n"));
    }

    #[test]
    #[should_panic(expected = "conv.wgsl has no cooperative matrices")]
    fn only_matrix_families_take_a_matrix_size() {
        let _ = CONV.with_matrix(16);
    }
}
