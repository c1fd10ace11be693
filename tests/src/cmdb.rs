//! A CMDB the size of a mid-sized company's, for the import test and the load script:
//! layers of business services, applications, databases, virtual machines and servers,
//! each depending on items of the layer below, generated the same way every time.

use std::collections::HashSet;

use serde_json::{Value, json};

/// Layer sizes from the top (what the business sees) to the bottom (hardware).
const LAYERS: [(&str, &str, usize); 5] = [
    ("Business service", "svc", 100),
    ("Application", "app", 900),
    ("Database", "db", 1000),
    ("Virtual machine", "vm", 4000),
    ("Server", "srv", 4000),
];

/// An import file with `LAYERS`' 10,000 items and `relationships` DEPENDS_ON/RUNS_ON
/// relationships from each layer to the next.
pub fn layered_import(relationships: usize) -> Value {
    let mut items = Vec::new();
    for (class, prefix, count) in LAYERS {
        for i in 0..count {
            let mut attributes = json!({});
            if matches!(class, "Server" | "Virtual machine") {
                attributes = json!({ "hostname": format!("{prefix}-{i}.example.net"), "cpus": 2 + (i % 4) * 2 });
            }
            items.push(json!({
                "externalKey": format!("{prefix}-{i}"),
                "class": class,
                "name": format!("{class} {i}"),
                "environment": "PRODUCTION",
                "attributes": attributes,
            }));
        }
    }
    // A fixed linear congruential sequence: the same graph on every run.
    let mut seed: u64 = 42;
    let mut next = move |bound: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % bound
    };
    let upper: usize = LAYERS[..4].iter().map(|l| l.2).sum();
    let mut edges = HashSet::new();
    let mut rows = Vec::new();
    let mut n = 0;
    while rows.len() < relationships {
        // Every item above the bottom gets its share, in turn.
        let mut position = n % upper;
        n += 1;
        let mut layer = 0;
        while position >= LAYERS[layer].2 {
            position -= LAYERS[layer].2;
            layer += 1;
        }
        let target = next(LAYERS[layer + 1].2);
        if !edges.insert((layer, position, target)) {
            continue;
        }
        let kind = if layer >= 2 { "RUNS_ON" } else { "DEPENDS_ON" };
        rows.push(json!({
            "source": format!("{}-{position}", LAYERS[layer].1),
            "target": format!("{}-{target}", LAYERS[layer + 1].1),
            "type": kind,
        }));
    }
    json!({ "items": items, "relationships": rows })
}
