//! Progress figures: recomputed here independently from the raw data files, so a constant in
//! code or a counting slip in the service shows up as a difference.

mod common;

use std::collections::BTreeMap;

use axum::http::StatusCode;
use common::{default_data, fixture_dir, get, router};
use serde_json::Value;

fn read(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("data file")).expect("JSON")
}

fn is_done(status: &str) -> bool {
    status == "completed" || status == "accepted"
}

#[tokio::test]
async fn stats_match_the_data_files() {
    let dir = default_data();
    let sites = read(&dir.join("sites.geojson"));
    let plan = read(&dir.join("plan.json"));
    let features = sites["features"].as_array().unwrap();
    let today = common::TODAY;

    let mut by_kind: BTreeMap<String, (u32, u32, u32, i64)> = BTreeMap::new();
    for f in features {
        let p = &f["properties"];
        let e = by_kind
            .entry(p["kind"].as_str().unwrap().to_owned())
            .or_default();
        e.0 += 1;
        let status = p["status"].as_str().unwrap();
        if is_done(status) {
            e.1 += 1;
        } else if p["planned_finish"].as_str().unwrap() < today {
            e.2 += 1;
        }
        e.3 += (p["investment_wan"].as_f64().unwrap() * 10.0).round() as i64;
    }

    let router = router(&dir);
    let stats = get(&router, "/api/stats")
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(stats["as_of"], today);
    for k in stats["kinds"].as_array().unwrap() {
        let kind = k["kind"].as_str().unwrap();
        let (count, done, late, tenths) = by_kind[kind];
        assert_eq!(k["sites"], count, "{kind}");
        assert_eq!(k["completed"], done, "{kind}");
        assert_eq!(k["late"], late, "{kind}");
        assert_eq!(
            k["target"], plan["targets"][kind],
            "{kind} target comes from the plan"
        );
        assert!(
            (k["investment_wan"].as_f64().unwrap() * 10.0 - tenths as f64).abs() < 0.5,
            "{kind}"
        );
        let pct = 100.0 * f64::from(done) / plan["targets"][kind].as_f64().unwrap();
        assert!(
            (k["percent_of_target"].as_f64().unwrap() - pct).abs() < 0.06,
            "{kind}"
        );
    }
    // The Huanggu plan as published, read from the data, and the data set fulfilling it.
    assert_eq!(plan["targets"]["compound"], 89);
    assert_eq!(plan["targets"]["pocket_park"], 100);
    assert_eq!(by_kind["compound"].0, 89);
    assert_eq!(by_kind["pocket_park"].0, 100);
    assert_eq!(by_kind["road"].0, 8);
    assert_eq!(by_kind["alley"].0, 40);
    for (p, target) in stats["programmes"]
        .as_array()
        .unwrap()
        .iter()
        .zip(plan["programmes"].as_array().unwrap())
    {
        assert_eq!(p["target_projects"], target["projects"]);
        assert_eq!(
            p["projects"], target["projects"],
            "the data has the plan's projects"
        );
        assert_eq!(p["investment_wan"], target["investment_wan"]);
    }
    let sum_sites: u64 = stats["subdistricts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["sites"].as_u64().unwrap())
        .sum();
    assert_eq!(
        sum_sites,
        features.len() as u64,
        "every site falls in one sub-district"
    );
    assert_eq!(stats["totals"]["sites"], features.len());
}

#[tokio::test]
async fn park_access_counts_compounds_and_households() {
    let dir = fixture_dir();
    let router = router(dir.path());
    let stats = get(&router, "/api/stats")
        .await
        .expect(StatusCode::OK)
        .json();
    let access = &stats["park_access"];
    assert_eq!(access["compounds"], 1);
    assert_eq!(access["households"], 420);
    assert_eq!(access["open_parks"], 2);
    // The compound's interior point is about 1.1 km from park-001 (the nearest open park):
    // outside both radii.
    assert_eq!(access["radii"][0]["radius_m"], 300.0);
    assert_eq!(access["radii"][1]["compounds"], 0);
    // As of an earlier date, fewer sites are late.
    let early = get(&router, "/api/stats?late_as_of=2026-01-01")
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(early["totals"]["late"], 0);
    assert_eq!(stats["totals"]["late"], 3);
}
