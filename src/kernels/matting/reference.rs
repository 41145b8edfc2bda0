//! The CPU reference of the closed-form matting kernels, in f64 on dense
//! images. It mirrors the shaders: the same Householder QR per window
//! (matting_setup.wgsl), the same whitened colours, the same two passes of
//! the Laplacian (per-window `(v_k, s_k)`, then per-pixel gathering,
//! matting_laplacian.wgsl). `laplacian_pairs` is pymatting's pairwise
//! definition with an explicit inverse, for checking that the two agree.
//! Where the shaders store data compactly per active tile, the reference
//! works on dense images: the tile map changes where values live, not what
//! they are.

use super::{BG_MAX, FG_MIN, FLAG_ACTIVE, FLAG_BG, FLAG_FG, TILE, tile_grid};

/// Whether a trimap value marks an unknown pixel.
pub fn is_unknown(t: f32) -> bool {
    t > BG_MAX && t < FG_MIN
}

/// The value a known pixel is fixed to.
pub fn known_value(t: f32) -> f32 {
    if t >= FG_MIN { 1.0 } else { 0.0 }
}

/// CPU reference of `flags`.
pub fn flags_cpu(width: u32, height: u32, trimap: &[f32]) -> Vec<u32> {
    let (tx, ty) = tile_grid(width, height);
    let (w, h) = (i64::from(width), i64::from(height));
    (0..tx * ty)
        .map(|g| {
            let x0 = i64::from(g % tx * TILE) - 2;
            let y0 = i64::from(g / tx * TILE) - 2;
            let mut f = 0;
            for y in y0.max(0)..(y0 + i64::from(TILE) + 4).min(h) {
                for x in x0.max(0)..(x0 + i64::from(TILE) + 4).min(w) {
                    let t = trimap[(y * w + x) as usize];
                    if is_unknown(t) {
                        f |= FLAG_ACTIVE;
                    }
                    if t >= FG_MIN {
                        f |= FLAG_FG;
                    }
                    if t <= BG_MAX {
                        f |= FLAG_BG;
                    }
                }
            }
            f
        })
        .collect()
}

/// Whether (x, y) is the centre of a 3x3 window inside a `w x h` image.
pub fn is_centre(x: usize, y: usize, w: usize, h: usize) -> bool {
    x >= 1 && y >= 1 && x + 1 < w && y + 1 < h
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// Constants of one window, as `setup_windows` stores them in `win`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Window {
    /// Sum of the window's colours (8-bit levels).
    pub sum: [f64; 3],
    /// 3 R^-1 as (i00, i01, i02, i11, i12, i22).
    pub rinv: [f64; 6],
}

impl Window {
    /// Mirrors `whiten`: w = 3 R^-T (9 J - sum) for a colour J (8-bit levels).
    pub fn whiten(&self, colour: [f64; 3]) -> [f64; 3] {
        let c: [f64; 3] = std::array::from_fn(|k| 9.0 * colour[k] - self.sum[k]);
        let [i00, i01, i02, i11, i12, i22] = self.rinv;
        [
            i00 * c[0],
            i01 * c[0] + i11 * c[1],
            i02 * c[0] + i12 * c[1] + i22 * c[2],
        ]
    }
}

/// (9 * 255)^2: epsilon in the units of the scaled colours.
pub const LEVELS2: f64 = 5_267_025.0;

/// A colour image for the reference: `rgb[y * width + x]` in 8-bit levels
/// (0..=255, as the shader's compact colours).
pub struct RefImage<'a> {
    pub width: usize,
    pub height: usize,
    pub rgb: &'a [[f64; 3]],
}

impl RefImage<'_> {
    /// Colour of element j of the window centred at (cx, cy).
    fn at(&self, cx: usize, cy: usize, j: usize) -> [f64; 3] {
        self.rgb[(cy + j / 3 - 1) * self.width + cx + j % 3 - 1]
    }

    /// Mirrors `setup_windows` for the window centred at (cx, cy): the
    /// Householder QR of [C; sqrt(E) I], then R^-1.
    pub fn window(&self, cx: usize, cy: usize, epsilon: f64) -> Window {
        let mut sum = [0.0; 3];
        for j in 0..9 {
            let p = self.at(cx, cy, j);
            for k in 0..3 {
                sum[k] += p[k];
            }
        }
        let se = (epsilon * LEVELS2).sqrt();
        let mut a: [[f64; 3]; 12] = std::array::from_fn(|j| match j {
            0..9 => {
                let p = self.at(cx, cy, j);
                std::array::from_fn(|k| 9.0 * p[k] - sum[k])
            }
            _ => std::array::from_fn(|k| if k == j - 9 { se } else { 0.0 }),
        });
        for k in 0..3 {
            let x0 = a[k][k];
            let rest: f64 = a[k + 1..].iter().map(|row| row[k] * row[k]).sum();
            let norm = (x0 * x0 + rest).sqrt();
            let alpha = if x0 > 0.0 { -norm } else { norm };
            let v0 = x0 - alpha;
            let vv = v0 * v0 + rest;
            for j in k + 1..3 {
                let d = v0 * a[k][j] + a[k + 1..].iter().map(|row| row[k] * row[j]).sum::<f64>();
                let f = 2.0 * d / vv;
                a[k][j] -= f * v0;
                for row in &mut a[k + 1..] {
                    row[j] -= f * row[k];
                }
            }
            a[k][k] = alpha;
        }
        // 3 R^-1: in these units c_i^T M c_j = 9 c_i^T (C^T C + E I)^-1 c_j.
        let (i00, i11, i22) = (3.0 / a[0][0], 1.0 / a[1][1], 1.0 / a[2][2]);
        Window {
            sum,
            rinv: [
                i00,
                -a[0][1] * i00 * i11,
                (a[0][1] * a[1][2] - a[0][2] * a[1][1]) * i00 * i11 * i22,
                3.0 * i11,
                3.0 * -a[1][2] * i11 * i22,
                3.0 * i22,
            ],
        }
    }

    /// Every window's constants, indexed by centre pixel (default elsewhere).
    pub fn windows(&self, epsilon: f64) -> Vec<Window> {
        let (w, h) = (self.width, self.height);
        (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                if is_centre(x, y, w, h) {
                    self.window(x, y, epsilon)
                } else {
                    Window::default()
                }
            })
            .collect()
    }

    /// Mirrors `lap_windows` then `lap_pixels` (sums relative to the
    /// window's centre value): (L x)_i for every pixel i (all of them, where
    /// the shader computes unknown pixels only).
    pub fn laplacian(&self, windows: &[Window], x: &[f64]) -> Vec<f64> {
        let (w, h) = (self.width, self.height);
        let mut wa = vec![([0.0; 3], 0.0); w * h];
        for cy in 1..h.saturating_sub(1) {
            for cx in 1..w - 1 {
                let k = cy * w + cx;
                let (mut v, mut s) = ([0.0; 3], 0.0);
                for j in 0..9 {
                    let xj = x[(cy + j / 3 - 1) * w + cx + j % 3 - 1] - x[k];
                    let wj = windows[k].whiten(self.at(cx, cy, j));
                    for d in 0..3 {
                        v[d] += wj[d] * xj;
                    }
                    s += xj;
                }
                wa[k] = (v, s);
            }
        }
        (0..w * h)
            .map(|i| {
                let mut acc = 0.0;
                for k in self.windows_of(i) {
                    let (v, s) = wa[k];
                    acc += (x[i] - x[k]) - (s + dot(windows[k].whiten(self.rgb[i]), v)) / 9.0;
                }
                acc
            })
            .collect()
    }

    /// Centres (pixel indices) of the windows containing pixel i.
    pub fn windows_of(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        let (w, h) = (self.width, self.height);
        let (px, py) = (i % w, i / w);
        (0..9).filter_map(move |n| {
            let cx = (px + 1).checked_sub(n % 3)?;
            let cy = (py + 1).checked_sub(n / 3)?;
            is_centre(cx, cy, w, h).then_some(cy * w + cx)
        })
    }

    /// Mirrors `setup_diagonal`: L_ii for every pixel.
    pub fn diagonal(&self, windows: &[Window]) -> Vec<f64> {
        (0..self.width * self.height)
            .map(|i| {
                self.windows_of(i)
                    .map(|k| {
                        let wi = windows[k].whiten(self.rgb[i]);
                        1.0 - (1.0 + dot(wi, wi)) / 9.0
                    })
                    .sum()
            })
            .collect()
    }

    /// pymatting's cf_laplacian product, pair by pair with the explicit
    /// inverse (f64): for each window, L_ij += delta_ij - (1 + c_i^T M c_j) / 9.
    pub fn laplacian_pairs(&self, epsilon: f64, x: &[f64]) -> Vec<f64> {
        let (w, h) = (self.width, self.height);
        let mut out = vec![0.0; w * h];
        for cy in 1..h.saturating_sub(1) {
            for cx in 1..w - 1 {
                let idx: [usize; 9] =
                    std::array::from_fn(|j| (cy + j / 3 - 1) * w + cx + j % 3 - 1);
                // pymatting's colours are in [0, 1].
                let rgb = idx.map(|i| self.rgb[i].map(|v| v / 255.0));
                let mut mean = [0.0; 3];
                for p in &rgb {
                    for k in 0..3 {
                        mean[k] += p[k] / 9.0;
                    }
                }
                let c: [[f64; 3]; 9] = rgb.map(|p| sub(p, mean));
                let mut a = [[0.0; 3]; 3];
                for r in 0..3 {
                    a[r][r] = epsilon;
                    for s in 0..3 {
                        for cj in &c {
                            a[r][s] += cj[r] * cj[s];
                        }
                    }
                }
                let a = a.map(|row| row.map(|v| v / 9.0));
                let m = invert3(a);
                for (ii, &i) in idx.iter().enumerate() {
                    let mc: [f64; 3] = std::array::from_fn(|r| dot(m[r], c[ii]));
                    for (jj, &j) in idx.iter().enumerate() {
                        let delta = if i == j { 1.0 } else { 0.0 };
                        out[i] += (delta - (1.0 + dot(mc, c[jj])) / 9.0) * x[j];
                    }
                }
            }
        }
        out
    }
}

/// The inverse of a 3x3 matrix by Gauss-Jordan elimination with partial
/// pivoting. (pymatting inverts by cofactors, whose determinant cancels
/// catastrophically for two-colour windows even in f64: ~1e-3 relative
/// error there. Pivoting keeps this reference accurate to ~1e-16 times
/// the condition number.)
fn invert3(a: [[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut m = a;
    let mut inv = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    for col in 0..3 {
        let pivot = (col..3)
            .max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))
            .expect("rows left");
        m.swap(col, pivot);
        inv.swap(col, pivot);
        let d = m[col][col];
        for k in 0..3 {
            m[col][k] /= d;
            inv[col][k] /= d;
        }
        for row in 0..3 {
            if row != col {
                let f = m[row][col];
                for k in 0..3 {
                    m[row][k] -= f * m[col][k];
                    inv[row][k] -= f * inv[col][k];
                }
            }
        }
    }
    inv
}
