//! What the driver gets for one pipeline: the shader with its override
//! constants substituted and the branches they decide taken or dropped.
//!
//! naga substitutes the constants but keeps `if K == 1u { ... } else
//! { ... }` with its dead side. lavapipe (Mesa 22.3) inlines every call on
//! both sides before its first dead-code pass, and that work, which its
//! disk cache does not keep, was most of the time it took to create a
//! conv pipeline. Folding the branches here hands it only the code the
//! pipeline runs (BENCHMARKS.md has the measurements).

use naga::valid::{Capabilities, ModuleInfo, ValidationFlags, Validator};
use naga::{Block, Expression, Literal, Statement};

use super::shaders::Shader;

/// A shader parsed and validated once, for every pipeline made of it.
pub struct Parsed {
    name: &'static str,
    pub(super) module: naga::Module,
    pub(super) info: ModuleInfo,
}

/// One pipeline's module, and the group-0 bindings its entry point uses.
pub struct Specialized {
    pub module: naga::Module,
    pub bindings: Vec<u32>,
}

fn validate(module: &naga::Module) -> Result<ModuleInfo, String> {
    Validator::new(ValidationFlags::all(), Capabilities::all())
        .validate(module)
        .map_err(|e| e.to_string())
}

/// # Panics
/// If the shader does not parse or validate: the shader tests compile
/// every built-in shader, so that is a bug that cannot reach a release.
pub fn parse(shader: Shader) -> Parsed {
    let source = shader.source();
    let module = naga::front::wgsl::parse_str(&source)
        .unwrap_or_else(|e| panic!("{}.wgsl: {}", shader.name, e.emit_to_string(&source)));
    let info = Validator::new(ValidationFlags::all(), Capabilities::all())
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}.wgsl: {}", shader.name, e.emit_to_string(&source)));
    Parsed {
        name: shader.name,
        module,
        info,
    }
}

/// `entry` of `parsed` with `constants` substituted and the branches on
/// them folded.
///
/// # Panics
/// If a constant is not one the shader declares, or the result does not
/// validate: bugs in the caller or in this pass, which the kernel tests run.
pub fn specialize(parsed: &Parsed, entry: &str, constants: &[(&str, f64)]) -> Specialized {
    let name = parsed.name;
    let constants: naga::back::PipelineConstants =
        constants.iter().map(|&(k, v)| (k.to_owned(), v)).collect();
    let (module, _) = naga::back::pipeline_constants::process_overrides(
        &parsed.module,
        &parsed.info,
        Some((naga::ShaderStage::Compute, entry)),
        &constants,
    )
    .unwrap_or_else(|e| panic!("{name}.wgsl, {entry}: {e}"));
    let mut module = module.into_owned();
    for (_, function) in module.functions.iter_mut() {
        fold(&mut function.body, &function.expressions);
    }
    for ep in &mut module.entry_points {
        fold(&mut ep.function.body, &ep.function.expressions);
    }
    // Drops the functions and globals that only the dead sides used.
    naga::compact::compact(&mut module, naga::compact::KeepUnused::No);
    let info = validate(&module).unwrap_or_else(|e| panic!("{name}.wgsl, {entry} folded: {e}"));
    let index = module
        .entry_points
        .iter()
        .position(|ep| ep.name == entry)
        .unwrap_or_else(|| panic!("{name}.wgsl has no entry point {entry}"));
    let bindings = entry_bindings(&module, &info, index)
        .map(|(binding, _)| binding)
        .collect();
    Specialized { module, bindings }
}

/// The variables of bind group 0 that entry point `index` uses, through
/// the functions it calls, in binding order.
pub(super) fn entry_bindings<'m>(
    module: &'m naga::Module,
    info: &ModuleInfo,
    index: usize,
) -> impl Iterator<Item = (u32, &'m naga::GlobalVariable)> {
    let uses = info.get_entry_point(index);
    let mut used: Vec<_> = module
        .global_variables
        .iter()
        .filter(|&(handle, _)| !uses[handle].is_empty())
        .filter_map(|(_, var)| Some((var.binding.as_ref().filter(|b| b.group == 0)?.binding, var)))
        .collect();
    used.sort_unstable_by_key(|&(binding, _)| binding);
    used.into_iter()
}

/// Replaces every `if` whose condition is now a constant by the block it
/// takes, in `block` and the blocks nested in it.
fn fold(block: &mut Block, expressions: &naga::Arena<Expression>) {
    for statement in block.iter_mut() {
        match statement {
            Statement::If {
                condition,
                accept,
                reject,
            } => {
                fold(accept, expressions);
                fold(reject, expressions);
                if let Some(taken) = constant_bool(expressions, *condition) {
                    let kept = std::mem::take(if taken { accept } else { reject });
                    *statement = Statement::Block(kept);
                }
            }
            Statement::Block(inner) => fold(inner, expressions),
            Statement::Loop {
                body, continuing, ..
            } => {
                fold(body, expressions);
                fold(continuing, expressions);
            }
            Statement::Switch { cases, .. } => {
                for case in cases {
                    fold(&mut case.body, expressions);
                }
            }
            _ => {}
        }
    }
}

/// The value of a boolean expression made of literals, `!`, `&&` and `||`
/// (runtime `&&` and `||` short-circuit through `if`s, which [`fold`]
/// meets on its own), or None if it depends on anything else.
fn constant_bool(
    expressions: &naga::Arena<Expression>,
    h: naga::Handle<Expression>,
) -> Option<bool> {
    use naga::{BinaryOperator as B, UnaryOperator as U};
    match expressions[h] {
        Expression::Literal(Literal::Bool(b)) => Some(b),
        Expression::Unary {
            op: U::LogicalNot,
            expr,
        } => constant_bool(expressions, expr).map(|b| !b),
        Expression::Binary { op, left, right } if matches!(op, B::LogicalAnd | B::LogicalOr) => {
            let (l, r) = (
                constant_bool(expressions, left),
                constant_bool(expressions, right),
            );
            let absorbing = op == B::LogicalOr;
            if l == Some(absorbing) || r == Some(absorbing) {
                Some(absorbing)
            } else {
                l.zip(r).map(|_| !absorbing)
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::shaders;

    /// Whether the specialized module still has a function of this name.
    fn has(s: &Specialized, function: &str) -> bool {
        s.module
            .functions
            .iter()
            .any(|(_, f)| f.name.as_deref() == Some(function))
    }

    #[test]
    fn a_constant_decides_which_side_of_a_branch_remains() {
        let parsed = parse(shaders::CONV_SUBGROUP);
        let base = [("DIL", 1.0), ("UP_A", 0.0), ("VEC", 1.0), ("QUADS", 4.0)];
        let k3 = specialize(&parsed, "main", &[&base[..], &[("K", 3.0)]].concat());
        let k1 = specialize(&parsed, "main", &[&base[..], &[("K", 1.0)]].concat());
        assert!(has(&k3, "conv3x3") && !has(&k3, "conv1x1"));
        assert!(has(&k1, "conv1x1") && !has(&k1, "conv3x3"));
        // Both read the weights (binding 3); only UP_A reads through fetch_up.
        assert!(k3.bindings.contains(&3) && k1.bindings.contains(&3));
        assert!(has(&k3, "row10") && !has(&k3, "fetch_up"));
    }

    #[test]
    fn only_literals_fold() {
        use naga::{BinaryOperator as B, UnaryOperator as U};
        let mut e = naga::Arena::new();
        let span = naga::Span::default();
        let t = e.append(Expression::Literal(Literal::Bool(true)), span);
        let f = e.append(Expression::Literal(Literal::Bool(false)), span);
        let x = e.append(Expression::Literal(Literal::U32(1)), span);
        let bin = |e: &mut naga::Arena<Expression>, op, left, right| {
            e.append(Expression::Binary { op, left, right }, span)
        };
        let f_and_x = bin(&mut e, B::LogicalAnd, f, x);
        let t_and_x = bin(&mut e, B::LogicalAnd, t, x);
        let t_or_x = bin(&mut e, B::LogicalOr, x, t);
        let t_and_t = bin(&mut e, B::LogicalAnd, t, t);
        let not_f = e.append(
            Expression::Unary {
                op: U::LogicalNot,
                expr: f,
            },
            span,
        );
        assert_eq!(constant_bool(&e, f_and_x), Some(false));
        assert_eq!(constant_bool(&e, t_and_x), None);
        assert_eq!(constant_bool(&e, t_or_x), Some(true));
        assert_eq!(constant_bool(&e, t_and_t), Some(true));
        assert_eq!(constant_bool(&e, not_f), Some(true));
        assert_eq!(constant_bool(&e, x), None);
    }
}
