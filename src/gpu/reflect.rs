//! Which storage buffers an entry point binds, read from its shader by
//! naga. Pipelines use automatic layouts, which hold only the bindings the
//! entry point uses, and a bind group must bind exactly those; taking the
//! list from the WGSL keeps it from drifting from a copy written in Rust.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use super::shaders::Shader;
use super::specialize;

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
    let parsed = specialize::parse(shader);
    parsed
        .module
        .entry_points
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let storage = specialize::entry_bindings(&parsed.module, &parsed.info, index)
                .filter(|(_, var)| matches!(var.space, naga::AddressSpace::Storage { .. }))
                .map(|(binding, var)| StorageBinding {
                    binding,
                    name: Box::leak(var.name.clone().unwrap_or_default().into_boxed_str()),
                })
                .collect();
            (entry.name.clone(), storage)
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
