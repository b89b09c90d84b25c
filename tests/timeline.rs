//! `/api/stats/timeline`: the series are recomputed here from the data files, and a
//! completion recorded in the store moves the `completed` series.

mod common;

use std::collections::BTreeMap;

use common::store::{Fixture, patch, router_of, token};
use common::{default_data, get, router};
use renewal_map::model::Role;
use serde_json::Value;

fn last_completed(kind: &Value) -> (usize, u64) {
    let c = kind["completed"].as_array().expect("completed series");
    let i = c
        .iter()
        .rposition(|v| !v.is_null())
        .expect("some month has a value");
    (i, c[i].as_u64().expect("a count"))
}

#[tokio::test]
async fn timeline_matches_the_data_files() {
    let dir = default_data();
    let sites: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("sites.geojson")).unwrap()).unwrap();
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).unwrap()).unwrap();
    let mut want: BTreeMap<String, (u64, u64, Vec<String>)> = BTreeMap::new();
    for f in sites["features"].as_array().unwrap() {
        let p = &f["properties"];
        let e = want
            .entry(p["kind"].as_str().unwrap().to_owned())
            .or_default();
        e.0 += 1;
        if matches!(p["status"].as_str(), Some("completed" | "accepted")) {
            e.1 += 1;
            e.2.push(p["updated_at"].as_str().unwrap()[..7].to_owned());
        }
    }
    let r = router(&dir);
    let t = get(&r, "/api/stats/timeline").await.expect(200).json();
    let months: Vec<&str> = t["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert!(months.len() > 12, "{months:?}");
    assert_eq!(t["basis"]["from_history"], 0);
    for k in t["kinds"].as_array().unwrap() {
        let kind = k["kind"].as_str().unwrap();
        let (total, done, done_months) = &want[kind];
        assert_eq!(k["target"], plan["targets"][kind], "{kind}");
        let planned = k["planned"].as_array().unwrap();
        assert_eq!(planned.len(), months.len());
        assert_eq!(planned.last().unwrap().as_u64(), Some(*total), "{kind}");
        assert!(planned.windows(2).all(|w| w[0].as_u64() <= w[1].as_u64()));
        let (i, n) = last_completed(k);
        assert_eq!(n, *done, "{kind}");
        // Month by month: done sites counted from the month of their `updated_at`.
        for (j, m) in months.iter().enumerate().take(i + 1) {
            let by_then = done_months.iter().filter(|d| d.as_str() <= *m).count() as u64;
            assert_eq!(k["completed"][j].as_u64(), Some(by_then), "{kind} {m}");
        }
        // Nothing after today's month (2026-11 in the test config).
        assert!(
            months[i] >= "2026-11",
            "{kind}: last value in {}",
            months[i]
        );
        assert!(
            k["completed"].as_array().unwrap()[i + 1..]
                .iter()
                .all(Value::is_null)
        );
    }
}

#[tokio::test]
async fn a_recorded_completion_moves_the_series() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let planner = token(&store, "Planner", Role::Planner, &[], &[]);
    let before = get(&app, "/api/stats/timeline").await.expect(200).json();
    let park = |t: &Value| {
        t["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kind"] == "pocket_park")
            .cloned()
            .unwrap()
    };
    let (_, n0) = last_completed(&park(&before));
    patch(
        &app,
        "park-001",
        Some(&planner),
        Some(1),
        r#"{"status":"completed"}"#,
    )
    .await
    .expect(200);
    let after = get(&app, "/api/stats/timeline").await.expect(200).json();
    let (_, n1) = last_completed(&park(&after));
    assert_eq!(n1, n0 + 1);
    assert_eq!(after["basis"]["from_history"], 1);
    assert!(
        get(&app, "/api/stats/timeline?x=1")
            .await
            .status
            .is_client_error()
    );
}
