//! Every WGSL file is parsed and validated by naga: no GPU needed.

use u2cut::gpu::shaders::{self, Shader};
use u2cut::kernels::Precision;

fn validate(name: &str, source: &str) {
    let module = naga::front::wgsl::parse_str(source)
        .unwrap_or_else(|e| panic!("{name}.wgsl does not parse:\n{}", e.emit_to_string(source)));
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::all(),
    )
    .validate(&module)
    .unwrap_or_else(|e| {
        panic!(
            "{name}.wgsl does not validate:\n{}",
            e.emit_to_string(source)
        )
    });
}

/// Every variant the host can ask for: f32, f16 where the family stores
/// activations, and 8 x 8 and 16 x 16 cooperative matrices where it is
/// built on them.
fn variants(shader: Shader) -> Vec<Shader> {
    let precisions: &[Precision] = if shader.has_act() {
        &[Precision::F32, Precision::F16]
    } else {
        &[Precision::F32]
    };
    let matrices: &[u32] = if shader.variant.matrix.is_some() {
        &[8, 16]
    } else {
        &[]
    };
    let mut out = Vec::new();
    for &precision in precisions {
        let shader = shader.storing(precision);
        if matrices.is_empty() {
            out.push(shader);
        }
        out.extend(matrices.iter().map(|&size| shader.with_matrix(size)));
    }
    out
}

#[test]
fn every_shader_validates_in_every_variant() {
    for &family in shaders::ALL {
        for shader in variants(family) {
            let v = shader.variant;
            let name = match v.matrix {
                Some(s) => format!("{} ({}, {s}x{s})", shader.name, v.precision.name()),
                None => format!("{} ({})", shader.name, v.precision.name()),
            };
            validate(&name, &shader.source());
        }
    }
}

#[test]
fn the_network_kernels_have_f16_variants() {
    let with_act: Vec<&str> = shaders::ALL
        .iter()
        .filter(|s| s.has_act())
        .map(|s| s.name)
        .collect();
    for name in [
        "conv",
        "conv_gemm",
        "batchnorm",
        "pool",
        "upsample",
        "elementwise",
    ] {
        assert!(with_act.contains(&name), "{name} stores no `act` arrays");
    }
}

#[test]
fn every_wgsl_file_is_built_in() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".wgsl").map(str::to_owned)
        })
        .collect();
    files.sort();
    let mut built_in: Vec<String> = shaders::ALL.iter().map(|s| s.name.to_owned()).collect();
    built_in.sort();
    assert_eq!(
        files, built_in,
        "shaders/*.wgsl and gpu::shaders::ALL differ"
    );
}
