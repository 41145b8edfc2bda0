//! The CPU solver: the GPU solver's pyramid, algorithm and stopping rule in
//! f64, level by level over lists of unknown pixels ([`CpuProblem`]).

use super::cpu_problem::CpuProblem;
use super::multigrid::Multigrid;
use super::{
    CfOptions, CfReport, LevelReport, Preconditioner, Solver, Status, check_classes,
    upsample_params,
};
use crate::Result;
use crate::error::ensure;
use crate::kernels::matting::{self as kernel, is_unknown, known_value};
use crate::kernels::upsample;
use crate::matting::Plane;

/// A level's dense inputs on the CPU.
pub(super) struct CpuLevel {
    pub width: u32,
    pub height: u32,
    pub image: Vec<u32>,
    pub trimap: Vec<f32>,
    pub init: Vec<f32>,
}

/// WGSL's pack4x8unorm of one channel.
fn unorm8(v: f32) -> u32 {
    (0.5 + 255.0 * v.clamp(0.0, 1.0)).floor() as u32
}

/// Mirrors `down`.
fn down_cpu(fine: &CpuLevel, (w, h): (u32, u32)) -> CpuLevel {
    let mut out = CpuLevel {
        width: w,
        height: h,
        image: Vec::with_capacity((w * h) as usize),
        trimap: Vec::with_capacity((w * h) as usize),
        init: Vec::with_capacity((w * h) as usize),
    };
    for e in 0..w * h {
        let (cx, cy) = (e % w, e / w);
        let (mut colour, mut guess, mut n_fg, mut n_bg) = ([0.0f32; 4], 0.0f32, 0, 0);
        for j in 0..4 {
            let sx = (2 * cx + j % 2).min(fine.width - 1);
            let sy = (2 * cy + j / 2).min(fine.height - 1);
            let s = (sy * fine.width + sx) as usize;
            let word = fine.image[s];
            for (k, c) in colour.iter_mut().enumerate() {
                *c += ((word >> (8 * k)) & 0xff) as f32 / 255.0;
            }
            guess += fine.init[s];
            let t = fine.trimap[s];
            n_fg += u32::from(t >= kernel::FG_MIN);
            n_bg += u32::from(t <= kernel::BG_MAX);
        }
        out.image.push(
            colour
                .iter()
                .enumerate()
                .map(|(k, &c)| unorm8(c * 0.25) << (8 * k))
                .sum(),
        );
        out.init.push(guess * 0.25);
        out.trimap.push(if n_fg == 4 {
            1.0
        } else if n_bg == 4 {
            0.0
        } else {
            0.5
        });
    }
    out
}

/// PCG on one level (f64), the GPU's algorithm and stopping rule.
fn solve_level_cpu(level: &CpuLevel, init: &[f32], options: &CfOptions) -> (Vec<f32>, LevelReport) {
    let problem = CpuProblem::new(level, f64::from(options.epsilon));
    let n = level.trimap.len();
    let mut x: Vec<f64> = (0..n)
        .map(|i| f64::from(known_value(level.trimap[i])))
        .collect();
    let mut report = LevelReport::start(level.width, level.height, problem.unknown.len() as u64);
    let finish = |x: &[f64]| x.iter().map(|&v| v.clamp(0.0, 1.0) as f32).collect();
    if problem.unknown.is_empty() {
        return (finish(&x), report);
    }
    let b: Vec<f64> = problem.apply(&x).iter().map(|v| -v).collect();
    let bb: f64 = b.iter().map(|v| v * v).sum();
    // Unknown pixels in no window are not solved for and keep their guess.
    for i in 0..n {
        if is_unknown(level.trimap[i]) {
            x[i] = f64::from(init[i]);
        }
    }
    let mut r: Vec<f64> = problem.apply(&x).iter().map(|v| -v).collect();
    let multigrid = (options.preconditioner == Preconditioner::Multigrid)
        .then(|| Multigrid::new(problem.level()));
    report.multigrid_levels = multigrid.as_ref().map_or(0, |mg| mg.depth() as u32);
    let z = |r: &[f64]| -> Vec<f64> {
        match &multigrid {
            Some(mg) => mg.apply(r),
            None => r
                .iter()
                .zip(&problem.inv_diag)
                .map(|(a, b)| a * b)
                .collect(),
        }
    };
    let mut p = z(&r);
    let mut rz: f64 = r.iter().zip(&p).map(|(a, b)| a * b).sum();
    let mut rr: f64 = r.iter().map(|v| v * v).sum();
    let tol2 = f64::from(options.tolerance).powi(2);
    let mut dense = vec![0.0; n];
    report.status = Status::IterationCap;
    if rr <= tol2 * bb {
        report.status = Status::Converged;
    }
    while report.status == Status::IterationCap && report.iterations < options.max_iterations {
        // L_U p: the V-cycle's finest level holds L_U as stencils, which
        // are cheaper to apply than the windows.
        let q = match &multigrid {
            Some(mg) => mg.finest().apply(&p),
            None => {
                for (&i, &v) in problem.unknown.iter().zip(&p) {
                    dense[i] = v;
                }
                problem.apply(&dense)
            }
        };
        let pq: f64 = p.iter().zip(&q).map(|(a, b)| a * b).sum();
        if !(pq > 0.0 && pq.is_finite()) {
            report.status = Status::Breakdown;
            break;
        }
        let alpha = rz / pq;
        for (k, &i) in problem.unknown.iter().enumerate() {
            x[i] += alpha * p[k];
            r[k] -= alpha * q[k];
        }
        let zk = z(&r);
        let rz_new: f64 = r.iter().zip(&zk).map(|(a, b)| a * b).sum();
        rr = r.iter().map(|v| v * v).sum();
        report.iterations += 1;
        if !rr.is_finite() {
            report.status = Status::Breakdown;
        } else if rr <= tol2 * bb {
            report.status = Status::Converged;
        }
        let beta = rz_new / rz;
        rz = rz_new;
        for (pk, zk) in p.iter_mut().zip(zk) {
            *pk = zk + beta * *pk;
        }
    }
    report.residual = if bb > 0.0 {
        (rr / bb).sqrt() as f32
    } else {
        0.0
    };
    (finish(&x), report)
}

/// Solves on the CPU (f64), with the GPU solver's pyramid and stopping rule.
pub fn solve_cpu(
    image: &[u32],
    trimap: &Plane,
    init: Option<&Plane>,
    options: &CfOptions,
) -> Result<(Plane, CfReport)> {
    options.check()?;
    let init = init.unwrap_or(trimap);
    ensure!(
        image.len() == trimap.data.len() && init.size() == trimap.size(),
        Input,
        "image, trimap and initial alpha differ in size"
    );
    let has = |f: fn(f32) -> bool| trimap.data.iter().any(|&t| f(t));
    check_classes(has(|t| t >= kernel::FG_MIN), has(|t| t <= kernel::BG_MAX))?;
    let sizes = options.level_sizes(trimap.width, trimap.height);
    let mut levels = vec![CpuLevel {
        width: trimap.width,
        height: trimap.height,
        image: image.to_vec(),
        trimap: trimap.data.clone(),
        init: init.data.clone(),
    }];
    for &size in &sizes[1..] {
        levels.push(down_cpu(levels.last().expect("level 0"), size));
    }
    let mut report = CfReport::new(Solver::Cpu);
    let mut coarser: Option<Plane> = None;
    for level in levels.iter().rev() {
        let init = match &coarser {
            None => level.init.clone(),
            Some(c) => {
                let (w, h) = (level.width, level.height);
                let p = upsample_params(c.size(), (w, h));
                let mut out = vec![0.0; (w * h) as usize];
                upsample::cpu(&p, 1, &c.data, &mut out);
                out
            }
        };
        let (alpha, level_report) = solve_level_cpu(level, &init, options);
        report.levels.push(level_report);
        coarser = Some(Plane::new(level.width, level.height, alpha));
    }
    Ok((coarser.expect("at least one level"), report))
}
