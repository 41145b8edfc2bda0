//! Published peak rates of known GPUs, so `bench` can say how close each
//! kernel comes to the hardware. FP32 without tensor cores (what our f32
//! kernels can use) and DRAM bandwidth, from the vendors' data sheets at
//! boost clock. The adapter name is matched by substring, most specific
//! first; unknown adapters have no peak unless the user gives one.

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Peak {
    /// The table entry or "user" for `--peak-gflops` / `--peak-gbps`.
    pub source: String,
    pub gflop_per_s: Option<f64>,
    pub gb_per_s: Option<f64>,
}

/// (name substring, FP32 GFLOP/s, GB/s). Order matters: "H100 PCIe" must
/// match before "H100".
const KNOWN: &[(&str, f64, f64)] = &[
    ("H200 NVL", 60_000.0, 4_800.0),
    ("H200", 66_900.0, 4_800.0),
    ("H100 PCIe", 51_200.0, 2_000.0),
    ("H100 NVL", 60_000.0, 3_900.0),
    // The SXM5 part reports itself as "NVIDIA H100 80GB HBM3".
    ("H100", 66_900.0, 3_350.0),
    ("A100-SXM4-80GB", 19_500.0, 2_039.0),
    ("A100 80GB PCIe", 19_500.0, 1_935.0),
    ("A100", 19_500.0, 1_555.0),
    ("L40S", 91_600.0, 864.0),
    ("L4", 30_300.0, 300.0),
    ("A10G", 31_200.0, 600.0),
    ("A10", 31_200.0, 600.0),
    ("Tesla T4", 8_100.0, 320.0),
    ("RTX 4090", 82_600.0, 1_008.0),
    ("RTX 3090", 35_600.0, 936.0),
];

/// The table's entry for an adapter name, if any.
pub fn lookup(adapter: &str) -> Option<Peak> {
    KNOWN
        .iter()
        .find(|(key, ..)| adapter.contains(key))
        .map(|&(key, gflops, gbps)| Peak {
            source: format!("data sheet: {key}"),
            gflop_per_s: Some(gflops),
            gb_per_s: Some(gbps),
        })
}

/// The user's numbers where given, else the table's.
pub fn resolve(adapter: &str, gflop_per_s: Option<f64>, gb_per_s: Option<f64>) -> Option<Peak> {
    if gflop_per_s.is_none() && gb_per_s.is_none() {
        return lookup(adapter);
    }
    let table = lookup(adapter);
    Some(Peak {
        source: "user".into(),
        gflop_per_s: gflop_per_s.or(table.as_ref().and_then(|p| p.gflop_per_s)),
        gb_per_s: gb_per_s.or(table.and_then(|p| p.gb_per_s)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specific_names_win() {
        assert_eq!(lookup("NVIDIA H100 PCIe").unwrap().gb_per_s, Some(2_000.0));
        assert_eq!(
            lookup("NVIDIA H100 80GB HBM3").unwrap().gb_per_s,
            Some(3_350.0)
        );
        assert_eq!(lookup("NVIDIA H200").unwrap().gflop_per_s, Some(66_900.0));
        assert_eq!(lookup("NVIDIA L40S").unwrap().gflop_per_s, Some(91_600.0));
        assert!(lookup("llvmpipe (LLVM 15.0.6, 256 bits)").is_none());
    }

    #[test]
    fn user_numbers_override_and_complete() {
        let p = resolve("llvmpipe", Some(100.0), None).unwrap();
        assert_eq!((p.gflop_per_s, p.gb_per_s), (Some(100.0), None));
        let p = resolve("NVIDIA H100 PCIe", None, Some(1.0)).unwrap();
        assert_eq!((p.gflop_per_s, p.gb_per_s), (Some(51_200.0), Some(1.0)));
        assert!(resolve("llvmpipe", None, None).is_none());
    }
}
