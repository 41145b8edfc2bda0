//! U²-Net architecture configs: the residual U-block (RSU) of each stage
//! and its (in, mid, out) widths. Presets for u2net and u2netp; any other
//! widths are read from a weight file's tensor shapes.

use crate::Result;
use crate::error::ensure;

/// The kind of residual U-block: RSU-L with pooling (L = 4..=7), or RSU-4F
/// (dilations instead of pooling).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rsu {
    Pooled(u32),
    Dilated,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StageConfig {
    pub rsu: Rsu,
    pub cin: u32,
    pub mid: u32,
    pub cout: u32,
}

/// The 11 stages in forward order: encoder stage1..6, decoder stage5d..1d.
pub const STAGE_NAMES: [&str; 11] = [
    "stage1", "stage2", "stage3", "stage4", "stage5", "stage6", "stage5d", "stage4d", "stage3d",
    "stage2d", "stage1d",
];

/// Block kind of each stage, fixed by the architecture.
pub const STAGE_RSU: [Rsu; 11] = [
    Rsu::Pooled(7),
    Rsu::Pooled(6),
    Rsu::Pooled(5),
    Rsu::Pooled(4),
    Rsu::Dilated,
    Rsu::Dilated,
    Rsu::Dilated,
    Rsu::Pooled(4),
    Rsu::Pooled(5),
    Rsu::Pooled(6),
    Rsu::Pooled(7),
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct U2NetConfig {
    pub name: String,
    pub stages: [StageConfig; 11],
}

impl U2NetConfig {
    /// From (in, mid, out) per stage in [`STAGE_NAMES`] order.
    pub fn from_widths(name: &str, widths: [(u32, u32, u32); 11]) -> Result<Self> {
        let stages = std::array::from_fn(|i| {
            let (cin, mid, cout) = widths[i];
            StageConfig {
                rsu: STAGE_RSU[i],
                cin,
                mid,
                cout,
            }
        });
        let config = Self {
            name: name.to_owned(),
            stages,
        };
        config.validate()?;
        Ok(config)
    }

    /// The full U²-Net (44.0 M parameters).
    pub fn u2net() -> Self {
        Self::from_widths(
            "u2net",
            [
                (3, 32, 64),
                (64, 32, 128),
                (128, 64, 256),
                (256, 128, 512),
                (512, 256, 512),
                (512, 256, 512),
                (1024, 256, 512),
                (1024, 128, 256),
                (512, 64, 128),
                (256, 32, 64),
                (128, 16, 64),
            ],
        )
        .expect("u2net preset is consistent")
    }

    /// The small U²-Netp (1.13 M parameters).
    pub fn u2netp() -> Self {
        let mut w = [(64, 16, 64); 11];
        w[0] = (3, 16, 64);
        for s in &mut w[6..] {
            s.0 = 128;
        }
        Self::from_widths("u2netp", w).expect("u2netp preset is consistent")
    }

    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "u2net" => Some(Self::u2net()),
            "u2netp" => Some(Self::u2netp()),
            _ => None,
        }
    }

    /// Channels feeding side output i (1..=6): the decoder stages, then stage6.
    pub fn side_channels(&self, i: usize) -> u32 {
        // side1 <- stage1d (index 10), ..., side5 <- stage5d (6), side6 <- stage6 (5)
        let stage = if i == 6 { 5 } else { 11 - i };
        self.stages[stage].cout
    }

    /// Checks that each stage's input width is what the previous stages produce.
    pub fn validate(&self) -> Result<()> {
        let s = &self.stages;
        ensure!(
            s[0].cin == 3,
            Input,
            "{}: stage1 takes {} channels, images have 3",
            self.name,
            s[0].cin
        );
        for i in 1..6 {
            ensure!(
                s[i].cin == s[i - 1].cout,
                Input,
                "{}: {} takes {} channels but {} makes {}",
                self.name,
                STAGE_NAMES[i],
                s[i].cin,
                STAGE_NAMES[i - 1],
                s[i - 1].cout
            );
        }
        // stage5d <- cat(stage6, stage5), stage4d <- cat(stage5d, stage4), ...
        for i in 6..11 {
            let skip = 10 - i;
            let want = s[i - 1].cout + s[skip].cout;
            ensure!(
                s[i].cin == want,
                Input,
                "{}: {} takes {} channels but cat({}, {}) makes {want}",
                self.name,
                STAGE_NAMES[i],
                s[i].cin,
                STAGE_NAMES[i - 1],
                STAGE_NAMES[skip]
            );
        }
        ensure!(
            s.iter().all(|s| s.mid > 0 && s.cout > 0),
            Input,
            "{}: a stage has zero width",
            self.name
        );
        Ok(())
    }
}
