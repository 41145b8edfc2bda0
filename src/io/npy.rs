//! Network inputs as NumPy files: a float32 (N, 3, H, W) C-order `.npy`,
//! what `u2cut infer --input-tensor` reads. Every malformed file is an
//! [`Error::Input`] saying what is wrong and how to save it right; callers
//! name the file.

use crate::error::{Error, Result, bail};

/// An NCHW float32 batch of RGB images.
#[derive(Debug)]
pub struct Tensor {
    pub data: Vec<f32>,
    pub n: u32,
    pub height: u32,
    pub width: u32,
}

/// Brackets nested deeper than this in a header are refused: a NumPy
/// header is a flat dict (a structured dtype nests a few levels), and
/// npyz's parser takes exponential time in the nesting.
const MAX_HEADER_NESTING: usize = 8;

/// Checks the header before npyz sees it, for two things found by fuzzing
/// (fuzz/regressions/npy): npyz allocates what the header length field
/// claims (up to 4 GB in format 2 and 3) before reading, so a length past
/// the end of the file is refused; and its parser takes exponential time
/// in nested brackets (`{{{{...` froze `infer` for minutes), so deep
/// nesting is refused.
fn check_header(bytes: &[u8]) -> Result<()> {
    let field = |at: usize, len: usize| bytes.get(at..at + len);
    let (start, len) = match (field(0, 6), bytes.get(6)) {
        (Some(b"\x93NUMPY"), Some(1)) => (
            10,
            field(8, 2).map(|b| u16::from_le_bytes([b[0], b[1]]).into()),
        ),
        (Some(b"\x93NUMPY"), Some(_)) => (
            12,
            field(8, 4).map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes"))),
        ),
        _ => return Ok(()), // npyz says what is wrong
    };
    let Some(len) = len else {
        return Ok(());
    };
    let Some(header) = bytes.get(start..start + len as usize) else {
        bail!(
            Input,
            "truncated .npy: its header claims {len} bytes, the file has {} after the header's start",
            bytes.len().saturating_sub(start)
        );
    };
    let mut depth = 0usize;
    for &b in header {
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_HEADER_NESTING {
            bail!(
                Input,
                "malformed .npy header: brackets nested more than {MAX_HEADER_NESTING} deep"
            );
        }
    }
    Ok(())
}

fn dim(what: &str, v: u64, max: u64) -> Result<u32> {
    if v == 0 || v > max {
        bail!(Input, "{what} is {v}, must be in 1..={max}");
    }
    Ok(v as u32)
}

/// Parses a float32 (N, 3, H, W) C-order `.npy` whose sides are at most
/// `max_side`, either byte order.
pub fn read_nchw(bytes: &[u8], max_side: u32) -> Result<Tensor> {
    check_header(bytes)?;
    let npy = npyz::NpyFile::new(bytes)
        .map_err(|e| Error::Input(format!("not a valid .npy file: {e}")))?;
    let descr = npy.dtype().descr();
    let big_endian = match &npy.dtype() {
        npyz::DType::Plain(ts) if ts.to_string() == "<f4" => false,
        npyz::DType::Plain(ts) if ts.to_string() == ">f4" => true,
        _ => bail!(
            Input,
            "dtype is {descr}, expected float32 ('<f4'); convert with x.astype(np.float32)"
        ),
    };
    if npy.order() == npyz::Order::Fortran {
        bail!(
            Input,
            "stored in Fortran order; save np.ascontiguousarray(x) instead"
        );
    }
    let shape = npy.shape().to_vec();
    let shown = format!(
        "({})",
        shape
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    if shape.len() != 4 {
        bail!(
            Input,
            "shape {shown} has rank {}, expected (N, 3, H, W)",
            shape.len()
        );
    }
    if shape[1] != 3 {
        bail!(
            Input,
            "shape {shown} has {} channels, expected 3 (N, 3, H, W: RGB, NCHW)",
            shape[1]
        );
    }
    let n = dim("N", shape[0], u64::from(u32::MAX))?;
    let height = dim("H", shape[2], u64::from(max_side))?;
    let width = dim("W", shape[3], u64::from(max_side))?;
    // At most 2^32 * 3 * max_side^2 * 4 bytes: no overflow for sides up
    // to 2^14, and checked past that.
    let need = shape
        .iter()
        .try_fold(4u64, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Error::Input(format!("shape {shown} is too large")))?;
    let data = npy.into_inner();
    if (data.len() as u64) < need {
        bail!(
            Input,
            "truncated: shape {shown} needs {need} bytes of data, the file has {} after its header",
            data.len()
        );
    }
    let data = data[..need as usize]
        .chunks_exact(4)
        .map(|b| {
            let b = b.try_into().expect("4 bytes");
            if big_endian {
                f32::from_be_bytes(b)
            } else {
                f32::from_le_bytes(b)
            }
        })
        .collect();
    Ok(Tensor {
        data,
        n,
        height,
        width,
    })
}
