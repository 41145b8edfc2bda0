//! Every WGSL file is parsed and validated by naga: no GPU needed.

use u2cut::gpu::shaders;
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

#[test]
fn every_shader_validates() {
    for shader in shaders::ALL {
        validate(shader.name, &shader.source());
        if shader.has_act() {
            let f16 = shader.storing(Precision::F16);
            validate(&format!("{} (f16)", shader.name), &f16.source());
        }
    }
}

/// conv_coop.wgsl is written for 8 x 8 matrices; NVIDIA's are 16 x 16.
#[test]
fn the_coop_conv_validates_on_16x16_matrices() {
    for precision in [Precision::F32, Precision::F16] {
        let shader = shaders::CONV_COOP.with_matrix(16).storing(precision);
        let source = shader.source();
        assert!(source.contains("coop_mat16x16") && !source.contains("coop_mat8x8"));
        validate(&format!("conv_coop 16x16 ({precision:?})"), &source);
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
