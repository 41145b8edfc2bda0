//! A level's linear system on the CPU: the unknown pixels, the windows
//! that touch them and the Jacobi preconditioner, and L v through the same
//! two passes as the shaders, in f64.

use rayon::prelude::*;

use super::cpu_solver::CpuLevel;
use super::multigrid::{self, TAPS, tap};
use crate::kernels::matting::{NONE, RefImage, Window, is_unknown};

/// The unknown pixels of a level and the windows that touch them.
pub(super) struct CpuProblem {
    width: usize,
    rgb: Vec<[f64; 3]>,
    /// Unknown pixels with at least one window.
    pub unknown: Vec<usize>,
    /// Centres of windows containing an unknown pixel, and their constants.
    centres: Vec<usize>,
    windows: Vec<Window>,
    /// Window index by centre pixel (NONE elsewhere).
    window_of: Vec<u32>,
    /// 1 / L_ii of the `unknown` pixels, in their order.
    pub inv_diag: Vec<f64>,
}

impl CpuProblem {
    pub(super) fn new(level: &CpuLevel, epsilon: f64) -> Self {
        let (w, h) = (level.width as usize, level.height as usize);
        let rgb: Vec<[f64; 3]> = level
            .image
            .iter()
            .map(|&p| std::array::from_fn(|k| f64::from((p >> (8 * k)) & 0xff)))
            .collect();
        let image = RefImage {
            width: w,
            height: h,
            rgb: &rgb,
        };
        let mut is_centre_needed = vec![false; w * h];
        let mut candidates = Vec::new();
        for i in 0..w * h {
            if !is_unknown(level.trimap[i]) {
                continue;
            }
            candidates.push(i);
            for k in image.windows_of(i) {
                is_centre_needed[k] = true;
            }
        }
        let centres: Vec<usize> = (0..w * h).filter(|&k| is_centre_needed[k]).collect();
        let mut window_of = vec![NONE; w * h];
        for (n, &k) in centres.iter().enumerate() {
            window_of[k] = n as u32;
        }
        let windows: Vec<Window> = centres
            .par_iter()
            .map(|&k| image.window(k % w, k / w, epsilon))
            .collect();
        let diag: Vec<f64> = candidates
            .par_iter()
            .map(|&i| {
                image
                    .windows_of(i)
                    .map(|k| {
                        let wi = windows[window_of[k] as usize].whiten(rgb[i]);
                        1.0 - (1.0 + dot3(wi, wi)) / 9.0
                    })
                    .sum()
            })
            .collect();
        let (unknown, inv_diag) = candidates
            .iter()
            .zip(&diag)
            .filter(|&(_, &d)| d > 0.0)
            .map(|(&i, &d)| (i, 1.0 / d))
            .unzip();
        Self {
            width: w,
            rgb,
            unknown,
            centres,
            windows,
            window_of,
            inv_diag,
        }
    }

    fn image(&self) -> RefImage<'_> {
        RefImage {
            width: self.width,
            height: self.rgb.len() / self.width,
            rgb: &self.rgb,
        }
    }

    /// (L v)_i for the unknown pixels, v dense (mirrors the shader).
    pub(super) fn apply(&self, v: &[f64]) -> Vec<f64> {
        let w = self.width;
        let image = self.image();
        let wa: Vec<([f64; 3], f64)> = self
            .centres
            .par_iter()
            .zip(&self.windows)
            .map(|(&k, win)| {
                let (cx, cy) = (k % w, k / w);
                let (mut a, mut s) = ([0.0; 3], 0.0);
                for j in 0..9 {
                    let e = (cy + j / 3 - 1) * w + cx + j % 3 - 1;
                    let vj = v[e] - v[k];
                    let wj = win.whiten(self.rgb[e]);
                    for d in 0..3 {
                        a[d] += wj[d] * vj;
                    }
                    s += vj;
                }
                (a, s)
            })
            .collect();
        self.unknown
            .par_iter()
            .map(|&i| {
                let mut acc = 0.0;
                for k in image.windows_of(i) {
                    let n = self.window_of[k] as usize;
                    let (a, s) = wa[n];
                    let wi = self.windows[n].whiten(self.rgb[i]);
                    acc += (v[i] - v[k]) - (s + dot3(wi, a)) / 9.0;
                }
                acc
            })
            .collect()
    }
}

impl CpuProblem {
    /// L_U as a multigrid level: a 5x5 stencil per unknown pixel (in the
    /// order of `unknown`), the columns of other pixels dropped.
    pub(super) fn level(&self) -> multigrid::Level {
        let image = self.image();
        let (w, h) = (image.width, image.height);
        let mut is_row = vec![false; w * h];
        for &i in &self.unknown {
            is_row[i] = true;
        }
        let a = self
            .unknown
            .par_iter()
            .map(|&i| {
                let mut row = [0.0; TAPS];
                for k in image.windows_of(i) {
                    let win = &self.windows[self.window_of[k] as usize];
                    let wi = win.whiten(self.rgb[i]);
                    for e in 0..9 {
                        let j = (k / w + e / 3 - 1) * w + k % w + e % 3 - 1;
                        if !is_row[j] {
                            continue;
                        }
                        let delta = if i == j { 1.0 } else { 0.0 };
                        let dx = (j % w) as i64 - (i % w) as i64;
                        let dy = (j / w) as i64 - (i / w) as i64;
                        row[tap(dx, dy)] += delta - (1.0 + dot3(wi, win.whiten(self.rgb[j]))) / 9.0;
                    }
                }
                row
            })
            .collect();
        multigrid::Level::new(w, h, self.unknown.clone(), a)
    }
}

fn dot3(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
