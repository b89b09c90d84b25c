//! MVT against MapLibre Tiles (MLT), per zoom: size and time to make.
//!
//! `cargo bench --bench mlt` encodes every tile of the data set's bounds at z12–z16 (the
//! default data set, or `RENEWAL_MAP_BENCH_DATA`) as MVT, converts each to MLT, and prints
//! per zoom the mean MVT and MLT size, raw and gzipped (the service's gzip level), the mean
//! MVT encode time and the mean MVT → MLT conversion time. Each tile is encoded and converted
//! [`ROUNDS`] times and the fastest round is kept, so the times are not the first-touch ones.

mod common;

use std::time::{Duration, Instant};

use renewal_map::mercator::{MercRect, project};
use renewal_map::model::{Date, SiteFilter};
use renewal_map::tiles::TileCoord;
use renewal_map::tiles::compress::ContentCoding;
use renewal_map::tiles::encode::{TileRequest, encode_tile};
use renewal_map::tiles::mlt::mvt_to_mlt;

/// Times each tile is encoded and converted; the fastest is kept.
const ROUNDS: usize = 3;

fn main() {
    let snap = common::load();
    let today = Date::from_ymd(2026, 11, 27).unwrap_or_else(Date::today);
    let filter = SiteFilter::default();
    let [w, s, e, n] = snap.fixed.lnglat_bounds;
    let ([min_x, min_y], [max_x, max_y]) = (project(w, n), project(e, s));
    let bounds = MercRect {
        min_x,
        min_y,
        max_x,
        max_y,
    };
    println!("data: {}", common::data_dir().display());
    println!(
        "| zoom | tiles | MVT bytes | MLT bytes | MLT/MVT | MVT gzip | MLT gzip | gzip MLT/MVT | MVT encode µs | MLT convert µs |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for z in 12..=16u8 {
        let (mut tiles, mut mvt_b, mut mlt_b, mut mvt_gz, mut mlt_gz) = (0u64, 0, 0, 0, 0);
        let (mut enc_t, mut conv_t) = (Duration::ZERO, Duration::ZERO);
        for tile in TileCoord::covering(bounds, z) {
            let req = TileRequest {
                tile,
                filter: &filter,
                today,
            };
            let (mut best_enc, mut best_conv) = (Duration::MAX, Duration::MAX);
            let mut out = None;
            for _ in 0..ROUNDS {
                let t0 = Instant::now();
                let mvt = encode_tile(&snap, req).unwrap_or_else(|e| panic!("{tile:?}: {e}"));
                best_enc = best_enc.min(t0.elapsed());
                let Some(mvt) = mvt else { break };
                let t1 = Instant::now();
                let mlt = mvt_to_mlt(&mvt).unwrap_or_else(|e| panic!("{tile:?}: {e}"));
                best_conv = best_conv.min(t1.elapsed());
                out = Some((mvt, mlt));
            }
            let Some((mvt, mlt)) = out else { continue };
            tiles += 1;
            enc_t += best_enc;
            conv_t += best_conv;
            mvt_b += mvt.len() as u64;
            mlt_b += mlt.len() as u64;
            mvt_gz += ContentCoding::Gzip.compress(&mvt).len() as u64;
            mlt_gz += ContentCoding::Gzip.compress(&mlt).len() as u64;
        }
        if tiles == 0 {
            println!("| {z} | 0 | | | | | | | | |");
            continue;
        }
        let mean = |b: u64| b / tiles;
        let us = |d: Duration| d.as_secs_f64() * 1e6 / tiles as f64;
        println!(
            "| {z} | {tiles} | {} | {} | {:.2} | {} | {} | {:.2} | {:.0} | {:.0} |",
            mean(mvt_b),
            mean(mlt_b),
            mlt_b as f64 / mvt_b as f64,
            mean(mvt_gz),
            mean(mlt_gz),
            mlt_gz as f64 / mvt_gz as f64,
            us(enc_t),
            us(conv_t),
        );
    }
}
