//! Memory planning: tensors whose lifetimes do not overlap share a buffer
//! ("slot"). Lifetimes run from the first op that writes a tensor to the
//! last op that reads it; the input lives from the start, outputs to the end.

use super::Graph;

#[derive(Clone, Debug)]
pub struct MemoryPlan {
    /// Slot of each tensor.
    pub slot_of: Vec<usize>,
    /// Bytes of each slot per image (each tensor in its storage precision),
    /// rounded up to whole 4-byte words.
    pub slot_bytes: Vec<u64>,
}

impl MemoryPlan {
    /// Bytes of all slots per image: the peak activation memory.
    pub fn bytes_per_image(&self) -> u64 {
        self.slot_bytes.iter().sum::<u64>()
    }

    /// Bytes of the largest slot per image (what one binding must hold).
    pub fn largest_slot_bytes(&self) -> u64 {
        self.slot_bytes.iter().copied().max().unwrap_or(0)
    }
}

/// (first op writing, last op reading) per tensor; `usize::MAX` = never.
fn lifetimes(graph: &Graph) -> Vec<(usize, usize)> {
    let end = graph.ops.len();
    let mut life = vec![(usize::MAX, 0); graph.tensors.len()];
    if let Some(input) = graph.input {
        life[input.0].0 = 0;
    }
    for (i, op) in graph.ops.iter().enumerate() {
        let (reads, write) = op.io();
        for r in reads {
            life[r.tensor.0].1 = life[r.tensor.0].1.max(i);
        }
        let w = &mut life[write.tensor.0];
        w.0 = w.0.min(i);
        w.1 = w.1.max(i);
    }
    for (_, out) in &graph.outputs {
        life[out.tensor.0].1 = end;
    }
    life
}

/// Greedy best fit in op order: at its first write a tensor takes the
/// smallest free slot that holds it, else grows the largest free slot,
/// else opens a new one; after its last read its slot is free again.
pub fn plan(graph: &Graph) -> MemoryPlan {
    let life = lifetimes(graph);
    let mut slot_of = vec![usize::MAX; graph.tensors.len()];
    let mut slot_bytes: Vec<u64> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    for step in 0..=graph.ops.len() {
        for (t, &(first, _)) in life.iter().enumerate() {
            if first != step {
                continue;
            }
            let need = graph.tensors[t].bytes().next_multiple_of(4);
            let fits = free
                .iter()
                .enumerate()
                .filter(|&(_, &s)| slot_bytes[s] >= need)
                .min_by_key(|&(_, &s)| slot_bytes[s]);
            let biggest = free.iter().enumerate().max_by_key(|&(_, &s)| slot_bytes[s]);
            let slot = match fits.or(biggest) {
                Some((i, &s)) => {
                    free.swap_remove(i);
                    slot_bytes[s] = slot_bytes[s].max(need);
                    s
                }
                None => {
                    slot_bytes.push(need);
                    slot_bytes.len() - 1
                }
            };
            slot_of[t] = slot;
        }
        for (t, &(first, last)) in life.iter().enumerate() {
            if last == step && first <= step {
                free.push(slot_of[t]);
            }
        }
    }
    MemoryPlan {
        slot_of,
        slot_bytes,
    }
}
