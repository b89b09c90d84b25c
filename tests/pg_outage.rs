//! The database goes away under two running instances and comes back (issue 8): meanwhile
//! both serve reads from their snapshot with `/health` `degraded` (200), writes get 503 with
//! `Retry-After` and change nothing; afterwards both reconnect and catch up, without a
//! restart. The cluster itself is stopped (`pg_ctl stop -m fast`) and started, so this file
//! holds one test: test binaries run one at a time, tests within one in parallel.
//!
//! Skipped, with the reason printed, when `RENEWAL_MAP_TEST_PG` is unset.

mod common;

use std::time::Duration;

use common::http;
use common::pg::{Instance, cluster, connect, ctl, fresh_database, planner};
use common::store::Fixture;

fn health(i: &Instance) -> (u16, String) {
    let (status, body) = i.get("/health");
    (
        status,
        body["status"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
fn instances_ride_out_a_database_outage_and_catch_up() {
    let Some(cluster) = cluster("pg_outage") else {
        return;
    };
    let fx = Fixture::new();
    let url = fresh_database(&cluster);
    let token = planner(&url, fx.path(), "outage");
    let a = Instance::start(&url, fx.path());
    let b = Instance::start(&url, fx.path());
    let (status, v2) = a
        .patch(&token, "park-002", 1, r#"{"note":"before the outage"}"#)
        .expect("A answers");
    assert_eq!(status, 200);
    b.wait_for(Duration::from_secs(2), |b| {
        b.version("park-002") == Some(v2)
    })
    .expect("B sees the first write");

    ctl("stop");
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        for i in [&a, &b] {
            i.wait_for(Duration::from_secs(5), |i| {
                health(i) == (200, "degraded".into())
            })
            .unwrap_or_else(|| panic!("{} never said degraded: {:?}", i.addr, health(i)));
            // Reads go on from memory: items, tiles, stats.
            assert_eq!(i.version("park-002"), Some(v2));
            let (status, _) = i.get("/api/stats");
            assert_eq!(status, 200, "stats while the database is down");
            let (status, _, _) =
                http(i.addr, "GET", "/tiles/12/3452/1523.mvt", &[], "").expect("tile answer");
            assert!(status == 200 || status == 204, "tile while down: {status}");
        }
        // A write is refused with 503 and Retry-After.
        let auth = format!("Bearer {token}");
        let (status, headers, body) = http(
            a.addr,
            "PATCH",
            "/api/sites/park-002",
            &[
                ("authorization", &auth),
                ("if-match", &format!("\"{v2}\"")),
                ("content-type", "application/json"),
            ],
            r#"{"note":"during the outage"}"#,
        )
        .expect("A answers while the database is down");
        assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
        assert!(
            headers.iter().any(|(k, _)| k == "retry-after"),
            "no Retry-After: {headers:?}"
        );
        let error: serde_json::Value = serde_json::from_slice(&body).expect("JSON error");
        assert_eq!(error["error"], "store_unavailable", "{error}");
    }));
    ctl("start");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }

    for i in [&a, &b] {
        i.wait_for(Duration::from_secs(10), |i| health(i) == (200, "ok".into()))
            .unwrap_or_else(|| panic!("{} not ok after the outage: {:?}", i.addr, health(i)));
    }
    // Nothing of the refused write was stored.
    let mut db = connect(&url);
    let changes: i64 = db
        .query_one("SELECT count(*) FROM change", &[])
        .expect("count")
        .get(0);
    assert_eq!(changes, 1, "the refused write left a change");
    // Writes work again on both, and each sees the other's.
    let (status, v3) = b
        .patch(
            &token,
            "park-002",
            v2,
            r#"{"note":"after the outage, on B"}"#,
        )
        .expect("B answers");
    assert_eq!(status, 200, "write on B after the outage");
    a.wait_for(Duration::from_secs(2), |a| {
        a.version("park-002") == Some(v3)
    })
    .expect("A catches up with B's write after reconnecting");
    let (status, v4) = a
        .patch(
            &token,
            "park-002",
            v3,
            r#"{"note":"after the outage, on A"}"#,
        )
        .expect("A answers");
    assert_eq!(status, 200, "write on A after the outage");
    b.wait_for(Duration::from_secs(2), |b| {
        b.version("park-002") == Some(v4)
    })
    .expect("B sees A's write after the outage");
}
