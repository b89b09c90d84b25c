//! Tile encoding and nearest-park benchmarks.
//!
//! `cargo bench` encodes every tile of the first district copy at z12–z16 and answers random
//! nearest-park queries, on the default data set, or on the data set in `RENEWAL_MAP_BENCH_DATA`
//! (e.g. one made with `renewal-map generate --scale 100`). The tiles measured are the same
//! whatever the data set's size, so K = 1 and K = 100 compare like with like. Before the
//! criterion groups it prints, per zoom, tiles/s, median and p99 µs per tile, features per
//! tile and µs per feature.

mod common;

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use renewal_map::mercator::{MercRect, project};
use renewal_map::model::{BaseKind, Date, SiteFilter};
use renewal_map::nearest::{ParkScope, nearest_parks};
use renewal_map::snapshot::Snapshot;
use renewal_map::tiles::TileCoord;
use renewal_map::tiles::encode::{TileRequest, encode_tile};

/// The Mercator bounds of the first district outline in the data set.
fn first_district(snap: &Snapshot) -> MercRect {
    let (pos, _) = snap
        .base_of(BaseKind::District)
        .next()
        .expect("a district outline");
    snap.fixed.base_shapes.bounds[pos]
}

fn tiles_at(snap: &Snapshot, z: u8) -> Vec<TileCoord> {
    TileCoord::covering(first_district(snap), z).collect()
}

fn today() -> Date {
    Date::from_ymd(2026, 11, 27).unwrap_or_else(Date::today)
}

/// Prints the per-tile figures the closing note reports.
fn report(snap: &Snapshot) {
    let filter = SiteFilter::default();
    println!(
        "data: {} ({} sites, {} base features)",
        common::data_dir().display(),
        snap.sites.len(),
        snap.fixed.base.len()
    );
    println!("zoom  tiles  tiles/s  median_us  p99_us  features/tile  us/feature  bytes/tile");
    let req = |tile| TileRequest {
        tile,
        filter: &filter,
        today: today(),
    };
    for z in 12..=16 {
        let tiles = tiles_at(snap, z);
        let mut times = Vec::with_capacity(tiles.len());
        let (mut features, mut bytes) = (0usize, 0usize);
        let start = Instant::now();
        for &tile in &tiles {
            let t0 = Instant::now();
            let out = encode_tile(snap, req(tile)).expect("encodes");
            times.push(t0.elapsed().as_secs_f64() * 1e6);
            if let Some(b) = out {
                bytes += b.len();
                let reader = mvt_reader::Reader::new(b).expect("decodes");
                let layers = reader.get_layer_names().expect("layers").len();
                features += (0..layers)
                    .map(|i| reader.get_features(i).map(|f| f.len()).unwrap_or(0))
                    .sum::<usize>();
            }
        }
        let total = start.elapsed().as_secs_f64();
        times.sort_by(f64::total_cmp);
        let pct = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
        let n = tiles.len() as f64;
        let encode_us: f64 = times.iter().sum();
        println!(
            "z{z:<3} {:>6} {:>8.0} {:>10.1} {:>7.1} {:>14.1} {:>11.2} {:>11.0}",
            tiles.len(),
            n / total,
            pct(0.5),
            pct(0.99),
            features as f64 / n,
            encode_us / features.max(1) as f64,
            bytes as f64 / n
        );
    }
}

fn bench_tiles(c: &mut Criterion) {
    let snap = common::load();
    report(&snap);
    let filter = SiteFilter::default();
    let req = |tile| TileRequest {
        tile,
        filter: &filter,
        today: today(),
    };
    let mut group = c.benchmark_group("encode_district_tiles");
    group.sample_size(10);
    for z in 12..=16 {
        let tiles = tiles_at(&snap, z);
        group.throughput(Throughput::Elements(tiles.len() as u64));
        group.bench_function(format!("z{z}"), |b| {
            b.iter(|| {
                for &tile in &tiles {
                    black_box(encode_tile(&snap, req(tile)).ok());
                }
            })
        });
    }
    group.finish();

    // The same tiles served from a warm cache (what a repeat request costs before HTTP).
    let cache = renewal_map::tiles::cache::TileCache::new(256 << 20);
    let mut group = c.benchmark_group("cached_district_tiles");
    group.sample_size(10);
    for z in [14, 16] {
        let tiles = tiles_at(&snap, z);
        for &tile in &tiles {
            let _ = cache.get_or_encode(&snap, req(tile));
        }
        group.throughput(Throughput::Elements(tiles.len() as u64));
        group.bench_function(format!("z{z}"), |b| {
            b.iter(|| {
                for &tile in &tiles {
                    black_box(cache.get_or_encode(&snap, req(tile)).ok());
                }
            })
        });
    }
    group.finish();
}

fn bench_nearest(c: &mut Criterion) {
    let snap = common::load();
    let b = first_district(&snap);
    let (w, n) = renewal_map::mercator::unproject(b.min_x, b.min_y);
    let (e, s) = renewal_map::mercator::unproject(b.max_x, b.max_y);
    // A fixed grid of query points over the first district.
    let points: Vec<(f64, f64)> = (0..1000)
        .map(|i| {
            (
                w + (e - w) * ((i % 40) as f64 + 0.5) / 40.0,
                s + (n - s) * ((i / 40) as f64 + 0.5) / 25.0,
            )
        })
        .collect();
    let _ = project(0.0, 0.0);
    let mut group = c.benchmark_group("nearest_parks");
    group.throughput(Throughput::Elements(points.len() as u64));
    for (name, limit) in [("k1", 1), ("k5", 5)] {
        group.bench_function(name, |bch| {
            bch.iter(|| {
                for &(lng, lat) in &points {
                    black_box(nearest_parks(&snap, lng, lat, limit, ParkScope::Open));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_tiles, bench_nearest);
criterion_main!(benches);
