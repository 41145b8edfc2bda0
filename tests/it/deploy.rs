//! deploy/: the Kubernetes Indexed Job parsed and its contract checked,
//! the Slurm script's and the Dockerfile's. (The Slurm script runs for
//! real in tests/slurm/sharded_remove.sh.)

use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

fn read(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `doc[a][b]...`, failing with the path when a key is missing.
fn at<'a>(doc: &'a Yaml, keys: &[&str]) -> &'a Yaml {
    keys.iter().fold(doc, |node, key| {
        let next = &node[*key];
        assert!(!next.is_badvalue(), "no {} in the manifest", keys.join("."));
        next
    })
}

#[test]
fn the_indexed_job_runs_one_share_per_index_on_a_gpu() {
    let docs = YamlLoader::load_from_str(&read("deploy/kubernetes/indexed-job.yaml")).unwrap();
    assert_eq!(docs.len(), 1);
    let job = &docs[0];
    assert_eq!(at(job, &["apiVersion"]).as_str(), Some("batch/v1"));
    assert_eq!(at(job, &["kind"]).as_str(), Some("Job"));
    let spec = at(job, &["spec"]);
    assert_eq!(at(spec, &["completionMode"]).as_str(), Some("Indexed"));
    let completions = at(spec, &["completions"]).as_i64().unwrap();
    assert_eq!(at(spec, &["parallelism"]).as_i64(), Some(completions));

    let pod = at(spec, &["template", "spec"]);
    let containers = at(pod, &["containers"]).as_vec().unwrap();
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    assert_eq!(
        at(c, &["resources", "limits", "nvidia.com/gpu"]).as_i64(),
        Some(1)
    );
    let env = at(c, &["env"]).as_vec().unwrap();
    let shards = env
        .iter()
        .find(|e| e["name"].as_str() == Some("SHARDS"))
        .expect("a SHARDS variable");
    assert_eq!(
        shards["value"].as_str(),
        Some(completions.to_string().as_str())
    );

    let command: Vec<&str> = at(c, &["command"])
        .as_vec()
        .unwrap()
        .iter()
        .chain(at(c, &["args"]).as_vec().unwrap())
        .map(|a| a.as_str().unwrap())
        .collect();
    let script = command.join(" ");
    for want in [
        "u2cut remove",
        "--shard \"${JOB_COMPLETION_INDEX}/${SHARDS}\"",
        "--skip-existing",
        "--manifest",
    ] {
        assert!(script.contains(want), "the command lacks {want}: {script}");
    }

    // Inputs and outputs on the volume the container mounts.
    let mount = at(c, &["volumeMounts"]).as_vec().unwrap()[0].clone();
    let mount_path = mount["mountPath"].as_str().unwrap();
    assert!(script.contains(&format!("{mount_path}/in")), "{script}");
    assert!(script.contains(&format!("{mount_path}/out")), "{script}");
    let volumes = at(pod, &["volumes"]).as_vec().unwrap();
    assert!(
        volumes.iter().any(|v| v["name"] == mount["name"]),
        "no volume {:?}",
        mount["name"]
    );
}

#[test]
fn the_slurm_script_asks_for_no_site_resources() {
    let script = read("deploy/slurm/remove.sbatch");
    for line in script.lines().filter(|l| l.starts_with("#SBATCH")) {
        for site in [
            "--partition",
            "-p ",
            "--gres",
            "--gpus",
            "--mem",
            "--cpus",
            "-c ",
            "--export",
        ] {
            assert!(
                !line.contains(site),
                "a site's choice is hard-coded: {line}"
            );
        }
    }
    assert!(
        script.contains("--shard \"$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT\" --skip-existing"),
        "{script}"
    );
    assert!(script.contains("${MANIFEST_DIR:-"), "{script}");
    assert!(script.contains("${U2CUT:-u2cut}"), "{script}");
}

#[test]
fn the_dockerfile_builds_in_stages_and_runs_on_nvidias_vulkan() {
    let file = read("deploy/Dockerfile");
    let stages = file.lines().filter(|l| l.starts_with("FROM ")).count();
    assert!(stages >= 2, "not a multi-stage build");
    assert!(file.contains("COPY --from=build"), "{file}");
    assert!(file.contains("libvulkan1"), "no Vulkan loader");
    assert!(
        file.contains("/usr/share/vulkan/icd.d/nvidia_icd.json"),
        "no NVIDIA ICD"
    );
    let caps = file
        .lines()
        .find_map(|l| l.trim().split_once("NVIDIA_DRIVER_CAPABILITIES="))
        .map(|(_, v)| v.split_whitespace().next().unwrap_or(""))
        .expect("NVIDIA_DRIVER_CAPABILITIES is set");
    assert!(caps.split(',').any(|c| c == "graphics"), "{caps}");
}
