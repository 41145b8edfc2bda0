//! The solver's settings.

use crate::Result;
use crate::error::ensure;
use crate::gpu::GpuContext;

/// What preconditions the conjugate gradients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Preconditioner {
    /// A multigrid V-cycle with Galerkin coarse levels (tens of
    /// iterations, nearly flat in image size).
    #[default]
    Multigrid,
    /// 1 / L_ii (hundreds to thousands of iterations; with the pyramid).
    Jacobi,
}

/// Which solver runs the closed-form solve when the engine is a GPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Solver {
    /// The GPU's, unless the device is a CPU (llvmpipe, SwiftShader,
    /// WARP): there the CPU solver runs the same algorithm natively, in f64
    /// on every core, instead of through the emulated GPU's per-dispatch
    /// overheads, several times faster (BENCHMARKS.md, "Matting").
    #[default]
    Auto,
    /// The WGSL solver on the device, whatever the device is.
    Gpu,
    /// The CPU solver (plain Rust, f64).
    Cpu,
}

impl Solver {
    /// Whether the solve for a GPU engine on `ctx` runs on the CPU.
    pub fn on_cpu(self, ctx: &GpuContext) -> bool {
        match self {
            Solver::Auto => ctx.info.device_type == wgpu::DeviceType::Cpu,
            Solver::Gpu => false,
            Solver::Cpu => true,
        }
    }
}

/// Solver settings. The defaults reach pymatting's alpha within its 8-bit
/// rounding on the lemur.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CfOptions {
    /// Regularization of the window covariances (pymatting: 1e-7).
    pub epsilon: f32,
    /// Each level stops once |r| <= tolerance |b| (pymatting's rtol, and
    /// its value).
    pub tolerance: f32,
    /// At most this many iterations per level.
    pub max_iterations: u32,
    /// Iterations recorded per submit, between convergence checks (GPU).
    pub check_every: u32,
    /// Pyramid levels including the full size; None = automatic: one with
    /// the multigrid (its coarse levels already carry the smooth part of
    /// the solution), else halve while the longer side stays >= 128 and the
    /// shorter >= 16.
    pub levels: Option<u32>,
    pub preconditioner: Preconditioner,
    pub solver: Solver,
}

impl Default for CfOptions {
    fn default() -> Self {
        Self {
            epsilon: 1e-7,
            tolerance: 1e-7,
            max_iterations: 5000,
            check_every: 32,
            levels: None,
            preconditioner: Preconditioner::default(),
            solver: Solver::default(),
        }
    }
}

impl CfOptions {
    pub(super) fn check(&self) -> Result<()> {
        ensure!(
            self.epsilon > 0.0 && self.epsilon.is_finite(),
            Input,
            "matting epsilon must be positive (got {})",
            self.epsilon
        );
        ensure!(
            self.tolerance >= 0.0 && self.tolerance.is_finite(),
            Input,
            "matting tolerance must be >= 0 (got {})",
            self.tolerance
        );
        ensure!(
            self.check_every > 0,
            Input,
            "check_every must be at least 1"
        );
        ensure!(self.levels != Some(0), Input, "at least one pyramid level");
        Ok(())
    }

    /// Level sizes, finest first.
    pub fn level_sizes(&self, width: u32, height: u32) -> Vec<(u32, u32)> {
        let mut sizes = vec![(width, height)];
        loop {
            let (w, h) = *sizes.last().expect("one level");
            let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
            let more = match (self.levels, self.preconditioner) {
                (Some(n), _) => (sizes.len() as u32) < n && cw >= 3 && ch >= 3,
                (None, Preconditioner::Multigrid) => false,
                (None, Preconditioner::Jacobi) => cw.max(ch) >= 128 && cw.min(ch) >= 16,
            };
            if !more {
                return sizes;
            }
            sizes.push((cw, ch));
        }
    }
}
