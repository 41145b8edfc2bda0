//! A multigrid V-cycle for the closed-form system, as the CG preconditioner
//! (issue 24; tools/matting_preconditioners.py measured the design):
//! cuts the iterations 11-20x against Jacobi, nearly flat in image size.
//!
//! Every level is a grid with a 5x5 stencil per active node. The finest is
//! L_U itself (the unknown pixels; known columns dropped, they are the
//! right-hand side). Each coarser grid is half the size; the prolongation P
//! is cell-centred bilinear (a fine cell reads the two nearest coarse cells
//! per axis, weights 1/4 and 3/4, clamped at the edges), and the coarse
//! operator is Galerkin's P^T A P, again a 5x5 stencil. (The matting
//! Laplacian of a downsampled image as the coarse operator does much worse:
//! its colour lines are not the fine operator's.) Smoothing is damped
//! Jacobi before and after the coarse correction, the same number of sweeps,
//! so the cycle is a fixed symmetric operator, as CG needs; the coarsest
//! level (at most `BOTTOM_ROWS` nodes) is solved directly.
//!
//! CG also needs that operator positive definite, which holds when each
//! level's sweep contracts, i.e. 2M - A is positive definite for the sweep's
//! M = D / omega. The Galerkin operators of a matrix that is not an
//! M-matrix (the matting Laplacian has positive off-diagonals) break that a
//! few levels down: their spectral radius of D^-1 A passes 2 / omega, the
//! sweeps amplify some modes and CG stalls (it did at 12 megapixels once
//! the V-cycle reached 10 levels). So the coarse levels divide by
//! max(A_ii, `L1_GUARD` sum_j |A_ij|) instead of A_ii, an l1-Jacobi guard:
//! diag(sum_j |A_ij|) - A is diagonally dominant, hence positive
//! semidefinite, so 2M - A is positive definite once 2 `L1_GUARD` > omega.
//! Level 0, L_U itself, keeps A_ii: its sweeps have contracted on every
//! image measured, and the guard there costs iterations (BENCHMARKS.md,
//! "Matting").

use rayon::prelude::*;

use crate::kernels::matting::NONE;

/// Stencil taps: offsets -2..=2 in x and y, row-major.
pub(super) const TAPS: usize = 25;
/// Damping of the Jacobi sweeps.
const OMEGA: f64 = 0.7;
/// Sweeps before and after each coarse correction.
const SWEEPS: usize = 1;
/// The coarsest level, solved by a dense Cholesky factorization, has at
/// most this many nodes.
const BOTTOM_ROWS: usize = 256;
/// The share of a coarse row's absolute sum that bounds its smoothing
/// diagonal from below (above OMEGA / 2, see the module's docs).
const L1_GUARD: f64 = 0.4;

/// The tap of offset (dx, dy), both in -2..=2.
pub(super) fn tap(dx: i64, dy: i64) -> usize {
    debug_assert!(dx.abs() <= 2 && dy.abs() <= 2, "offset ({dx}, {dy})");
    ((dy + 2) * 5 + dx + 2) as usize
}

/// One level: the active nodes of a width x height grid and their stencils.
pub(super) struct Level {
    width: usize,
    height: usize,
    /// Grid index of each row.
    nodes: Vec<usize>,
    /// Row of each grid index (NONE when inactive).
    row_of: Vec<u32>,
    /// The stencils with their active neighbours resolved once, as the
    /// sweeps and products read them every iteration: row r's nonzero
    /// coefficients are `vals[starts[r]..starts[r + 1]]`, in `cols`' rows.
    starts: Vec<usize>,
    cols: Vec<u32>,
    vals: Vec<f64>,
    inv_diag: Vec<f64>,
}

/// The row of each grid index of a `width` x `height` grid (NONE where no
/// node is).
fn rows_of(width: usize, height: usize, nodes: &[usize]) -> Vec<u32> {
    let mut row_of = vec![NONE; width * height];
    for (r, &n) in nodes.iter().enumerate() {
        row_of[n] = r as u32;
    }
    row_of
}

impl Level {
    /// The finest level. `nodes` (grid indices, one per row of `a`) must be
    /// distinct.
    pub(super) fn new(width: usize, height: usize, nodes: Vec<usize>, a: Vec<[f64; TAPS]>) -> Self {
        Self::with_guard(width, height, nodes, a, 0.0)
    }

    /// A level whose smoothing diagonal is at least `guard` times each
    /// row's absolute sum.
    fn with_guard(
        width: usize,
        height: usize,
        nodes: Vec<usize>,
        a: Vec<[f64; TAPS]>,
        guard: f64,
    ) -> Self {
        let mut level = Self {
            width,
            height,
            row_of: rows_of(width, height, &nodes),
            nodes,
            starts: vec![0],
            cols: Vec::new(),
            vals: Vec::new(),
            inv_diag: Vec::new(),
        };
        for (r, stencil) in a.iter().enumerate() {
            for (t, &c) in stencil.iter().enumerate() {
                let (dx, dy) = (t as i64 % 5 - 2, t as i64 / 5 - 2);
                if let Some(j) = level.neighbour(level.nodes[r], dx, dy).filter(|_| c != 0.0) {
                    level.cols.push(j as u32);
                    level.vals.push(c);
                }
            }
            level.starts.push(level.cols.len());
        }
        level.inv_diag = a
            .iter()
            .map(|s| {
                let l1: f64 = s.iter().map(|c| c.abs()).sum();
                if s[tap(0, 0)] > 0.0 {
                    1.0 / s[tap(0, 0)].max(guard * l1)
                } else {
                    0.0
                }
            })
            .collect();
        level
    }

    pub(super) fn rows(&self) -> usize {
        self.nodes.len()
    }

    /// The row of the node at offset (dx, dy) from `node`, if active.
    fn neighbour(&self, node: usize, dx: i64, dy: i64) -> Option<usize> {
        let x = (node % self.width) as i64 + dx;
        let y = (node / self.width) as i64 + dy;
        if x < 0 || y < 0 || x >= self.width as i64 || y >= self.height as i64 {
            return None;
        }
        let r = self.row_of[y as usize * self.width + x as usize];
        (r != NONE).then_some(r as usize)
    }

    /// The active neighbours of row `r` with their coefficients.
    fn row(&self, r: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let span = self.starts[r]..self.starts[r + 1];
        self.cols[span.clone()]
            .iter()
            .zip(&self.vals[span])
            .map(|(&j, &c)| (j as usize, c))
    }

    /// A x.
    pub(super) fn apply(&self, x: &[f64]) -> Vec<f64> {
        (0..self.rows())
            .into_par_iter()
            .map(|r| self.row(r).map(|(j, c)| c * x[j]).sum())
            .collect()
    }

    /// x += omega D^-1 (b - A x).
    fn sweep(&self, b: &[f64], x: &mut [f64]) {
        let ax = self.apply(x);
        for r in 0..self.rows() {
            x[r] += OMEGA * self.inv_diag[r] * (b[r] - ax[r]);
        }
    }

    /// The coarse cells a node reads through P, with their weights.
    fn parents(&self, node: usize) -> [(usize, f64); 4] {
        let (cw, ch) = (self.width.div_ceil(2), self.height.div_ceil(2));
        let [(x0, wx0), (x1, wx1)] = parents_1d(node % self.width, cw);
        let [(y0, wy0), (y1, wy1)] = parents_1d(node / self.width, ch);
        [
            (y0 * cw + x0, wy0 * wx0),
            (y0 * cw + x1, wy0 * wx1),
            (y1 * cw + x0, wy1 * wx0),
            (y1 * cw + x1, wy1 * wx1),
        ]
    }

    /// The next coarser level: P^T A P on the cells that P reaches.
    fn coarsen(&self) -> Level {
        let (cw, ch) = (self.width.div_ceil(2), self.height.div_ceil(2));
        let mut used = vec![false; cw * ch];
        for &n in &self.nodes {
            for (c, _) in self.parents(n) {
                used[c] = true;
            }
        }
        let nodes: Vec<usize> = (0..cw * ch).filter(|&c| used[c]).collect();
        let row_of = rows_of(cw, ch, &nodes);
        let mut a = vec![[0.0; TAPS]; nodes.len()];
        for (r, &i) in self.nodes.iter().enumerate() {
            let pj: Vec<(usize, f64)> = self.row(r).collect();
            for (ci, wi) in self.parents(i) {
                let ri = row_of[ci] as usize;
                let (xi, yi) = ((ci % cw) as i64, (ci / cw) as i64);
                for &(j, c) in &pj {
                    for (cj, wj) in self.parents(self.nodes[j]) {
                        let (xj, yj) = ((cj % cw) as i64, (cj / cw) as i64);
                        a[ri][tap(xj - xi, yj - yi)] += wi * c * wj;
                    }
                }
            }
        }
        Level::with_guard(cw, ch, nodes, a, L1_GUARD)
    }

    /// P^T v: a fine vector onto this level's coarser one.
    fn restrict(&self, coarse: &Level, v: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; coarse.rows()];
        for (r, &n) in self.nodes.iter().enumerate() {
            for (c, w) in self.parents(n) {
                out[coarse.row_of[c] as usize] += w * v[r];
            }
        }
        out
    }

    /// x += P e: a coarse correction added to this level's vector.
    fn prolong_add(&self, coarse: &Level, e: &[f64], x: &mut [f64]) {
        for (r, &n) in self.nodes.iter().enumerate() {
            x[r] += self
                .parents(n)
                .iter()
                .map(|&(c, w)| w * e[coarse.row_of[c] as usize])
                .sum::<f64>();
        }
    }
}

/// The two coarse cells (of `n`) that fine cell `x` reads, and their
/// weights: cell-centred, so fine x sits at coarse (x - 1/2) / 2.
fn parents_1d(x: usize, n: usize) -> [(usize, f64); 2] {
    let clamp = |c: i64| c.clamp(0, n as i64 - 1) as usize;
    let x = x as i64;
    if x % 2 == 0 {
        [(clamp(x / 2 - 1), 0.25), (clamp(x / 2), 0.75)]
    } else {
        [(clamp(x / 2), 0.75), (clamp(x / 2 + 1), 0.25)]
    }
}

/// Dense Cholesky factor of the coarsest level. A pivot that vanishes
/// (P's columns can be nearly dependent on a tiny level) makes its unknown
/// 0 in the solve, which keeps the operator symmetric.
pub(super) struct Bottom {
    n: usize,
    l: Vec<f64>,
}

impl Bottom {
    fn new(level: &Level) -> Self {
        let n = level.rows();
        let mut dense = vec![0.0; n * n];
        for r in 0..n {
            for (j, c) in level.row(r) {
                dense[r * n + j] = c;
            }
        }
        Self::factor(n, dense)
    }

    /// Factors the symmetric n x n matrix `l` (row-major) in place.
    pub(super) fn factor(n: usize, mut l: Vec<f64>) -> Self {
        let scale = (0..n).map(|i| l[i * n + i]).fold(0.0, f64::max);
        for k in 0..n {
            let mut d = l[k * n + k];
            for m in 0..k {
                d -= l[k * n + m] * l[k * n + m];
            }
            let d = if d > 1e-12 * scale { d.sqrt() } else { 0.0 };
            l[k * n + k] = d;
            for i in k + 1..n {
                let mut s = l[i * n + k];
                for m in 0..k {
                    s -= l[i * n + m] * l[k * n + m];
                }
                l[i * n + k] = if d > 0.0 { s / d } else { 0.0 };
            }
        }
        Self { n, l }
    }

    pub(super) fn solve(&self, b: &[f64]) -> Vec<f64> {
        let (n, l) = (self.n, &self.l);
        let mut y = b.to_vec();
        for i in 0..n {
            for m in 0..i {
                y[i] -= l[i * n + m] * y[m];
            }
            y[i] = if l[i * n + i] > 0.0 {
                y[i] / l[i * n + i]
            } else {
                0.0
            };
        }
        for i in (0..n).rev() {
            for m in i + 1..n {
                y[i] -= l[m * n + i] * y[m];
            }
            y[i] = if l[i * n + i] > 0.0 {
                y[i] / l[i * n + i]
            } else {
                0.0
            };
        }
        y
    }

    /// The inverse, row-major (symmetric: row i is the solve of e_i).
    pub(super) fn inverse(&self) -> Vec<f64> {
        (0..self.n)
            .flat_map(|i| {
                let mut e = vec![0.0; self.n];
                e[i] = 1.0;
                self.solve(&e)
            })
            .collect()
    }
}

/// The levels from the finest down, and the coarsest's factorization.
pub(super) struct Multigrid {
    levels: Vec<Level>,
    bottom: Bottom,
}

impl Multigrid {
    pub(super) fn new(finest: Level) -> Self {
        let mut levels = vec![finest];
        loop {
            let last = levels.last().expect("the finest level");
            if last.rows() <= BOTTOM_ROWS || last.width.max(last.height) <= 2 {
                break;
            }
            let coarse = last.coarsen();
            levels.push(coarse);
        }
        let bottom = Bottom::new(levels.last().expect("the finest level"));
        Self { levels, bottom }
    }

    pub(super) fn depth(&self) -> usize {
        self.levels.len()
    }

    /// The finest level: the operator itself.
    pub(super) fn finest(&self) -> &Level {
        &self.levels[0]
    }

    /// One V-cycle from zero: an approximation of A^-1 r.
    pub(super) fn apply(&self, r: &[f64]) -> Vec<f64> {
        self.cycle(0, r)
    }

    fn cycle(&self, k: usize, b: &[f64]) -> Vec<f64> {
        if k + 1 == self.levels.len() {
            return self.bottom.solve(b);
        }
        let (level, coarse) = (&self.levels[k], &self.levels[k + 1]);
        let mut x: Vec<f64> = b
            .iter()
            .zip(&level.inv_diag)
            .map(|(b, d)| OMEGA * d * b)
            .collect();
        for _ in 1..SWEEPS.max(1) {
            level.sweep(b, &mut x);
        }
        let ax = level.apply(&x);
        let residual: Vec<f64> = b.iter().zip(ax).map(|(b, a)| b - a).collect();
        let e = self.cycle(k + 1, &level.restrict(coarse, &residual));
        level.prolong_add(coarse, &e, &mut x);
        for _ in 0..SWEEPS {
            level.sweep(b, &mut x);
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// A random symmetric, diagonally dominant 5x5-stencil operator on the
    /// nodes of a width x height grid that `keep` selects.
    fn random_level(width: usize, height: usize, keep: impl Fn(usize) -> bool, seed: u64) -> Level {
        let mut rng = StdRng::seed_from_u64(seed);
        let nodes: Vec<usize> = (0..width * height).filter(|&n| keep(n)).collect();
        // Full stencils, only to find each node's neighbours.
        let grid = Level::new(width, height, nodes.clone(), vec![[1.0; TAPS]; nodes.len()]);
        let mut a = vec![[0.0f64; TAPS]; nodes.len()];
        for (r, &node) in nodes.iter().enumerate() {
            for t in (0..TAPS).filter(|&t| t != tap(0, 0)) {
                let (dx, dy) = (t as i64 % 5 - 2, t as i64 / 5 - 2);
                let Some(j) = grid.neighbour(node, dx, dy) else {
                    continue;
                };
                if j > r {
                    let c = -rng.random_range(0.0..1.0);
                    a[r][t] = c;
                    a[j][tap(-dx, -dy)] = c;
                }
            }
        }
        for row in &mut a {
            let off: f64 = row.iter().map(|c| c.abs()).sum();
            row[tap(0, 0)] = off + 0.1;
        }
        Level::new(width, height, nodes, a)
    }

    fn dense(level: &Level) -> Vec<Vec<f64>> {
        let mut m = vec![vec![0.0; level.rows()]; level.rows()];
        for (r, row) in m.iter_mut().enumerate() {
            for (j, c) in level.row(r) {
                row[j] = c;
            }
        }
        m
    }

    /// P as a dense (fine rows x coarse rows) matrix.
    fn prolongation(fine: &Level, coarse: &Level) -> Vec<Vec<f64>> {
        fine.nodes
            .iter()
            .map(|&n| {
                let mut row = vec![0.0; coarse.rows()];
                for (c, w) in fine.parents(n) {
                    row[coarse.row_of[c] as usize] += w;
                }
                row
            })
            .collect()
    }

    #[test]
    fn coarse_operator_is_galerkins() {
        // Odd sizes, holes: the clamped edges and missing nodes.
        let fine = random_level(13, 9, |n| n % 7 != 3, 1);
        let coarse = fine.coarsen();
        let (a, p, ac) = (dense(&fine), prolongation(&fine, &coarse), dense(&coarse));
        for (i, row) in ac.iter().enumerate() {
            for (j, &got) in row.iter().enumerate() {
                let want: f64 = (0..fine.rows())
                    .flat_map(|k| (0..fine.rows()).map(move |l| (k, l)))
                    .map(|(k, l)| p[k][i] * a[k][l] * p[l][j])
                    .sum();
                assert!((got - want).abs() < 1e-12, "A_c[{i}][{j}] {got} vs {want}");
            }
        }
    }

    /// A symmetric positive definite operator with positive and negative
    /// off-diagonals, like the matting Laplacian: a random rank-one block
    /// on every 3x3 window, plus a little of the identity.
    fn windowed_level(width: usize, height: usize, seed: u64) -> Level {
        let mut rng = StdRng::seed_from_u64(seed);
        let nodes: Vec<usize> = (0..width * height).collect();
        let mut a = vec![[0.0; TAPS]; nodes.len()];
        for cy in 1..height - 1 {
            for cx in 1..width - 1 {
                let v: Vec<(usize, f64)> = (0..9)
                    .map(|k| {
                        let n = (cy + k / 3 - 1) * width + cx + k % 3 - 1;
                        (n, rng.random_range(-1.0..1.0))
                    })
                    .collect();
                for &(i, vi) in &v {
                    for &(j, vj) in &v {
                        let (dx, dy) = (
                            (j % width) as i64 - (i % width) as i64,
                            (j / width) as i64 - (i / width) as i64,
                        );
                        a[i][tap(dx, dy)] += vi * vj;
                    }
                }
            }
        }
        for row in &mut a {
            row[tap(0, 0)] += 1e-3;
        }
        Level::new(width, height, nodes, a)
    }

    #[test]
    fn coarse_sweeps_contract() {
        let mg = Multigrid::new(windowed_level(48, 40, 4));
        assert!(mg.depth() >= 3, "{} levels", mg.depth());
        let mut rng = StdRng::seed_from_u64(5);
        for (k, level) in mg.levels.iter().enumerate().skip(1) {
            let n = level.rows();
            let energy = |x: &[f64]| {
                level
                    .apply(x)
                    .iter()
                    .zip(x)
                    .map(|(a, x)| a * x)
                    .sum::<f64>()
            };
            let mut x: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let mut before = energy(&x);
            for sweep in 0..100 {
                level.sweep(&vec![0.0; n], &mut x);
                let after = energy(&x);
                assert!(
                    after < before,
                    "level {k}, sweep {sweep}: A-norm of the error {before} -> {after}"
                );
                before = after;
            }
        }
    }

    #[test]
    fn v_cycle_is_symmetric_and_positive() {
        let fine = random_level(40, 31, |n| n % 11 != 5, 2);
        let mg = Multigrid::new(fine);
        assert!(mg.depth() >= 3, "{} levels", mg.depth());
        let n = mg.levels[0].rows();
        let mut rng = StdRng::seed_from_u64(3);
        let mut vector = || {
            (0..n)
                .map(|_| rng.random_range(-1.0..1.0))
                .collect::<Vec<f64>>()
        };
        let (u, v) = (vector(), vector());
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(a, b)| a * b).sum::<f64>();
        let (uv, vu) = (dot(&u, &mg.apply(&v)), dot(&mg.apply(&u), &v));
        assert!((uv - vu).abs() < 1e-10 * uv.abs().max(1.0), "{uv} vs {vu}");
        assert!(dot(&u, &mg.apply(&u)) > 0.0);
    }
}
