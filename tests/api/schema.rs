use std::path::Path;

use crate::common::CONTRACT;

/// `schema.graphql` is generated from the code: a drift rewrites it and fails.
#[test]
fn committed_schema_matches_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let generated = leadsync::graphql::sdl();
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        std::fs::write(&path, &generated).expect("rewrite schema.graphql");
        panic!("schema.graphql was out of date with the code; it has been regenerated: commit it");
    }
}

/// The contract copy in tests/ is the one in ../shared (when present).
#[test]
fn contract_copy_matches_shared() {
    let shared =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/contract/operations.graphql");
    match std::fs::read_to_string(&shared) {
        Ok(text) => assert_eq!(
            text, CONTRACT,
            "tests/contract/operations.graphql differs from ../shared: copy it again"
        ),
        Err(_) => eprintln!("../shared is absent: using the committed contract copy"),
    }
}
