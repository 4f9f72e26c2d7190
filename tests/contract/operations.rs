//! The front-end contract (`operations.graphql`, a copy of ../shared's) read by name: shared by
//! the API tests (`tests/api/main.rs`) and the benchmark (`benches/leadsync_bench.rs`), which
//! include this file as a module.

use std::{collections::HashMap, sync::OnceLock};

/// The committed copy of the front-end contract.
pub const CONTRACT: &str = include_str!("operations.graphql");

/// Top-level definitions of the contract by name (operations and fragments).
fn definitions() -> &'static HashMap<String, String> {
    static DEFS: OnceLock<HashMap<String, String>> = OnceLock::new();
    DEFS.get_or_init(|| {
        let mut defs = HashMap::new();
        let mut current: Option<(String, String)> = None;
        for line in CONTRACT.lines() {
            let starts = ["query ", "mutation ", "subscription ", "fragment "]
                .iter()
                .find(|k| line.starts_with(*k));
            if let Some(keyword) = starts {
                if let Some((name, text)) = current.take() {
                    defs.insert(name, text);
                }
                let name: String = line[keyword.len()..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                current = Some((name, String::new()));
            }
            if let Some((_, text)) = current.as_mut()
                && !line.starts_with('#')
            {
                text.push_str(line);
                text.push('\n');
            }
        }
        if let Some((name, text)) = current.take() {
            defs.insert(name, text);
        }
        defs
    })
}

/// One contract operation with the fragments it spreads.
pub fn contract_operation(name: &str) -> String {
    let defs = definitions();
    let mut text = defs
        .get(name)
        .unwrap_or_else(|| panic!("no operation {name} in the contract"))
        .clone();
    let mut added: Vec<String> = Vec::new();
    loop {
        let wanted: Vec<String> = text
            .split("...")
            .skip(1)
            .map(|rest| {
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect::<String>()
            })
            .filter(|f| !f.is_empty() && defs.contains_key(f) && !added.contains(f))
            .collect();
        if wanted.is_empty() {
            return text;
        }
        for fragment in wanted {
            if !added.contains(&fragment) {
                text.push_str(&defs[&fragment]);
                added.push(fragment);
            }
        }
    }
}
