//! The solver's account of each pyramid level.

use super::Solver;

/// Why a level stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// |r| <= tolerance |b|.
    Converged,
    /// Stopped at max_iterations before converging.
    IterationCap,
    /// p.Ap <= 0 or a non-finite residual (should not happen: L_U is
    /// positive definite; reported rather than hidden).
    Breakdown,
    /// No unknown pixels at this level: nothing to solve.
    Nothing,
}

/// One pyramid level's account.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LevelReport {
    pub width: u32,
    pub height: u32,
    /// Unknown pixels (CPU) or pixels of active tiles (GPU) worked on.
    pub active_pixels: u64,
    pub iterations: u32,
    /// |r| / |b| at the end (0 when b = 0).
    pub residual: f32,
    pub status: Status,
    /// Levels of the multigrid V-cycle preconditioner (0: Jacobi).
    pub multigrid_levels: u32,
    /// GPU dispatches per CG iteration (0 on the CPU).
    pub dispatches_per_iteration: u32,
}

impl LevelReport {
    /// A level of `width x height` with `active_pixels` to solve, before
    /// any iteration (what stays when there are none).
    pub(super) fn start(width: u32, height: u32, active_pixels: u64) -> Self {
        Self {
            width,
            height,
            active_pixels,
            iterations: 0,
            residual: 0.0,
            status: Status::Nothing,
            multigrid_levels: 0,
            dispatches_per_iteration: 0,
        }
    }
}

/// The solver's account, coarsest level first.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CfReport {
    /// The solver that ran: `Gpu` or `Cpu`.
    pub solver: Solver,
    pub levels: Vec<LevelReport>,
}

impl CfReport {
    pub(super) fn new(solver: Solver) -> Self {
        Self {
            solver,
            levels: Vec::new(),
        }
    }

    /// The full-size level's status.
    pub fn status(&self) -> Status {
        self.levels.last().map_or(Status::Nothing, |l| l.status)
    }

    /// Whether the full-size level stopped before converging.
    pub fn stopped_early(&self) -> bool {
        matches!(self.status(), Status::IterationCap | Status::Breakdown)
    }

    pub fn iterations(&self) -> u32 {
        self.levels.iter().map(|l| l.iterations).sum()
    }

    /// One line: the solver, then iterations and final residual per level.
    pub fn summary(&self) -> String {
        let solver = match self.solver {
            Solver::Cpu => "CPU solver",
            Solver::Gpu | Solver::Auto => "GPU solver",
        };
        let levels = self
            .levels
            .iter()
            .map(|l| {
                let mut line = format!(
                    "{}x{}: {} iterations, |r|/|b| = {:.1e} ({:?})",
                    l.width, l.height, l.iterations, l.residual, l.status
                );
                if l.multigrid_levels > 0 {
                    line += &format!(", V-cycle of {} levels", l.multigrid_levels);
                }
                if l.dispatches_per_iteration > 0 {
                    line += &format!(", {} dispatches per iteration", l.dispatches_per_iteration);
                }
                line
            })
            .collect::<Vec<_>>()
            .join("; ");
        format!("{solver}; {levels}")
    }
}
