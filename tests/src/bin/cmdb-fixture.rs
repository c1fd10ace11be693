//! Prints the 10,000-item CMDB import file the load script measures:
//! `cargo run -p switchboard-tests --bin cmdb-fixture > cmdb.json`.

fn main() {
    let relationships = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("the number of relationships"))
        .unwrap_or(20_000);
    println!("{}", switchboard_tests::cmdb::layered_import(relationships));
}
