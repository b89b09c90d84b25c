//! Status updates through the router: the happy path, history and feed, If-Match, the auth
//! matrix, bad bodies, lifecycle rules, concurrency, and writes showing on the map at once.

mod common;

use axum::body::Body;
use axum::http::Method;
use common::store::{Fixture, PARK_001, SUB_A, SUB_B, patch, router_of, token, version};
use common::{get, send};
use renewal_map::model::{Role, SitePatch, Timestamp, apply_patch};
use renewal_map::store::{ChangeContext, OpenMode, Store, StoreError};
use serde_json::{Value, json};

#[tokio::test]
async fn field_team_updates_its_site_and_history_records_it() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let team = token(&store, "Team 3", Role::Field, &[SUB_A.1], &[]);

    let before = get(&app, "/api/sites/road-001").await.expect(200);
    assert_eq!(before.etag().as_deref(), Some("\"1\""));
    let r = patch(
        &app,
        "road-001",
        Some(&team),
        Some(1),
        r#"{"status":"under_construction","progress":60,"note":"梅江街 under construction"}"#,
    )
    .await
    .expect(200);
    assert_eq!(r.etag().as_deref(), Some("\"2\""));
    let body = r.json();
    assert_eq!(body["type"], "Feature");
    assert_eq!(body["id"], "road-001");
    assert_eq!(body["properties"]["status"], "under_construction");
    assert_eq!(body["properties"]["progress"], 60);
    assert_eq!(body["properties"]["version"], 2);
    assert_eq!(body["properties"]["note"], "梅江街 under construction");
    // Same shape as GET.
    let again = get(&app, "/api/sites/road-001").await.expect(200);
    assert_eq!(again.json(), body);

    let h = get(&app, "/api/sites/road-001/history")
        .await
        .expect(200)
        .json();
    assert_eq!(h["site"], "road-001");
    let changes = h["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 1);
    let c = &changes[0];
    assert_eq!(c["actor"], "Team 3");
    assert_eq!(c["role"], "field");
    assert_eq!(c["from"], json!({"status": "design", "progress": 5}));
    assert_eq!(
        c["to"],
        json!({"status": "under_construction", "progress": 60})
    );
    assert_eq!(c["note"], "梅江街 under construction");
    assert_eq!(c["reason"], Value::Null);
    assert_eq!(c["version"], 2);
    assert!(c["at"].as_str().is_some_and(|a| a.ends_with('Z')), "{c}");

    let feed = get(&app, "/api/changes?since=0").await.expect(200).json();
    assert_eq!(feed["changes"][0]["site"], "road-001");
    let next = feed["next_since"].as_i64().expect("next_since");
    assert_eq!(Some(next), feed["changes"][0]["seq"].as_i64());
    let empty = get(&app, &format!("/api/changes?since={next}"))
        .await
        .expect(200)
        .json();
    assert_eq!(empty, json!({"changes": [], "next_since": next}));
    get(&app, "/api/changes?since=-1").await.expect(400);
    get(&app, "/api/changes?limit=0").await.expect(400);

    // "My sites".
    let me = send(
        &app,
        Method::GET,
        "/api/me",
        &[("authorization", &format!("Bearer {team}"))],
        Body::empty(),
    )
    .await
    .expect(200)
    .json();
    assert_eq!(me["name"], "Team 3");
    assert_eq!(me["role"], "field");
    assert_eq!(me["subdistricts"], json!([SUB_A.1]));
    assert_eq!(me["sites"], json!(["park-001", "road-001"]));
    get(&app, "/api/me").await.expect(401);

    // A restart (new store handle, new snapshot) serves the stored state.
    drop(app);
    drop(state);
    drop(store);
    let (state2, _store2) = fx.open();
    let app2 = router_of(&state2);
    let after = get(&app2, "/api/sites/road-001").await.expect(200).json();
    assert_eq!(after["properties"]["status"], "under_construction");
    assert_eq!(after["properties"]["version"], 2);
    assert_eq!(
        after["properties"]["updated_at"],
        body["properties"]["updated_at"]
    );
}

#[tokio::test]
async fn if_match_is_required_and_checked() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let planner = token(&store, "Planner", Role::Planner, &[], &[]);
    let body = r#"{"progress":50}"#;

    let r = patch(&app, "compound-001", Some(&planner), None, body)
        .await
        .expect(428);
    assert_eq!(r.json()["error"], "precondition_required");
    let with_if_match = |tag: &'static str| {
        let auth = format!("Bearer {planner}");
        let app = app.clone();
        async move {
            send(
                &app,
                Method::PATCH,
                "/api/sites/compound-001",
                &[("authorization", &auth), ("if-match", tag)],
                body,
            )
            .await
        }
    };
    // Not an entity tag at all: 400.
    for bad in ["3", "W/3", "\"1", "\"1\"x", ",", "1, \"1\""] {
        let r = with_if_match(bad).await.expect(400);
        assert_eq!(r.json()["error"], "invalid_if_match", "{bad}");
    }
    // A wildcard names no version: 428, saying why.
    for any in ["*", " * "] {
        let r = with_if_match(any).await.expect(428);
        let j = r.json();
        assert_eq!(j["error"], "precondition_required", "{any}");
        assert!(
            j["message"].as_str().is_some_and(|m| m.contains("*")),
            "{j}"
        );
    }
    // Well-formed tags that are not the current ETag by exact string: 412. Weak tags never
    // match for If-Match (RFC 9110 §13.1.1).
    for other in [
        "W/\"1\"",
        "\"x\"",
        "\"01\"",
        "\"+1\"",
        "\" 1\"",
        "\"\"",
        "\"2\", W/\"1\"",
    ] {
        let r = with_if_match(other).await.expect(412);
        assert_eq!(r.json()["error"], "version_mismatch", "{other}");
        assert_eq!(r.etag().as_deref(), Some("\"1\""), "{other}");
    }
    assert_eq!(store.change_count(None).expect("count"), 0);
    // A list matches when any entry does.
    with_if_match("\"7\", W/\"1\",\"1\"").await.expect(200);
    let stale = patch(
        &app,
        "compound-001",
        Some(&planner),
        Some(1),
        r#"{"progress":70}"#,
    )
    .await
    .expect(412);
    assert_eq!(stale.etag().as_deref(), Some("\"2\""));
    let j = stale.json();
    assert_eq!(j["error"], "version_mismatch");
    assert_eq!(j["current"]["id"], "compound-001");
    assert_eq!(j["current"]["properties"]["progress"], 50);
    assert_eq!(j["current"]["properties"]["version"], 2);
    patch(
        &app,
        "compound-001",
        Some(&planner),
        Some(7),
        r#"{"progress":70}"#,
    )
    .await
    .expect(412);
    assert_eq!(store.change_count(Some("compound-001")).expect("count"), 1);
    patch(&app, "nope-404", Some(&planner), Some(1), body)
        .await
        .expect(404);
}

/// An auth-matrix row: case, token, site, body, status, error or rule.
type Case<'a> = (&'a str, Option<String>, &'a str, &'a str, u16, &'a str);

/// Every way a write can lack rights: the code, and nothing changed anywhere.
#[tokio::test]
async fn auth_matrix() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let team_a = token(&store, "Team A", Role::Field, &[SUB_A.0], &[]);
    let team_b_site = token(&store, "Team B site", Role::Field, &[], &["park-002"]);
    let revoked = token(&store, "Gone", Role::Planner, &[], &[]);
    store.revoke("Gone").expect("revoke");
    let admin = token(&store, "Admin", Role::Admin, &[], &[]);
    let unknown = format!("rm_{}", "0".repeat(64));

    // (case, token, site, version, body, status, error or rule)
    let cases: Vec<Case> = vec![
        (
            "no token",
            None,
            "road-001",
            r#"{"status":"tendering"}"#,
            401,
            "unauthorized",
        ),
        (
            "garbage",
            Some("garbage".into()),
            "road-001",
            r#"{"status":"tendering"}"#,
            401,
            "unauthorized",
        ),
        (
            "not bearer",
            Some(format!("Basic {team_a}")),
            "road-001",
            r#"{"status":"tendering"}"#,
            401,
            "unauthorized",
        ),
        (
            "unknown",
            Some(unknown),
            "road-001",
            r#"{"status":"tendering"}"#,
            401,
            "unauthorized",
        ),
        (
            "revoked",
            Some(revoked),
            "road-001",
            r#"{"status":"tendering"}"#,
            401,
            "unauthorized",
        ),
        (
            "other team's sub-district",
            Some(team_a.clone()),
            "compound-001",
            r#"{"progress":50}"#,
            403,
            "outside_assignment",
        ),
        (
            "other team's site",
            Some(team_b_site.clone()),
            "park-001",
            r#"{"status":"design"}"#,
            403,
            "outside_assignment",
        ),
        (
            "field moves back",
            Some(team_a.clone()),
            "road-001",
            r#"{"status":"planned","reason":"x"}"#,
            403,
            "backward_requires_planner",
        ),
        (
            "field accepts a site",
            Some(team_a.clone()),
            "road-001",
            r#"{"status":"accepted"}"#,
            403,
            "acceptance_requires_planner",
        ),
        (
            "field lowers progress",
            Some(team_a.clone()),
            "road-001",
            r#"{"progress":1,"reason":"x"}"#,
            403,
            "progress_decrease_requires_planner",
        ),
        (
            "field edits plan",
            Some(team_a.clone()),
            "road-001",
            r#"{"planned_finish":"2027-01-01"}"#,
            403,
            "plan_fields_require_planner",
        ),
        (
            "field edits money",
            Some(team_a.clone()),
            "road-001",
            r#"{"investment_wan":1}"#,
            403,
            "plan_fields_require_planner",
        ),
        (
            "field reopens a completed park",
            Some(team_b_site.clone()),
            "park-002",
            r#"{"status":"under_construction","reason":"x"}"#,
            403,
            "backward_requires_planner",
        ),
        (
            "admin edits",
            Some(admin),
            "road-001",
            r#"{"note":"x"}"#,
            403,
            "role_cannot_edit",
        ),
    ];
    for (case, tok, site, body, want, code) in cases {
        let v = version(&app, site).await;
        let auth = tok.map(|t| {
            if t.starts_with("Basic") {
                t
            } else {
                format!("Bearer {t}")
            }
        });
        let mut headers = vec![("if-match", "\"1\"")];
        if let Some(a) = &auth {
            headers.push(("authorization", a));
        }
        let r = send(
            &app,
            Method::PATCH,
            &format!("/api/sites/{site}"),
            &headers,
            body.to_owned(),
        )
        .await;
        assert_eq!(
            r.status.as_u16(),
            want,
            "{case}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let j = r.json();
        if want == 401 {
            assert_eq!(j["error"], "unauthorized", "{case}");
            assert_eq!(
                r.headers.get("www-authenticate").map(|h| h.as_bytes()),
                Some(&b"Bearer"[..])
            );
        } else {
            assert_eq!(j["error"], "forbidden", "{case}");
            assert_eq!(j["rule"], code, "{case}");
        }
        assert_eq!(version(&app, site).await, v, "{case}: version moved");
        assert_eq!(
            store.change_count(None).expect("count"),
            0,
            "{case}: a change was recorded"
        );
    }
    // The same tokens read /api/me: 401 for the bad ones.
    for t in ["garbage", "rm_zz"] {
        send(
            &app,
            Method::GET,
            "/api/me",
            &[("authorization", &format!("Bearer {t}"))],
            Body::empty(),
        )
        .await
        .expect(401);
    }
    // And the rights that do exist still work.
    patch(
        &app,
        "road-001",
        Some(&team_a),
        Some(1),
        r#"{"status":"tendering"}"#,
    )
    .await
    .expect(200);
    patch(
        &app,
        "park-002",
        Some(&team_b_site),
        Some(1),
        r#"{"note":"benches painted"}"#,
    )
    .await
    .expect(200);
    assert_eq!(store.change_count(None).expect("count"), 2);
}

#[tokio::test]
async fn bad_bodies_change_nothing_and_the_server_lives() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let planner = token(&store, "Planner", Role::Planner, &[], &[]);
    let deep_array = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
    let deep_note = format!(
        "{{\"note\":{}1{}}}",
        "{\"a\":".repeat(1_500),
        "}".repeat(1_500)
    );
    let limit = renewal_map::config::Limits::default().max_body_bytes;
    let huge = format!("{{\"note\":\"{}\"}}", "x".repeat(limit + 1024));
    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("empty body", String::new(), 400, "invalid_json"),
        ("not json", "status=completed".into(), 400, "invalid_json"),
        (
            "truncated",
            r#"{"status":"completed""#.into(),
            400,
            "invalid_json",
        ),
        ("array", "[1,2]".into(), 400, "not_an_object"),
        (
            "positional struct",
            r#"["tendering"]"#.into(),
            400,
            "not_an_object",
        ),
        (
            "string progress",
            r#"{"progress":"50"}"#.into(),
            400,
            "invalid_field",
        ),
        (
            "float progress",
            r#"{"progress":50.5}"#.into(),
            400,
            "invalid_field",
        ),
        (
            "unknown status",
            r#"{"status":"finished"}"#.into(),
            400,
            "invalid_field",
        ),
        (
            "bad date",
            r#"{"planned_finish":"2026-02-30"}"#.into(),
            400,
            "invalid_field",
        ),
        (
            "unknown field",
            r#"{"status":"tendering","version":9}"#.into(),
            400,
            "unknown_field",
        ),
        (
            "geometry smuggled",
            r#"{"geometry":{"type":"Point","coordinates":[0,0]}}"#.into(),
            400,
            "unknown_field",
        ),
        ("deep nesting", deep_array, 400, "not_an_object"),
        ("deep nesting in a field", deep_note, 400, "invalid_field"),
        ("oversized", huge, 413, "payload_too_large"),
        ("empty object", "{}".into(), 422, "empty_update"),
        (
            "note too long",
            format!("{{\"note\":\"{}\"}}", "梅".repeat(2001)),
            422,
            "note_too_long",
        ),
        (
            "progress out of range",
            r#"{"progress":101}"#.into(),
            422,
            "progress_out_of_range",
        ),
        (
            "negative progress",
            r#"{"progress":-5}"#.into(),
            422,
            "progress_out_of_range",
        ),
        (
            "completed at 90",
            r#"{"status":"completed","progress":90}"#.into(),
            422,
            "completed_requires_full_progress",
        ),
        (
            "backward without reason",
            r#"{"status":"planned"}"#.into(),
            422,
            "reason_required",
        ),
        (
            "finish before start",
            r#"{"planned_finish":"2025-01-01"}"#.into(),
            422,
            "finish_before_start",
        ),
        (
            "negative money",
            r#"{"investment_wan":-1}"#.into(),
            422,
            "investment_out_of_range",
        ),
    ];
    for (case, body, want, code) in cases {
        let r = patch(&app, "compound-001", Some(&planner), Some(1), &body).await;
        assert_eq!(
            r.status.as_u16(),
            want,
            "{case}: {}",
            String::from_utf8_lossy(&r.body[..r.body.len().min(300)])
        );
        assert_eq!(r.json()["error"], code, "{case}");
        assert!(
            r.json()["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{case}"
        );
        assert_eq!(store.change_count(None).expect("count"), 0, "{case}");
        get(&app, "/health").await.expect(200);
    }
    assert_eq!(version(&app, "compound-001").await, 1);
    // Oversized with an honest Content-Length is refused the same way.
    let big = "x".repeat(limit + 1);
    let r = send(
        &app,
        Method::PATCH,
        "/api/sites/compound-001",
        &[
            ("authorization", &format!("Bearer {planner}")),
            ("if-match", "\"1\""),
            ("content-length", &big.len().to_string()),
        ],
        big,
    )
    .await
    .expect(413);
    assert_eq!(r.json()["error"], "payload_too_large");
}

/// The largest valid body: a planner's backward move with a 2,000-character note and reason,
/// every character a `\uXXXX` surrogate pair (12 bytes), about 48 KB. It fits the body limit;
/// the same escaping past the limit is 413.
#[tokio::test]
async fn the_largest_valid_body_fits_the_limit() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let planner = token(&store, "Planner", Role::Planner, &[], &[]);
    let tree = "\\ud83c\\udf33"; // 🌳, escaped as JSON text
    let text = tree.repeat(2_000);
    let body = format!(r#"{{"status":"design","note":"{text}","reason":"{text}"}}"#);
    let limit = renewal_map::config::Limits::default().max_body_bytes;
    assert!(
        body.len() > 16 * 1024 && body.len() <= limit,
        "{}",
        body.len()
    );
    let r = patch(&app, "compound-001", Some(&planner), Some(1), &body)
        .await
        .expect(200);
    let j = r.json();
    assert_eq!(j["properties"]["status"], "design");
    assert_eq!(
        j["properties"]["note"].as_str().map(|n| n.chars().count()),
        Some(2_000)
    );
    assert!(
        j["properties"]["note"]
            .as_str()
            .is_some_and(|n| n.starts_with('🌳'))
    );
    let h = get(&app, "/api/sites/compound-001/history")
        .await
        .expect(200)
        .json();
    assert_eq!(
        h["changes"][0]["reason"]
            .as_str()
            .map(|n| n.chars().count()),
        Some(2_000)
    );
    // Past the limit, the same kind of body is refused before it is parsed.
    let over = format!(
        r#"{{"status":"under_construction","note":"{}","reason":"x"}}"#,
        tree.repeat(limit / 12 + 1)
    );
    assert!(over.len() > limit);
    let r = patch(&app, "compound-001", Some(&planner), Some(2), &over)
        .await
        .expect(413);
    assert_eq!(r.json()["error"], "payload_too_large");
    assert_eq!(store.change_count(None).expect("count"), 1);
}

#[tokio::test]
async fn planners_move_back_with_a_reason_and_edit_the_plan() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let planner = token(&store, "Planner", Role::Planner, &[], &[]);
    let r = patch(
        &app,
        "park-002",
        Some(&planner),
        Some(1),
        r#"{"status":"under_construction","progress":80,"reason":"paving failed inspection"}"#,
    )
    .await
    .expect(200);
    assert_eq!(r.json()["properties"]["status"], "under_construction");
    let r = patch(
        &app,
        "park-002",
        Some(&planner),
        Some(2),
        r#"{"planned_finish":"2027-05-31","investment_wan":123.5}"#,
    )
    .await
    .expect(200);
    assert_eq!(r.json()["properties"]["planned_finish"], "2027-05-31");
    assert_eq!(r.json()["properties"]["investment_wan"], 123.5);
    let h = get(&app, "/api/sites/park-002/history")
        .await
        .expect(200)
        .json();
    assert_eq!(h["changes"][0]["reason"], "paving failed inspection");
    assert_eq!(
        h["changes"][0]["from"],
        json!({"status": "completed", "progress": 100})
    );
    assert_eq!(
        h["changes"][1]["plan"]["planned_finish"],
        json!({"from": "2026-10-31", "to": "2027-05-31"})
    );
    // A field team completing the site gets progress 100 without saying so.
    let team = token(&store, "Team B", Role::Field, &[SUB_B.1], &[]);
    let r = patch(
        &app,
        "park-002",
        Some(&team),
        Some(3),
        r#"{"status":"completed"}"#,
    )
    .await
    .expect(200);
    assert_eq!(r.json()["properties"]["progress"], 100);
}

fn tile_status(bytes: &[u8], layer: &str, fid: u64) -> Option<String> {
    let reader = mvt_reader::Reader::new(bytes.to_vec()).expect("valid MVT");
    let names = reader.get_layer_names().expect("layers");
    let index = names.iter().position(|n| n == layer)?;
    let features = reader.get_features(index).expect("features");
    let f = features.iter().find(|f| f.id == Some(fid))?;
    match f.properties.as_ref()?.get("status")? {
        mvt_reader::feature::Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

#[tokio::test]
async fn writes_show_in_the_next_tile_item_nearest_answer_and_stats() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let team = token(&store, "Team A", Role::Field, &[SUB_A.1], &[]);
    let renewal_map::tiles::TileCoord { x, y, .. } =
        renewal_map::tiles::TileCoord::containing(PARK_001.0, PARK_001.1, 15);
    let tile_uri = format!("/tiles/15/{x}/{y}.mvt");
    let nearest = format!(
        "/api/parks/nearest?lon={}&lat={}&limit=1",
        PARK_001.0, PARK_001.1
    );

    let t = get(&app, &tile_uri).await.expect(200);
    assert_eq!(tile_status(&t.body, "parks", 1).as_deref(), Some("planned"));
    let item = get(&app, "/ogc/collections/parks/items/park-001")
        .await
        .expect(200)
        .json();
    assert_eq!(item["properties"]["status"], "planned");
    let n = get(&app, &nearest).await.expect(200).json();
    assert_ne!(
        n["features"][0]["id"], "park-001",
        "a planned park is not open"
    );
    let stats = get(&app, "/api/stats").await.expect(200).json();
    let completed_before = stats["totals"]["completed"].as_u64().expect("completed");

    patch(
        &app,
        "park-001",
        Some(&team),
        Some(1),
        r#"{"status":"completed"}"#,
    )
    .await
    .expect(200);

    let t = get(&app, &tile_uri).await.expect(200);
    assert_eq!(
        tile_status(&t.body, "parks", 1).as_deref(),
        Some("completed")
    );
    let item = get(&app, "/ogc/collections/parks/items/park-001")
        .await
        .expect(200)
        .json();
    assert_eq!(item["properties"]["status"], "completed");
    assert_eq!(item["properties"]["progress"], 100);
    let n = get(&app, &nearest).await.expect(200).json();
    assert_eq!(n["features"][0]["id"], "park-001");
    assert_eq!(n["features"][0]["properties"]["distance_m"], 0.0);
    let stats = get(&app, "/api/stats").await.expect(200).json();
    assert_eq!(
        stats["totals"]["completed"].as_u64(),
        Some(completed_before + 1)
    );
    assert_eq!(stats["totals"]["by_status"]["completed"].as_u64(), Some(2));
}

/// Many writers on overlapping sites: every acknowledged write is counted by the version, and
/// no writer ever sees a 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_lose_nothing() {
    const TASKS: usize = 16;
    const WRITES_PER_TASK: usize = 12;
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let planner = token(&store, "Planner", Role::Planner, &[], &[]);
    let team_a = token(&store, "Team A", Role::Field, &[SUB_A.1], &[]);
    let sites = ["park-001", "road-001", "compound-001"];
    let mut handles = Vec::new();
    for t in 0..TASKS {
        let app = app.clone();
        let tok = if t % 2 == 0 {
            planner.clone()
        } else {
            team_a.clone()
        };
        handles.push(tokio::spawn(async move {
            let mut acked = vec![0u64; sites.len()];
            let (mut conflicts, mut server_errors, mut forbidden) = (0u64, 0u64, 0u64);
            for w in 0..WRITES_PER_TASK {
                // Field tasks only touch sub-district A's sites.
                let s = if t % 2 == 0 { (t + w) % 3 } else { (t + w) % 2 };
                loop {
                    let v = version(&app, sites[s]).await;
                    let body = format!(r#"{{"note":"task {t} write {w}"}}"#);
                    let r = patch(&app, sites[s], Some(&tok), Some(v), &body).await;
                    match r.status.as_u16() {
                        200 => {
                            acked[s] += 1;
                            break;
                        }
                        412 => conflicts += 1,
                        403 => {
                            forbidden += 1;
                            break;
                        }
                        c if c >= 500 => {
                            server_errors += 1;
                            break;
                        }
                        c => panic!("unexpected {c}: {}", String::from_utf8_lossy(&r.body)),
                    }
                }
            }
            (acked, conflicts, server_errors, forbidden)
        }));
    }
    let mut acked = [0u64; 3];
    let (mut conflicts, mut errors, mut forbidden) = (0, 0, 0);
    for h in handles {
        let (a, c, e, f) = h.await.expect("task");
        for i in 0..3 {
            acked[i] += a[i];
        }
        conflicts += c;
        errors += e;
        forbidden += f;
    }
    eprintln!(
        "concurrency: {} writes acknowledged, {conflicts} 412 retries, {errors} 5xx",
        acked.iter().sum::<u64>()
    );
    assert_eq!(errors, 0);
    assert_eq!(forbidden, 0);
    assert_eq!(acked.iter().sum::<u64>(), (TASKS * WRITES_PER_TASK) as u64);
    for (i, site) in sites.iter().enumerate() {
        assert_eq!(
            version(&app, site).await,
            1 + acked[i],
            "{site}: lost updates"
        );
        let h = get(&app, &format!("/api/sites/{site}/history"))
            .await
            .expect(200)
            .json();
        let versions: Vec<u64> = h["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .filter_map(|c| c["version"].as_u64())
            .collect();
        assert_eq!(
            versions,
            (2..=1 + acked[i]).collect::<Vec<_>>(),
            "{site}: history has gaps"
        );
    }
    assert_eq!(store.integrity_check().expect("check"), "ok");
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let planner = token(&store, "Planner", Role::Planner, &[], &[]);
    for (i, scheme) in ["bearer", "BEARER", "BeArEr"].into_iter().enumerate() {
        let auth = format!("{scheme}  {planner}");
        let body = format!(r#"{{"note":"check {i}"}}"#);
        let tag = format!("\"{}\"", i + 1);
        send(
            &app,
            Method::PATCH,
            "/api/sites/road-001",
            &[("authorization", &auth), ("if-match", &tag)],
            body,
        )
        .await
        .expect(200);
    }
    for bad in [format!("Bearer{planner}"), format!("Basic {planner}")] {
        send(
            &app,
            Method::PATCH,
            "/api/sites/road-001",
            &[("authorization", &bad), ("if-match", "\"4\"")],
            r#"{"note":"x"}"#,
        )
        .await
        .expect(401);
    }
    assert_eq!(store.change_count(None).expect("count"), 3);
}

#[tokio::test]
async fn a_patch_that_changes_nothing_is_refused_and_recorded_nowhere() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let team = token(&store, "Team B", Role::Field, &[SUB_B.0], &[]);
    let planner = token(&store, "Planner", Role::Planner, &[], &[]);
    for body in [
        r#"{"status":"under_construction"}"#,
        r#"{"progress":40}"#,
        r#"{"status":"under_construction","progress":40,"note":""}"#,
    ] {
        let r = patch(&app, "compound-001", Some(&team), Some(1), body)
            .await
            .expect(422);
        assert_eq!(r.json()["error"], "no_change", "{body}");
    }
    let r = patch(
        &app,
        "compound-001",
        Some(&planner),
        Some(1),
        r#"{"planned_start":"2026-03-01","reason":"re-confirmed"}"#,
    )
    .await
    .expect(422);
    assert_eq!(r.json()["error"], "no_change");
    assert_eq!(version(&app, "compound-001").await, 1);
    assert_eq!(store.change_count(None).expect("count"), 0);
}

#[tokio::test]
async fn leaving_suspended_is_a_planners_decision_with_a_reason() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let team = token(&store, "Team B", Role::Field, &[SUB_B.0], &[]);
    let planner = token(&store, "Planner", Role::Planner, &[], &[]);
    // The field reports the halt...
    patch(
        &app,
        "compound-001",
        Some(&team),
        Some(1),
        r#"{"status":"suspended"}"#,
    )
    .await
    .expect(200);
    // ...but a completed site cannot be suspended.
    let r = patch(
        &app,
        "park-002",
        Some(&team),
        Some(1),
        r#"{"status":"suspended"}"#,
    )
    .await
    .expect(422);
    assert_eq!(r.json()["error"], "cannot_suspend_finished");
    // under_construction → suspended → planned is a backward move.
    let back = r#"{"status":"planned"}"#;
    let r = patch(&app, "compound-001", Some(&team), Some(2), back)
        .await
        .expect(403);
    assert_eq!(r.json()["rule"], "resume_requires_planner");
    let r = patch(&app, "compound-001", Some(&planner), Some(2), back)
        .await
        .expect(422);
    assert_eq!(r.json()["error"], "reason_required");
    patch(
        &app,
        "compound-001",
        Some(&planner),
        Some(2),
        r#"{"status":"planned","reason":"scheme withdrawn"}"#,
    )
    .await
    .expect(200);
    assert_eq!(store.change_count(None).expect("count"), 2);
}

/// A `token revoke` committed after the request passed its token check, but before its write
/// transaction, stops the write: the transaction checks the token again.
#[tokio::test]
async fn a_revocation_during_a_write_stops_it() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let team = token(&store, "Team A", Role::Field, &[SUB_A.0], &[]);
    // Another handle on the file plays the CLI: its own connections, its own writer.
    let sites = renewal_map::load::load_dataset(fx.path())
        .expect("data")
        .sites;
    let cli = Store::open(store.path(), &sites, OpenMode::MustExist).expect("second handle");

    let writer = store.writer();
    let request = {
        let (app, team) = (app.clone(), team.clone());
        tokio::spawn(async move {
            patch(
                &app,
                "road-001",
                Some(&team),
                Some(1),
                r#"{"status":"tendering"}"#,
            )
            .await
        })
    };
    // The request authenticates, then waits for the writer held here: wait until it does.
    while store.writers_waiting() == 0 {
        tokio::task::yield_now().await;
    }
    cli.revoke("Team A").expect("revoke");
    drop(writer);
    let r = request.await.expect("request");
    assert_eq!(
        r.status.as_u16(),
        401,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(version(&app, "road-001").await, 1);
    assert_eq!(store.change_count(None).expect("count"), 0);

    // The same holds for the assignment: checked again inside the transaction.
    let other = token(&store, "Team A2", Role::Field, &[SUB_A.0], &[]);
    let account = store.authenticate(&other).expect("auth").expect("live");
    let before = state
        .current()
        .site("road-001")
        .expect("site")
        .as_ref()
        .clone();
    let patch_ = SitePatch {
        note: Some("x".into()),
        ..Default::default()
    };
    let after = apply_patch(&before, &patch_, Role::Field, Timestamp::now()).expect("valid");
    {
        let c = rusqlite::Connection::open(store.path()).expect("open");
        c.execute("DELETE FROM assignment WHERE account_id = ?1", [account.id])
            .expect("unassign");
    }
    let ctx = ChangeContext {
        actor: &account,
        note: Some("x"),
        reason: None,
        idempotency: None,
    };
    assert!(matches!(
        store.writer().record(&before, &after, ctx),
        Err(StoreError::NotAssigned { .. })
    ));
    assert_eq!(store.change_count(None).expect("count"), 0);
}

/// When the file holds a newer version than the map (something wrote it behind the
/// service's back), the write answers 412 with the stored state and the map shows it, so the
/// next write based on it succeeds.
#[tokio::test]
async fn a_store_ahead_of_the_map_gives_412_and_is_republished() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let planner = token(&store, "Planner", Role::Planner, &[], &[]);
    let sites = renewal_map::load::load_dataset(fx.path())
        .expect("data")
        .sites;
    let behind = Store::open(store.path(), &sites, OpenMode::MustExist).expect("second handle");
    let account = behind.authenticate(&planner).expect("auth").expect("live");
    let before = state
        .current()
        .site("compound-001")
        .expect("site")
        .as_ref()
        .clone();
    let p = SitePatch {
        progress: Some(55),
        ..Default::default()
    };
    let after = apply_patch(&before, &p, Role::Planner, Timestamp::now()).expect("valid");
    let ctx = ChangeContext {
        actor: &account,
        note: None,
        reason: None,
        idempotency: None,
    };
    behind
        .writer()
        .record(&before, &after, ctx)
        .expect("write behind");

    let r = patch(
        &app,
        "compound-001",
        Some(&planner),
        Some(1),
        r#"{"progress":60}"#,
    )
    .await
    .expect(412);
    assert_eq!(r.etag().as_deref(), Some("\"2\""));
    let j = r.json();
    assert_eq!(j["error"], "version_mismatch");
    assert_eq!(j["current"]["properties"]["progress"], 55);
    let item = get(&app, "/api/sites/compound-001")
        .await
        .expect(200)
        .json();
    assert_eq!(item["properties"]["version"], 2);
    assert_eq!(item["properties"]["progress"], 55);
    let feed = get(&app, "/api/changes?since=0").await.expect(200).json();
    assert_eq!(feed["changes"].as_array().map(Vec::len), Some(1));
    patch(
        &app,
        "compound-001",
        Some(&planner),
        Some(2),
        r#"{"progress":60}"#,
    )
    .await
    .expect(200);
    assert_eq!(version(&app, "compound-001").await, 3);
}

/// The feed and history stop at the last change the map shows: a committed change whose
/// snapshot is not swapped in yet is not listed.
#[tokio::test]
async fn the_feed_never_runs_ahead_of_the_map() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let planner = token(&store, "Planner", Role::Planner, &[], &[]);
    patch(
        &app,
        "road-001",
        Some(&planner),
        Some(1),
        r#"{"note":"first"}"#,
    )
    .await
    .expect(200);
    let published = store.published_seq();
    assert_eq!(published, 1);

    let account = store.authenticate(&planner).expect("auth").expect("live");
    let before = state
        .current()
        .site("road-001")
        .expect("site")
        .as_ref()
        .clone();
    let p = SitePatch {
        note: Some("second".into()),
        ..Default::default()
    };
    let after = apply_patch(&before, &p, Role::Planner, Timestamp::now()).expect("valid");
    let ctx = ChangeContext {
        actor: &account,
        note: Some("second"),
        reason: None,
        idempotency: None,
    };
    let mut writer = store.writer();
    let seq = writer.record(&before, &after, ctx).expect("commit");
    // Committed, not yet published: neither the feed nor the history shows it.
    assert_eq!(store.changes_since(0, 10).expect("feed").len(), 1);
    assert_eq!(store.history("road-001").expect("history").len(), 1);
    writer.publish(seq);
    drop(writer);
    assert_eq!(store.changes_since(0, 10).expect("feed").len(), 2);
    assert_eq!(store.history("road-001").expect("history").len(), 2);

    // A reopened store publishes what the file holds.
    drop((app, state, store));
    let (_state, store) = fx.open();
    assert_eq!(store.published_seq(), 2);
}
