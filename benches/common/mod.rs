//! What the benches share: the data set they measure (the default one, or the directory in
//! `RENEWAL_MAP_BENCH_DATA`, e.g. a `generate --scale 100` output) loaded into a snapshot.

use std::path::PathBuf;

use renewal_map::load::load_dataset;
use renewal_map::snapshot::Snapshot;

/// The data set directory.
pub fn data_dir() -> PathBuf {
    std::env::var_os("RENEWAL_MAP_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/huanggu"))
}

/// The data set, loaded and indexed.
pub fn load() -> Snapshot {
    let dir = data_dir();
    Snapshot::build(load_dataset(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())))
}
