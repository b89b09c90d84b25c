//! Idempotency keys raced across real `serve` instances on one PostgreSQL database (issue 8):
//! the same key sent to two instances at once is applied once and every other answer is its
//! replay (`Idempotent-Replayed: true`, the same version), or 422 when the body differs;
//! different keys racing on one site give one 200 and 412s. Never a 500.
//!
//! Skipped, with the reason printed, when `RENEWAL_MAP_TEST_PG` is unset (scripts/test sets
//! it). `PG_RACE_ROUNDS` sets the number of rounds (default 25).

mod common;

use std::sync::{Arc, Barrier};

use common::http;
use common::pg::{Instance, cluster, connect, fresh_database, planner};
use common::store::Fixture;

const SITE: &str = "park-001";

fn rounds() -> usize {
    std::env::var("PG_RACE_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(25)
}

/// What one racer got: status, `ETag` version, whether it was a replay.
#[derive(Debug, Clone, PartialEq)]
struct Answer {
    status: u16,
    version: Option<u64>,
    replayed: bool,
}

/// `PATCH /api/sites/SITE` with `If-Match: version` and an idempotency key.
fn patch_with_key(node: &Instance, token: &str, version: u64, key: &str, body: &str) -> Answer {
    let auth = format!("Bearer {token}");
    let if_match = format!("\"{version}\"");
    let (status, headers, reply) = http(
        node.addr,
        "PATCH",
        &format!("/api/sites/{SITE}"),
        &[
            ("authorization", &auth),
            ("if-match", &if_match),
            ("idempotency-key", key),
            ("content-type", "application/json"),
        ],
        body,
    )
    .expect("the instance answers");
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert!(
        status < 500,
        "a {status} in a race: {}",
        String::from_utf8_lossy(&reply)
    );
    Answer {
        status,
        version: header("etag").and_then(|e| e.trim_matches('"').parse().ok()),
        replayed: header("idempotent-replayed").as_deref() == Some("true"),
    }
}

/// Fires `requests` (instance index, key, body) at once, all with `If-Match: version`.
fn race(
    nodes: &Arc<Vec<Instance>>,
    token: &str,
    version: u64,
    requests: Vec<(usize, String, String)>,
) -> Vec<Answer> {
    let barrier = Arc::new(Barrier::new(requests.len()));
    let threads: Vec<_> = requests
        .into_iter()
        .map(|(node, key, body)| {
            let (nodes, barrier, token) =
                (Arc::clone(nodes), Arc::clone(&barrier), token.to_owned());
            std::thread::spawn(move || {
                barrier.wait();
                patch_with_key(&nodes[node], &token, version, &key, &body)
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("racer"))
        .collect()
}

fn start_two(test: &str) -> Option<(Fixture, String, String, Arc<Vec<Instance>>)> {
    let cluster = cluster(test)?;
    let fx = Fixture::new();
    let url = fresh_database(&cluster);
    let token = planner(&url, fx.path(), "racer");
    let nodes = Arc::new(vec![
        Instance::start(&url, fx.path()),
        Instance::start(&url, fx.path()),
    ]);
    Some((fx, url, token, nodes))
}

#[test]
fn one_key_raced_on_two_instances_is_applied_once_and_replayed_to_the_rest() {
    let Some((_fx, url, token, nodes)) = start_two("pg_idempotency::same_key") else {
        return;
    };
    let rounds = rounds();
    let mut version = 1;
    for round in 0..rounds {
        let key = format!("race-{round}");
        let body = format!(r#"{{"note":"round {round}"}}"#);
        // Two racers on each instance: the same instance's pair meet at its writer lock, the
        // two instances' at the database.
        let answers = race(
            &nodes,
            &token,
            version,
            (0..4).map(|i| (i % 2, key.clone(), body.clone())).collect(),
        );
        assert!(
            answers.iter().all(|a| a.status == 200),
            "round {round}: {answers:?}"
        );
        assert!(
            answers.iter().all(|a| a.version == Some(version + 1)),
            "round {round}: not one version: {answers:?}"
        );
        let fresh = answers.iter().filter(|a| !a.replayed).count();
        assert_eq!(
            fresh, 1,
            "round {round}: one applied, the rest replayed: {answers:?}"
        );
        version += 1;
    }
    let mut db = connect(&url);
    let row = db
        .query_one(
            "SELECT count(*), count(DISTINCT idempotency_key), max(version) FROM change",
            &[],
        )
        .expect("count");
    let (changes, keys, max): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(
        (changes, keys, max),
        (rounds as i64, rounds as i64, rounds as i64 + 1),
        "one change per key"
    );
    // Both instances show the final version, and a late repeat on either is a replay.
    for node in nodes.iter() {
        node.wait_for(std::time::Duration::from_secs(5), |n| {
            n.version(SITE) == Some(version)
        })
        .expect("both instances reach the last version");
    }
    let last = rounds - 1;
    let late = patch_with_key(
        &nodes[1],
        &token,
        version - 1,
        &format!("race-{last}"),
        &format!(r#"{{"note":"round {last}"}}"#),
    );
    assert_eq!(
        late,
        Answer {
            status: 200,
            version: Some(version),
            replayed: true
        }
    );
    eprintln!("pg idempotency: {rounds} rounds of 4 racers on 2 instances, one change each");
}

#[test]
fn one_key_with_two_bodies_raced_gives_one_write_and_a_422() {
    let Some((_fx, url, token, nodes)) = start_two("pg_idempotency::key_reused") else {
        return;
    };
    let rounds = rounds();
    for round in 0..rounds {
        let version = round as u64 + 1;
        let key = format!("reused-{round}");
        let answers = race(
            &nodes,
            &token,
            version,
            (0..2)
                .map(|i| {
                    (
                        i,
                        key.clone(),
                        format!(r#"{{"note":"body {i} of {round}"}}"#),
                    )
                })
                .collect(),
        );
        let mut statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
        statuses.sort();
        assert_eq!(statuses, [200, 422], "round {round}: {answers:?}");
    }
    let changes: i64 = connect(&url)
        .query_one("SELECT count(*) FROM change", &[])
        .expect("count")
        .get(0);
    assert_eq!(changes, rounds as i64, "one change per key");
}

#[test]
fn different_keys_raced_on_one_site_give_one_write_and_412s() {
    let Some((_fx, url, token, nodes)) = start_two("pg_idempotency::different_keys") else {
        return;
    };
    let rounds = rounds();
    for round in 0..rounds {
        let version = round as u64 + 1;
        let answers = race(
            &nodes,
            &token,
            version,
            (0..4)
                .map(|i| {
                    (
                        i % 2,
                        format!("k{i}-{round}"),
                        format!(r#"{{"note":"racer {i} of {round}"}}"#),
                    )
                })
                .collect(),
        );
        let won: Vec<&Answer> = answers.iter().filter(|a| a.status == 200).collect();
        assert_eq!(won.len(), 1, "round {round}: {answers:?}");
        assert_eq!(won[0].version, Some(version + 1));
        assert!(
            answers.iter().all(|a| a.status == 200 || a.status == 412),
            "round {round}: {answers:?}"
        );
        assert!(!won[0].replayed, "round {round}: a new key is not a replay");
    }
    let changes: i64 = connect(&url)
        .query_one("SELECT count(*) FROM change", &[])
        .expect("count")
        .get(0);
    assert_eq!(changes, rounds as i64, "one change per round");
}
