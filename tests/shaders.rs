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
