//! The params structs the host writes into uniform buffers (`#[repr(C)]`,
//! `Pod`, in src/kernels/) against the WGSL structs the kernels read them
//! as: the size, and each member's offset and size, as naga lays out the
//! WGSL. Members whose names start with `_` are padding, compared only
//! through the size. Every struct a shader binds as a uniform, and every
//! struct inside one, must have its Rust counterpart in `layouts()`.

use std::collections::BTreeSet;

use naga::{AddressSpace, Handle, Module, Type, TypeInner};
use u2cut::gpu::shaders;

/// A Rust params struct as the compiler lays it out.
struct Layout {
    rust: &'static str,
    /// The WGSL struct's name: the Rust type's.
    wgsl: &'static str,
    /// The only shader whose struct of that name this is, where two
    /// shaders declare different structs under one name.
    only_in: Option<&'static str>,
    size: usize,
    /// (name, offset, size)
    fields: Vec<(&'static str, usize, usize)>,
}

/// The size of the field that `field` borrows.
fn size_of_field<T, F>(_field: fn(&T) -> &F) -> usize {
    size_of::<F>()
}

/// `[module::]Type { every field } [in "shader"]`, relative to
/// `u2cut::kernels`. The fields are a struct pattern with no `..`, so a
/// field added to the Rust struct and not here fails to compile.
macro_rules! layout {
    (@ [$($module:ident)?] $name:ident { $($field:ident),* $(,)? } $(in $shader:literal)?) => {{
        use u2cut::kernels::$($module::)?$name as T;
        let T { $($field: _),* } = <T as bytemuck::Zeroable>::zeroed();
        Layout {
            rust: concat!("kernels::", $(stringify!($module), "::",)? stringify!($name)),
            wgsl: stringify!($name),
            only_in: None $(.or(Some($shader)))?,
            size: size_of::<T>(),
            fields: vec![$((
                stringify!($field),
                std::mem::offset_of!(T, $field),
                size_of_field(|t: &T| &t.$field),
            )),*],
        }
    }};
    ($name:ident $fields:tt $(in $shader:literal)?) => {
        layout!(@ [] $name $fields $(in $shader)?)
    };
    ($module:ident :: $name:ident $fields:tt $(in $shader:literal)?) => {
        layout!(@ [$module] $name $fields $(in $shader)?)
    };
}

// A table, one row per struct: rustfmt would give each field a line.
#[rustfmt::skip]
fn layouts() -> Vec<Layout> {
    vec![
        layout!(View { c_total, c_offset, channels, plane }),
        layout!(SpatialParams { src, dst, in_h, in_w, out_h, out_w }),
        layout!(resample::Image8 { offset, stride, width, height }),
        layout!(conv::ConvParams {
            a, b, dst, residual, height, width, tiles_x, cout_blocks, relu,
            a_height, a_width, first_block, w_a, w_b, dilation,
        }),
        layout!(batchnorm::BatchNormParams { src, dst, eps, relu, _pad }),
        layout!(elementwise::ElementwiseParams { a, b, dst }),
        layout!(resample::ResampleParams { src, dst, channels, ksize, table_offset, _pad }),
        layout!(pixels::NormalizeParams { src, src_step, dst_offset, dst_step, _pad, mean, stddev }),
        layout!(pixels::MaskParams { src, dst, dst_step, _pad } in "pixels"),
        layout!(pixels::ComposeParams { image, mask, background, mode, color, _pad }),
        layout!(maskops::MaskParams { len, level_a, level_b, _pad } in "maskops"),
        layout!(filter::FilterParams { width, height, axis, radius, border, _pad }),
        layout!(morphology::MorphParams {
            width, height, axis, lo, hi, op, pad_mode, pad, dy, first, _pad,
        }),
        layout!(components::ComponentParams {
            width, height, threshold, invert, connectivity, min_size, _pad,
        }),
        layout!(guided::GuidedParams { width, height, sub_width, sub_height, scale, eps, _pad }),
        layout!(foreground::ForegroundParams {
            width0, height0, width, height, src_width, src_height, regularization,
            gradient_weight, n_partials, _pad,
        }),
        layout!(matting::MattingParams {
            width, height, tiles_x, n_tiles, epsilon, tolerance2, other_width, other_height,
            other_tiles_x, other_n_tiles, bottom_rows, relax, pad1, pad2,
        }),
    ]
}

/// The structs a uniform of `module` is made of: its type (through
/// arrays) and, within a struct, its members' structs.
fn uniform_structs(module: &Module) -> BTreeSet<Handle<Type>> {
    fn walk(module: &Module, ty: Handle<Type>, out: &mut BTreeSet<Handle<Type>>) {
        match &module.types[ty].inner {
            TypeInner::Struct { members, .. } if out.insert(ty) => {
                for m in members {
                    walk(module, m.ty, out);
                }
            }
            TypeInner::Array { base, .. } => walk(module, *base, out),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    for (_, var) in module.global_variables.iter() {
        if var.space == AddressSpace::Uniform {
            walk(module, var.ty, &mut out);
        }
    }
    out
}

fn is_padding(name: &str) -> bool {
    name.starts_with('_')
}

/// How the WGSL struct `ty` of `module` differs from `rust`.
fn differences(
    module: &Module,
    layouter: &naga::proc::Layouter,
    ty: Handle<Type>,
    rust: &Layout,
) -> Vec<String> {
    let TypeInner::Struct { members, .. } = &module.types[ty].inner else {
        unreachable!("uniform_structs returns structs");
    };
    let mut out = Vec::new();
    let wgsl_size = layouter[ty].size as usize;
    if wgsl_size != rust.size {
        out.push(format!("size: WGSL {wgsl_size}, Rust {}", rust.size));
    }
    let mut named = 0;
    for m in members {
        let name = m.name.as_deref().unwrap_or_default();
        if is_padding(name) {
            continue;
        }
        named += 1;
        let (offset, size) = (m.offset as usize, layouter[m.ty].size as usize);
        match rust.fields.iter().find(|(f, ..)| *f == name) {
            None => out.push(format!("`{name}` is not in the Rust struct")),
            Some(&(_, o, s)) if (o, s) != (offset, size) => out.push(format!(
                "`{name}`: WGSL offset {offset} size {size}, Rust offset {o} size {s}"
            )),
            Some(_) => {}
        }
    }
    let rust_named = rust.fields.iter().filter(|(f, ..)| !is_padding(f)).count();
    if rust_named != named {
        out.push(format!(
            "{rust_named} named Rust fields, {named} named WGSL members"
        ));
    }
    out
}

#[test]
fn uniform_params_match_their_rust_structs() {
    let layouts = layouts();
    let mut checked = vec![0; layouts.len()];
    let mut failures = Vec::new();
    for shader in shaders::ALL {
        let source = shader.source();
        let module = naga::front::wgsl::parse_str(&source)
            .unwrap_or_else(|e| panic!("{}.wgsl: {}", shader.name, e.emit_to_string(&source)));
        let mut layouter = naga::proc::Layouter::default();
        layouter.update(module.to_ctx()).unwrap();
        for ty in uniform_structs(&module) {
            let wgsl = module.types[ty].name.as_deref().unwrap_or_default();
            let matching: Vec<usize> = (0..layouts.len())
                .filter(|&i| {
                    let l = &layouts[i];
                    l.wgsl == wgsl && l.only_in.is_none_or(|s| s == shader.name)
                })
                .collect();
            let &[i] = matching.as_slice() else {
                failures.push(format!(
                    "{}.wgsl: {} Rust layouts for uniform struct {wgsl} (want 1)",
                    shader.name,
                    matching.len()
                ));
                continue;
            };
            checked[i] += 1;
            for d in differences(&module, &layouter, ty, &layouts[i]) {
                failures.push(format!(
                    "{}.wgsl {wgsl} vs {}: {d}",
                    shader.name, layouts[i].rust
                ));
            }
        }
    }
    for (l, n) in layouts.iter().zip(&checked) {
        if *n == 0 {
            failures.push(format!("{} matches no uniform struct", l.rust));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
