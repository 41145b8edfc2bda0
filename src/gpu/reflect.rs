//! Which storage buffers an entry point binds, read from its shader by
//! naga. Pipelines use automatic layouts, which hold only the bindings the
//! entry point uses, and a bind group must bind exactly those; taking the
//! list from the WGSL keeps it from drifting from a copy written in Rust.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use naga::valid::{Capabilities, ValidationFlags, Validator};

use super::shaders::Shader;

/// A storage buffer of bind group 0 as the WGSL declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StorageBinding {
    pub binding: u32,
    /// The variable's name in the WGSL.
    pub name: &'static str,
}

/// Entry point name -> the storage buffers it uses, by binding number.
type Entries = HashMap<String, Vec<StorageBinding>>;

/// One reflection per shader variant, kept for the process (a handful).
static CACHE: LazyLock<Mutex<HashMap<Shader, &'static Entries>>> = LazyLock::new(Default::default);

/// The storage buffers of group 0 that `entry` of `shader` uses, in binding
/// order (the uniform parameters are not among them). The shader is parsed
/// and validated on the first call for it, not per dispatch.
///
/// # Panics
/// If the shader does not parse or validate (the naga test validates every
/// shader, so this cannot reach a release), or has no entry point `entry`.
pub fn storage_buffers(shader: Shader, entry: &str) -> &'static [StorageBinding] {
    let entries = *CACHE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .entry(shader)
        .or_insert_with(|| Box::leak(Box::new(reflect(shader))));
    entries
        .get(entry)
        .unwrap_or_else(|| panic!("{}.wgsl has no entry point {entry}", shader.name))
}

fn reflect(shader: Shader) -> Entries {
    let source = shader.source();
    let module = naga::front::wgsl::parse_str(&source)
        .unwrap_or_else(|e| panic!("{}.wgsl: {}", shader.name, e.emit_to_string(&source)));
    let info = Validator::new(ValidationFlags::all(), Capabilities::all())
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}.wgsl: {}", shader.name, e.emit_to_string(&source)));
    let storage: Vec<_> = module
        .global_variables
        .iter()
        .filter_map(|(handle, var)| {
            let binding = var.binding.as_ref().filter(|b| b.group == 0)?;
            matches!(var.space, naga::AddressSpace::Storage { .. }).then(|| {
                let name = var.name.clone().unwrap_or_default();
                let binding = StorageBinding {
                    binding: binding.binding,
                    name: Box::leak(name.into_boxed_str()),
                };
                (handle, binding)
            })
        })
        .collect();
    module
        .entry_points
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let uses = info.get_entry_point(index);
            let mut used: Vec<StorageBinding> = storage
                .iter()
                .filter(|(handle, _)| !uses[*handle].is_empty())
                .map(|&(_, binding)| binding)
                .collect();
            used.sort_by_key(|b| b.binding);
            (entry.name.clone(), used)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::shaders;

    fn names(shader: Shader, entry: &str) -> Vec<&'static str> {
        storage_buffers(shader, entry)
            .iter()
            .map(|b| b.name)
            .collect()
    }

    #[test]
    fn an_entry_point_binds_the_buffers_it_reaches_through_its_calls() {
        // lap_pixels reads most of them through helpers of the shared layout.
        assert_eq!(
            names(shaders::MATTING_LAPLACIAN, "lap_pixels"),
            ["map", "img", "win", "wa", "dir", "q", "invdiag", "red"]
        );
        assert_eq!(names(shaders::MATTING_SOLVER, "finish_rz"), ["red"]);
        let flags = storage_buffers(shaders::MATTING_PYRAMID, "flags");
        assert_eq!(flags.len(), 2);
        assert_eq!((flags[1].binding, flags[1].name), (16, "flags_out"));
    }

    #[test]
    #[should_panic(expected = "no entry point")]
    fn an_unknown_entry_point_is_a_bug() {
        storage_buffers(shaders::MATTING_SOLVER, "gather");
    }
}
