//! Park access against references on the default data: each compound's walking distance
//! against petgraph's Dijkstra from its own gates over the same graph (random compounds),
//! and the incremental model after parks open and close, or one moves, against a model
//! computed from scratch.

mod common;

use std::sync::Arc;

use common::{default_data, snapshot};
use petgraph::algo::dijkstra;
use renewal_map::access::{AccessModel, Method};
use renewal_map::model::{RenewalKind, RenewalStatus};
use renewal_map::snapshot::Snapshot;

/// A small deterministic generator for test choices.
#[test]
fn compound_walks_match_petgraph_dijkstra_on_random_compounds() {
    let snap = snapshot(&default_data());
    let model = AccessModel::build(&snap);
    let net = &model.network;
    let mut rng = common::Rng(1414);
    let mut checked = 0;
    for _ in 0..40 {
        let c = rng.below(net.compounds.len() as u64) as usize;
        // The reference: from each of the compound's gates, every node's distance; the walk
        // is the best gate offset plus distance to any gate of any open park.
        let mut want = f64::INFINITY;
        for g in &net.compounds[c].gates {
            let from_gate = dijkstra(&net.graph, g.node, None, |e| *e.weight());
            for (p, park) in net.parks.iter().enumerate() {
                if !model.open[p] {
                    continue;
                }
                for pg in &park.gates {
                    if let Some(d) = from_gate.get(&pg.node) {
                        want = want.min(g.offset_m + d);
                    }
                }
            }
        }
        match model.walk[c] {
            Some(n) => {
                assert!(
                    (n.distance_m - want).abs() < 1e-6,
                    "compound {c}: {} vs Dijkstra {want}",
                    n.distance_m
                );
                assert!(
                    model.open[n.park as usize],
                    "compound {c} walks to a closed park"
                );
                checked += 1;
            }
            None => assert!(want.is_infinite(), "compound {c}: none vs Dijkstra {want}"),
        }
    }
    assert!(checked > 30, "only {checked} compounds reach a park");
}

/// `snap` with the sites `ids` set to `status`.
fn with_status(snap: &Snapshot, ids: &[String], status: RenewalStatus) -> Snapshot {
    let mut s = snap.clone();
    for id in ids {
        let mut site = (**s.site(id).expect("site")).clone();
        site.status = status;
        s = s.with_site(site).expect("known site");
    }
    s
}

fn assert_same(got: &AccessModel, want: &AccessModel, snap: &Snapshot, what: &str) {
    assert_eq!(got.open, want.open, "{what}: open parks");
    assert_eq!(got.straight, want.straight, "{what}: straight");
    assert_eq!(got.walk, want.walk, "{what}: network");
    assert_eq!(got.indicator, want.indicator, "{what}: indicator");
    for method in Method::ALL {
        assert_eq!(
            got.summary(snap, method, &[300.0, 500.0]).district,
            want.summary(snap, method, &[300.0, 500.0]).district,
            "{what}: {method} summary"
        );
    }
}

#[test]
fn incremental_model_equals_a_full_computation() {
    let snap = snapshot(&default_data());
    let model = AccessModel::build(&snap);
    let parks = |open: bool| -> Vec<String> {
        snap.sites
            .iter()
            .filter(|s| s.kind == RenewalKind::PocketPark && s.is_open() == open)
            .map(|s| s.id.to_string())
            .collect()
    };
    let (planned, open) = (parks(false), parks(true));
    assert!(
        planned.len() >= 6 && open.len() >= 3,
        "{planned:?} {open:?}"
    );

    // Three parks open: same network, and the figures of a fresh computation.
    let opened = with_status(&snap, &planned[..3], RenewalStatus::Completed);
    let next = model.advance(&opened);
    assert!(Arc::ptr_eq(&next.network, &model.network));
    assert_same(
        &next,
        &AccessModel::on_network(&opened, Arc::clone(&model.network)),
        &opened,
        "three open",
    );
    let before = model.summary(&snap, Method::Network, &[500.0]).district;
    let after = next.summary(&opened, Method::Network, &[500.0]).district;
    assert!(after.radii[0].households >= before.radii[0].households);

    // Then two open parks close (a planner's backward move) and three more open.
    let closed = with_status(&opened, &open[..2], RenewalStatus::UnderConstruction);
    let mixed = with_status(&closed, &planned[3..6], RenewalStatus::Accepted);
    let after_mixed = next.advance(&mixed);
    assert_same(
        &after_mixed,
        &AccessModel::build(&mixed),
        &mixed,
        "two closed, three more open",
    );

    // A park moves: a new network, equal to one built from scratch.
    let mut moved = (**mixed.site(&open[2]).expect("park")).clone();
    use geo::Translate;
    moved.geometry = moved.geometry.translate(0.004, 0.002);
    let moved_snap = mixed.with_site(moved).expect("known site");
    let after_move = after_mixed.advance(&moved_snap);
    assert!(!Arc::ptr_eq(&after_move.network, &after_mixed.network));
    assert_same(
        &after_move,
        &AccessModel::build(&moved_snap),
        &moved_snap,
        "one moved",
    );
}
