//! Deterministic shares of a job's inputs, for one job run as N tasks on
//! many machines (`--shard I/N`, Slurm array tasks, Kubernetes Indexed
//! Jobs) with no coordinator: each task takes the inputs of its share.
//!
//! An input's share is `h mod N`, where `h` is the first 8 bytes,
//! big-endian, of the SHA-256 of its path relative to its input root with
//! its extension dropped (components joined with `/`; on Unix a name's
//! bytes as they are, elsewhere its UTF-8). The same on every machine,
//! run and platform, so shares are disjoint and their union is every
//! input, and adding files moves only the new ones. Without the
//! extension it is the output's path but for its extension, so inputs
//! that would write the same output (`a.jpg`, `a.png`) fall in the same
//! share, where the clash is refused, rather than race on two machines.
//! For `a/b.jpg`, in Python:
//!
//! ```text
//! int.from_bytes(hashlib.sha256(b"a/b").digest()[:8], "big") % n
//! ```

use std::fmt;
use std::path::{Component, Path};
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// Share `index` of `count` (`0 <= index < count`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Every input: share 0 of 1.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Whether the input at `rel` (relative to its input root) is in this share.
    pub fn contains(&self, rel: &Path) -> bool {
        self.owns(output_key(rel))
    }

    /// Whether the input with this [`output_key`] is in this share.
    pub fn owns(&self, key: u64) -> bool {
        key % self.count == self.index
    }
}

/// What decides the share of the input at `rel` (relative to its input
/// root): [`path_hash`] of `rel` without its extension (see the [module
/// docs](self)). Equal for inputs that would write the same output.
pub fn output_key(rel: &Path) -> u64 {
    path_hash(&rel.with_extension(""))
}

/// The documented hash of a relative path (see the [module docs](self)).
pub fn path_hash(rel: &Path) -> u64 {
    let mut sha = Sha256::new();
    let mut first = true;
    for c in rel.components() {
        let Component::Normal(name) = c else {
            continue;
        };
        if !first {
            sha.update(b"/");
        }
        first = false;
        sha.update(name_bytes(name));
    }
    let digest = sha.finalize();
    u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

#[cfg(unix)]
fn name_bytes(name: &std::ffi::OsStr) -> std::borrow::Cow<'_, [u8]> {
    use std::os::unix::ffi::OsStrExt as _;
    name.as_bytes().into()
}

#[cfg(not(unix))]
fn name_bytes(name: &std::ffi::OsStr) -> std::borrow::Cow<'_, [u8]> {
    match name.to_string_lossy() {
        std::borrow::Cow::Borrowed(s) => s.as_bytes().into(),
        std::borrow::Cow::Owned(s) => s.into_bytes().into(),
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let usage = || format!("`{s}` is not a share: give I/N with 0 <= I < N, e.g. 3/16");
        let (i, n) = s.split_once('/').ok_or_else(usage)?;
        let index: u64 = i.trim().parse().map_err(|_| usage())?;
        let count: u64 = n.trim().parse().map_err(|_| usage())?;
        if count == 0 || index >= count {
            return Err(usage());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    #[test]
    fn inputs_with_the_same_output_share_a_share() {
        let (a, b) = (Path::new("x/a.jpg"), Path::new("x/a.png"));
        for index in 0..7 {
            let shard = Shard { index, count: 7 };
            assert_eq!(shard.contains(a), shard.contains(b));
        }
        let ab = Shard {
            index: 13_928_751_565_125_340_061 % 10,
            count: 10,
        };
        assert!(ab.contains(Path::new("a/b.jpg")));
    }

    #[test]
    fn the_hash_is_sha256s_first_eight_bytes() {
        // python3 -c 'import hashlib; print(int.from_bytes(hashlib.sha256(b"a/b.jpg").digest()[:8], "big"))'
        assert_eq!(path_hash(Path::new("a/b.jpg")), A_B_JPG);
        assert_eq!(path_hash(Path::new("./a//b.jpg")), A_B_JPG);
    }

    const A_B_JPG: u64 = 5_355_170_705_667_769_368;

    #[test]
    fn shares_are_disjoint_and_complete() {
        let mut rng = StdRng::seed_from_u64(20);
        for _ in 0..50 {
            let count = rng.random_range(1..40);
            let paths: Vec<String> = (0..rng.random_range(0..300))
                .map(|_| {
                    let depth = rng.random_range(1..4);
                    (0..depth)
                        .map(|_| format!("{:x}", rng.random::<u32>()))
                        .collect::<Vec<_>>()
                        .join("/")
                })
                .collect();
            for p in &paths {
                let owners = (0..count)
                    .filter(|&index| Shard { index, count }.contains(Path::new(p)))
                    .count();
                assert_eq!(owners, 1, "{p} in {owners} of {count} shares");
            }
        }
    }

    #[test]
    fn parses_i_of_n() {
        assert_eq!(
            "3/16".parse(),
            Ok(Shard {
                index: 3,
                count: 16
            })
        );
        for bad in ["16/16", "1/0", "3", "a/b", "-1/4", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
