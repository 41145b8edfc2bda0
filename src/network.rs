//! A model bound to where it runs: the GPU (weights uploaded once, one plan
//! per [`PlanKey`], built on first use and cached) or the CPU reference.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use crate::Result;
use crate::error::{bail, ensure};

use crate::gpu::GpuContext;
use crate::graph::gpu::{GpuPlan, GpuWeights, max_batch};
use crate::graph::tune::{self, TuneCache, Tuning};
use crate::graph::{Graph, UpsampleFusion, cpu, planner};
use crate::kernels::Precision;
use crate::model::Model;

/// The seven U²-Net outputs for a batch: `maps[0]` is d0 (the fused map),
/// `maps[1..7]` are d1..d6; each is batch x height x width, in [0, 1].
#[derive(Clone, Debug)]
pub struct SideOutputs {
    pub batch: u32,
    pub height: u32,
    pub width: u32,
    pub maps: Vec<Vec<f32>>,
}

impl SideOutputs {
    /// Map `d` (0..7) of image `n`.
    pub fn map(&self, d: usize, n: u32) -> &[f32] {
        let plane = (self.height * self.width) as usize;
        &self.maps[d][n as usize * plane..(n as usize + 1) * plane]
    }
}

/// Everything a plan depends on besides the model and the tuning cache
/// (a new cache starts a new set of plans): the same key is the same plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct PlanKey {
    size: (u32, u32),
    batch: u32,
    precision: Precision,
    fusion: UpsampleFusion,
}

/// An input size and the activations' storage: what bounds the batch.
type SizeKey = ((u32, u32), Precision);

struct GpuState {
    ctx: GpuContext,
    weights: Arc<GpuWeights>,
    plans: Mutex<HashMap<PlanKey, Arc<GpuPlan>>>,
    /// [`Network::max_batch`] per size and precision: a graph and a memory
    /// plan to build, so once.
    max_batches: Mutex<HashMap<SizeKey, u32>>,
    /// Conv kernel choices; without a cache every conv runs the default.
    tuning: Option<Mutex<TuneCache>>,
    precision: Precision,
    /// Upsamples read by the next conv instead of written (see
    /// [`Graph::fusing_upsamples`]): forced, or else as tuned, or else
    /// the doubling ones, which the direct kernels read whole rows of
    /// (the others cost 4 reads per input: BENCHMARKS.md has both).
    fuse_upsamples: Option<UpsampleFusion>,
}

impl GpuState {
    /// The model's graph as this GPU runs it.
    fn graph(&self, model: &Model, (height, width): (u32, u32), fuse: UpsampleFusion) -> Graph {
        model
            .graph(height, width)
            .storing(self.precision)
            .fusing_upsamples(fuse)
    }
}

enum Device {
    Gpu(Box<GpuState>),
    Cpu,
}

pub struct Network {
    pub model: Arc<Model>,
    device: Device,
}

impl Network {
    pub fn gpu(ctx: &GpuContext, model: Arc<Model>) -> Self {
        let weights = Arc::new(GpuWeights::upload(ctx, &model.layers));
        let device = Device::Gpu(Box::new(GpuState {
            ctx: ctx.clone(),
            weights,
            plans: Mutex::default(),
            max_batches: Mutex::default(),
            tuning: None,
            precision: Precision::F32,
            fuse_upsamples: None,
        }));
        Self { model, device }
    }

    /// Stores activations in `precision` on the GPU (arithmetic stays f32).
    /// f16 needs the adapter's shader-f16 feature. The CPU reference always
    /// runs in f32.
    pub fn with_precision(mut self, precision: Precision) -> Result<Self> {
        if let Device::Gpu(g) = &mut self.device {
            ensure!(
                precision != Precision::F16 || g.ctx.features.contains(wgpu::Features::SHADER_F16),
                Unsupported,
                "{} has no shader-f16 support: use --precision f32",
                g.ctx.info.name
            );
            g.precision = precision;
        } else {
            ensure!(
                precision == Precision::F32,
                Unsupported,
                "the CPU reference computes in f32 only"
            );
        }
        Ok(self)
    }

    /// Folds the upsamples `fuse` names into the convs that read them
    /// (upsample-on-read), whatever the tuning says: fewer dispatches and
    /// less memory traffic, more work per conv input. No effect on the CPU.
    pub fn with_upsample_fusion(mut self, fuse: UpsampleFusion) -> Self {
        if let Device::Gpu(g) = &mut self.device {
            g.fuse_upsamples = Some(fuse);
        }
        self
    }

    /// The precision activations are stored in (f32 on the CPU).
    pub fn precision(&self) -> Precision {
        match &self.device {
            Device::Gpu(g) => g.precision,
            Device::Cpu => Precision::F32,
        }
    }

    /// Plans pick each conv's kernel from `cache`, and [`Network::tune`]
    /// records its choices there. No effect on the CPU.
    pub fn with_tuning(mut self, cache: TuneCache) -> Self {
        if let Device::Gpu(g) = &mut self.device {
            g.tuning = Some(Mutex::new(cache));
            g.plans.lock().unwrap().clear();
        }
        self
    }

    /// [`Network::with_tuning`] with the cache at its default path
    /// ([`TuneCache::default_path`]), where there is one; with the error
    /// when that file cannot be used, in which case the default kernels run
    /// (a cache only changes speed, so callers warn and go on).
    pub fn with_default_tuning(self) -> (Self, Option<crate::Error>) {
        let (Some(path), Some(ctx)) = (TuneCache::default_path(), self.context()) else {
            return (self, None);
        };
        match TuneCache::open(&path, &ctx.describe()) {
            Ok(cache) => (self.with_tuning(cache), None),
            Err(e) => (self, Some(e)),
        }
    }

    /// Tunes the plan for `batch` images of `height x width`: each conv's
    /// kernel (see [`GpuPlan::tune`]) in each [`UpsampleFusion`] that
    /// gives a graph of its own (unless forced), then the fastest whole
    /// plan. Uses it from now on and saves the choices to the tuning cache
    /// if there is one.
    pub fn tune(&self, height: u32, width: u32, batch: u32) -> Result<Tuning> {
        let Device::Gpu(g) = &self.device else {
            bail!(Unsupported, "tuning needs a GPU");
        };
        let options = match g.fuse_upsamples {
            Some(fuse) => vec![fuse],
            None => UpsampleFusion::ALL.to_vec(),
        };
        let mut tried: Vec<(f64, UpsampleFusion, GpuPlan, _)> = Vec::new();
        for fuse in options {
            let graph = g.graph(&self.model, (height, width), fuse);
            // Fusing more only removes ops: the same count is the same graph.
            if tried.iter().any(|t| t.2.graph.ops.len() == graph.ops.len()) {
                continue;
            }
            let mut plan = self.build_plan(g, graph, batch)?;
            let rows = plan.tune(3)?;
            tried.push((plan.median_ms(3)?, fuse, plan, rows));
        }
        let plan_ms: BTreeMap<String, f64> = tried
            .iter()
            .map(|(ms, fuse, ..)| (fuse.name().to_owned(), *ms))
            .collect();
        let (_, upsample_fusion, plan, convs) = tried
            .into_iter()
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .expect("at least one option");
        if let Some(cache) = &g.tuning {
            let mut cache = cache.lock().unwrap();
            for r in &convs {
                cache.insert(r.key.clone(), r.chosen);
            }
            let key = tune::plan_key((height, width), batch, g.precision);
            cache.set_upsample_fusion(key, upsample_fusion);
            cache.save()?;
        }
        let key = PlanKey {
            size: (height, width),
            batch,
            precision: g.precision,
            fusion: upsample_fusion,
        };
        g.plans.lock().unwrap().insert(key, Arc::new(plan));
        Ok(Tuning {
            plan_ms,
            upsample_fusion,
            convs,
        })
    }

    /// Which upsamples a plan fuses: forced, else as tuned, else the
    /// doubling ones.
    fn fuses(&self, g: &GpuState, (height, width, batch): (u32, u32, u32)) -> UpsampleFusion {
        g.fuse_upsamples.unwrap_or_else(|| {
            let key = tune::plan_key((height, width), batch, g.precision);
            g.tuning
                .as_ref()
                .and_then(|c| c.lock().unwrap().upsample_fusion(&key))
                .unwrap_or(UpsampleFusion::Doubling)
        })
    }

    fn build_plan(&self, g: &GpuState, graph: Graph, batch: u32) -> Result<GpuPlan> {
        let cache = g.tuning.as_ref().map(|c| c.lock().unwrap());
        let choose = |key: &str| cache.as_ref().and_then(|c| c.get(key));
        GpuPlan::new(
            &g.ctx,
            graph,
            (self.model.clone(), g.weights.clone()),
            batch,
            &choose,
        )
    }

    pub fn cpu(model: Arc<Model>) -> Self {
        Self {
            model,
            device: Device::Cpu,
        }
    }

    /// The same network on a new device (see [`GpuContext::reopen`]):
    /// the weights uploaded again, precision, fusion and tuning kept.
    pub fn reopened(&self) -> Result<Self> {
        let Device::Gpu(g) = &self.device else {
            return Ok(Self::cpu(self.model.clone()));
        };
        let mut net = Self::gpu(&g.ctx.reopen()?, self.model.clone());
        if let Device::Gpu(new) = &mut net.device {
            new.precision = g.precision;
            new.fuse_upsamples = g.fuse_upsamples;
            new.tuning = g
                .tuning
                .as_ref()
                .map(|t| Mutex::new(t.lock().unwrap().clone()));
        }
        Ok(net)
    }

    /// Device memory held by the weights (0 on the CPU).
    pub fn weight_bytes(&self) -> u64 {
        match &self.device {
            Device::Gpu(g) => g.weights.bytes(),
            Device::Cpu => 0,
        }
    }

    pub fn context(&self) -> Option<&GpuContext> {
        match &self.device {
            Device::Gpu(g) => Some(&g.ctx),
            Device::Cpu => None,
        }
    }

    /// The GPU plan for `batch` images of `height x width`, built on first use.
    pub fn plan(&self, height: u32, width: u32, batch: u32) -> Result<Arc<GpuPlan>> {
        let Device::Gpu(g) = &self.device else {
            bail!(Unsupported, "plans exist only on the GPU");
        };
        let fusion = self.fuses(g, (height, width, batch));
        let key = PlanKey {
            size: (height, width),
            batch,
            precision: g.precision,
            fusion,
        };
        if let Some(p) = g.plans.lock().unwrap().get(&key) {
            return Ok(p.clone());
        }
        let graph = g.graph(&self.model, (height, width), fusion);
        let plan = Arc::new(self.build_plan(g, graph, batch)?);
        g.plans.lock().unwrap().insert(key, plan.clone());
        Ok(plan)
    }

    /// The most images one GPU pass holds at this size (no limit on the
    /// CPU: `u32::MAX`).
    pub fn max_batch(&self, height: u32, width: u32) -> Result<u32> {
        let Device::Gpu(g) = &self.device else {
            return Ok(u32::MAX);
        };
        let key = ((height, width), g.precision);
        if let Some(&n) = g.max_batches.lock().unwrap().get(&key) {
            return Ok(n);
        }
        // Unfused: fusing only removes tensors, so this bound holds for all.
        let graph = g.graph(&self.model, (height, width), UpsampleFusion::Off);
        let n = max_batch(&g.ctx, &graph, &planner::plan(&graph), &self.model.layers)?;
        g.max_batches.lock().unwrap().insert(key, n);
        Ok(n)
    }

    /// Runs `batch` images (NCHW, already normalized) through the network,
    /// in as few passes as the adapter's limits allow.
    pub fn infer(&self, input: &[f32], batch: u32, height: u32, width: u32) -> Result<SideOutputs> {
        ensure!(
            height > 0 && width > 0 && batch > 0,
            Input,
            "empty input ({batch} x 3 x {height} x {width})"
        );
        let per_image = 3 * height as usize * width as usize;
        ensure!(
            input.len() == per_image * batch as usize,
            Input,
            "input has {} values, expected {batch} x 3 x {height} x {width}",
            input.len()
        );
        let mut maps = vec![Vec::new(); 7];
        match &self.device {
            Device::Cpu => {
                let graph = self.model.graph(height, width);
                maps = cpu::run(&graph, &self.model.layers, input, batch)?;
            }
            Device::Gpu(_) => {
                let chunk = batch.min(self.max_batch(height, width)?);
                let plan = self.plan(height, width, chunk)?;
                for images in input.chunks(per_image * chunk as usize) {
                    let count = (images.len() / per_image) as u32;
                    let out = plan.run(images, count)?;
                    for (m, o) in maps.iter_mut().zip(out) {
                        m.extend(o);
                    }
                }
            }
        }
        Ok(SideOutputs {
            batch,
            height,
            width,
            maps,
        })
    }
}
