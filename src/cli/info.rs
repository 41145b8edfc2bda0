//! `u2cut info`: what a model is and what it costs at a given input size.

use std::fmt::Write as _;

use anyhow::Result;
use clap::Args;
use serde_json::{Value, json};
use u2cut::Model;
use u2cut::gpu::{COOP_MATRIX_ENV, list_adapters};
use u2cut::graph::{planner, stats};
use u2cut::kernels::conv::{Caps, ConvKernel};
use u2cut::model::config::{Rsu, STAGE_NAMES};

use super::{GlobalArgs, Size, load_model_or_architecture, warn};

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Model: u2netp (built in), u2net (the model folder: tools/fetch_model.sh), or a .safetensors file.
    /// Without weights for a preset name, the architecture is still described
    #[arg(long, short, default_value = "u2netp", value_name = "NAME|PATH")]
    pub model: String,
    /// Input size for the work and memory figures: S (S x S) or WxH
    #[arg(long, short, default_value = "320", value_name = "S|WxH")]
    pub size: Size,
    /// Also list every GPU adapter wgpu can see, best first (the index is what --adapter takes)
    #[arg(long)]
    pub adapters: bool,
    /// Print the same facts as one JSON object
    #[arg(long)]
    pub json: bool,
}

/// Everything `info` reports.
struct Facts {
    model: Model,
    /// `None` when the weights were found; else why not (architecture only).
    missing_weights: Option<String>,
    size: Size,
    macs: u64,
    activation_bytes: u64,
    activation_buffers: usize,
    unshared_bytes: u64,
    dispatches: usize,
}

fn rsu_name(rsu: Rsu) -> String {
    match rsu {
        Rsu::Pooled(l) => format!("RSU{l}"),
        Rsu::Dilated => "RSU4F".to_owned(),
    }
}

fn gather(args: &InfoArgs) -> Result<Facts> {
    let (model, missing_weights) = load_model_or_architecture(&args.model)?;
    let graph = model.graph(args.size.height, args.size.width);
    let plan = planner::plan(&graph);
    Ok(Facts {
        macs: stats::macs(&graph, &model.layers),
        activation_bytes: plan.bytes_per_image(),
        activation_buffers: plan.slot_bytes.len(),
        unshared_bytes: graph.tensors.iter().map(|t| t.len() * 4).sum(),
        dispatches: graph.ops.len(),
        size: args.size,
        model,
        missing_weights,
    })
}

/// Three significant digits: `1125485` -> `1.13 M`; `43981069` -> `44.0 M`.
fn millions(n: u64) -> String {
    let m = n as f64 / 1e6;
    let decimals = match m {
        m if m >= 100.0 => 0,
        m if m >= 10.0 => 1,
        _ => 2,
    };
    format!("{m:.decimals$} M")
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// An adapter as `info --adapters` lists it, with what u2cut can use
/// there: features, limits, and the coop kernel's matrix size.
type Listed = (wgpu::AdapterInfo, wgpu::Features, wgpu::Limits, Option<u32>);

/// The conv kernels an adapter runs, by name (the coop kernel apart: it
/// needs U2CUT_COOP_MATRIX=1).
fn conv_kernels((info, features, limits, _): &Listed) -> Vec<&'static str> {
    let caps = Caps {
        info,
        features: *features,
        limits,
        coop_matrix: None,
    };
    ConvKernel::all()
        .filter(|k| k.supports(&caps).is_ok())
        .map(ConvKernel::name)
        .collect()
}

fn text(facts: &Facts, adapters: Option<&[Listed]>) -> String {
    let m = &facts.model;
    let mut s = String::new();
    let _ = writeln!(s, "model        {}", m.config.name);
    match &facts.missing_weights {
        None => {
            let _ = writeln!(s, "weights      {}", m.origin);
        }
        Some(_) => {
            let _ = writeln!(
                s,
                "weights      not loaded: the numbers are for the architecture \
                 (counted on random weights)"
            );
        }
    }
    let _ = writeln!(s, "\nstage      block    in   mid   out");
    for (name, st) in STAGE_NAMES.iter().zip(&m.config.stages) {
        let _ = writeln!(
            s,
            "{name:<10} {:<6} {:>4}  {:>4}  {:>4}",
            rsu_name(st.rsu),
            st.cin,
            st.mid,
            st.cout
        );
    }
    let params = m.parameters();
    let _ = writeln!(
        s,
        "\nparameters   {} ({params} as run: BatchNorm folded into the convs)",
        millions(params)
    );
    let _ = writeln!(
        s,
        "work         {:.1} GMAC = {:.1} GFLOP per image at {}",
        facts.macs as f64 / 1e9,
        2.0 * facts.macs as f64 / 1e9,
        facts.size
    );
    let _ = writeln!(
        s,
        "activations  {} per image at peak ({} shared buffers); {} without buffer sharing",
        mib(facts.activation_bytes),
        facts.activation_buffers,
        mib(facts.unshared_bytes)
    );
    let _ = writeln!(s, "dispatches   {} per batch", facts.dispatches);
    if let Some(adapters) = adapters {
        let _ = writeln!(
            s,
            "\nadapters (best first; --adapter takes the index or a name substring)"
        );
        if adapters.is_empty() {
            let _ = writeln!(
                s,
                "  none: install a Vulkan driver, e.g. `apt-get install mesa-vulkan-drivers libvulkan1`"
            );
        }
        for (i, listed) in adapters.iter().enumerate() {
            let (a, features, _, coop) = listed;
            let _ = writeln!(
                s,
                "  [{i}] {} ({:?}, {:?}{})\n      conv kernels {}; f16 {}; cooperative matrices {}",
                a.name,
                a.backend,
                a.device_type,
                if a.driver_info.is_empty() {
                    String::new()
                } else {
                    format!(", {}", a.driver_info)
                },
                conv_kernels(listed).join(", "),
                if features.contains(wgpu::Features::SHADER_F16) {
                    "yes"
                } else {
                    "no"
                },
                match coop {
                    Some(n) => format!("{n}x{n} f16 (coop kernel with {COOP_MATRIX_ENV}=1)"),
                    None => "no".to_owned(),
                },
            );
        }
    }
    s
}

fn json(facts: &Facts, adapters: Option<&[Listed]>) -> Value {
    let m = &facts.model;
    let stages: Vec<Value> = STAGE_NAMES
        .iter()
        .zip(&m.config.stages)
        .map(|(name, st)| {
            json!({
                "stage": name,
                "block": rsu_name(st.rsu),
                "in": st.cin,
                "mid": st.mid,
                "out": st.cout,
            })
        })
        .collect();
    let mut v = json!({
        "model": m.config.name,
        "origin": m.origin,
        "weights_loaded": facts.missing_weights.is_none(),
        "input": { "width": facts.size.width, "height": facts.size.height },
        "stages": stages,
        "parameters": m.parameters(),
        "macs_per_image": facts.macs,
        "gflop_per_image": 2.0 * facts.macs as f64 / 1e9,
        "activation_bytes_per_image": facts.activation_bytes,
        "activation_buffers": facts.activation_buffers,
        "activation_bytes_unshared": facts.unshared_bytes,
        "dispatches": facts.dispatches,
    });
    if let Some(why) = &facts.missing_weights {
        v["weights_missing"] = json!(why);
    }
    if let Some(adapters) = adapters {
        v["adapters"] = adapters
            .iter()
            .enumerate()
            .map(|(i, listed)| {
                let (a, features, _, coop) = listed;
                json!({
                    "index": i,
                    "name": a.name,
                    "backend": format!("{:?}", a.backend),
                    "device_type": format!("{:?}", a.device_type),
                    "driver": a.driver,
                    "driver_info": a.driver_info,
                    "conv_kernels": conv_kernels(listed),
                    "shader_f16": features.contains(wgpu::Features::SHADER_F16),
                    "subgroup_sizes": [a.subgroup_min_size, a.subgroup_max_size],
                    "coop_matrix_size": coop,
                })
            })
            .collect();
    }
    v
}

pub fn run(global: &GlobalArgs, args: &InfoArgs) -> Result<()> {
    let facts = gather(args)?;
    if let Some(why) = &facts.missing_weights
        && !global.quiet
        && !args.json
    {
        warn(format_args!(
            "{why}\n(describing the {} architecture without weights)",
            facts.model.config.name
        ));
    }
    let adapters = args.adapters.then(list_adapters);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json(&facts, adapters.as_deref()))?
        );
    } else {
        print!("{}", text(&facts, adapters.as_deref()));
    }
    Ok(())
}
