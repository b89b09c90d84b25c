//! Park access benchmarks (issue 14).
//!
//! `cargo bench --bench access` times, on the default data set or the one in
//! `RENEWAL_MAP_BENCH_DATA` (e.g. made with `renewal-map generate --scale 100`):
//!
//! - `build_network`: the pedestrian network of a loaded snapshot (streets noded at every
//!   crossing, gates and access links);
//! - `compute`: every figure on that network (nearest open park of every compound by the
//!   three methods), the summary of each method for 300 m and 500 m, and the next-parks
//!   ranking (network, 500 m) that `/api/access/next-parks` serves by default;
//! - `update_park_opens`: one planned park opening: the new snapshot (`Snapshot::with_site`)
//!   and the access model derived from the previous one (`AccessModel::advance`, the
//!   incremental path the service's cache takes); `advance_only` without the snapshot.
//!
//! Before the criterion groups it prints one timed pass of each step, broken down, so a
//! single run gives the figures `docs/access.md` reports.

mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use renewal_map::access::rank::next_parks;
use renewal_map::access::{AccessModel, Method};
use renewal_map::model::{RenewalKind, RenewalStatus};
use renewal_map::snapshot::Snapshot;
use renewal_map::walk::WalkNetwork;

/// The radii `/api/access` reports by default.
const RADII_M: [f64; 2] = [300.0, 500.0];

/// Every figure `/api/access` and `/api/access/next-parks` serve by default, on `network`.
fn compute(snap: &Snapshot, network: &Arc<WalkNetwork>) -> AccessModel {
    let model = AccessModel::on_network(snap, Arc::clone(network));
    for method in Method::ALL {
        black_box(model.summary(snap, method, &RADII_M));
    }
    black_box(next_parks(&model, snap, Method::Network, 500.0));
    model
}

/// `snap` with its first pocket park that is not open (in site order) completed.
fn one_park_opens(snap: &Snapshot) -> Snapshot {
    let planned = snap
        .sites
        .iter()
        .find(|s| s.kind == RenewalKind::PocketPark && !s.is_open())
        .expect("a park not yet open");
    let mut site = (**planned).clone();
    site.status = RenewalStatus::Completed;
    snap.with_site(site).expect("the park is in the snapshot")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// One timed pass of each step, broken down, with the sizes involved.
fn report(snap: &Snapshot) {
    let kind_count = |k: RenewalKind| snap.sites.iter().filter(|s| s.kind == k).count();
    println!(
        "data: {} ({} compounds, {} pocket parks, {} base features)",
        common::data_dir().display(),
        kind_count(RenewalKind::Compound),
        kind_count(RenewalKind::PocketPark),
        snap.fixed.base.len()
    );
    let t = Instant::now();
    let network = Arc::new(WalkNetwork::build(snap));
    let build = t.elapsed();
    println!("network: {:?}", network.summary);
    let t = Instant::now();
    let model = AccessModel::on_network(snap, Arc::clone(&network));
    let nearest = t.elapsed();
    let t = Instant::now();
    for method in Method::ALL {
        black_box(model.summary(snap, method, &RADII_M));
    }
    let summaries = t.elapsed();
    let mut ranks = Vec::new();
    for method in Method::ALL {
        let t = Instant::now();
        let r = next_parks(&model, snap, method, 500.0);
        ranks.push((method, t.elapsed(), r.candidates));
    }
    println!("build network          {:>9.1} ms", ms(build));
    println!("nearest park, 3 methods{:>9.1} ms", ms(nearest));
    println!("summaries 300,500 x3   {:>9.1} ms", ms(summaries));
    for (method, d, candidates) in &ranks {
        println!(
            "next-parks {:<9} 500 m{:>9.1} ms ({candidates} candidates)",
            method.as_str(),
            ms(*d)
        );
    }
    let network_rank = ranks
        .iter()
        .find(|r| r.0 == Method::Network)
        .map_or(Duration::ZERO, |r| r.1);
    println!(
        "build + compute (network ranking) {:.1} ms",
        ms(build + nearest + summaries + network_rank)
    );
    let t = Instant::now();
    let next = one_park_opens(snap);
    let derive = t.elapsed();
    let t = Instant::now();
    let advanced = model.advance(&next);
    let advance = t.elapsed();
    assert!(
        Arc::ptr_eq(&advanced.network, &model.network),
        "a status change keeps the network"
    );
    println!(
        "one park opens: snapshot {:.2} ms + advance {:.2} ms",
        ms(derive),
        ms(advance)
    );
}

fn bench_access(c: &mut Criterion) {
    let snap = common::load();
    report(&snap);
    let network = Arc::new(WalkNetwork::build(&snap));
    let model = AccessModel::on_network(&snap, Arc::clone(&network));
    let next = one_park_opens(&snap);

    let mut group = c.benchmark_group("access");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("build_network", |b| {
        b.iter(|| black_box(WalkNetwork::build(&snap)))
    });
    group.bench_function("compute", |b| {
        b.iter(|| black_box(compute(&snap, &network)))
    });
    group.bench_function("update_park_opens", |b| {
        b.iter(|| black_box(model.advance(&one_park_opens(&snap))))
    });
    group.bench_function("advance_only", |b| {
        b.iter(|| black_box(model.advance(&next)))
    });
    group.finish();
}

criterion_group!(benches, bench_access);
criterion_main!(benches);
