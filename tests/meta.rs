//! Honesty from the data (issue 12): the manifest's provenance reaches TileJSON, OGC
//! collections and `/api/meta`, together with the labels, moves and limits the page uses.

mod common;

use common::{default_data, fixture_dir, get, router};
use serde_json::Value;

fn manifest(dir: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).expect("manifest"))
        .expect("JSON")
}

#[tokio::test]
async fn meta_carries_the_manifest_provenance_and_notice() {
    let dir = default_data();
    let want = manifest(&dir)["provenance"].clone();
    let r = router(&dir);
    let meta = get(&r, "/api/meta").await.expect(200).json();
    assert_eq!(meta["provenance"], want);
    assert!(
        meta["provenance"]["notice"]["zh"]
            .as_str()
            .unwrap()
            .starts_with("示意数据")
    );
    assert_eq!(meta["illustrative"]["any"], true);
    assert_eq!(meta["illustrative"]["geometry"]["subdistricts"], true);
    assert_eq!(meta["illustrative"]["geometry"]["district"], false);
    let fields: Vec<&str> = meta["illustrative"]["site_fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for f in ["status", "progress", "investment_wan"] {
        assert!(fields.contains(&f), "{f} not illustrative in {fields:?}");
    }
    assert_eq!(meta["distance"]["method"], "straight_line");
    assert_eq!(meta["distance"]["label"]["zh"], "直线距离");
}

#[tokio::test]
async fn meta_has_labels_palette_limits_and_place_names() {
    let r = router(&default_data());
    let meta = get(&r, "/api/meta").await.expect(200).json();
    let statuses = meta["statuses"].as_array().unwrap();
    assert_eq!(statuses.len(), 7);
    assert_eq!(statuses[1]["id"], "design");
    assert_eq!(statuses[1]["label"]["zh"], "设计");
    assert_eq!(statuses[1]["label"]["en"], "Design");
    let colours: std::collections::BTreeSet<&str> = statuses
        .iter()
        .map(|s| s["color"].as_str().unwrap())
        .collect();
    assert_eq!(colours.len(), 7, "status colours must differ");
    let park = meta["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == "pocket_park")
        .unwrap();
    assert_eq!(park["source_layer"], "parks");
    assert_eq!(park["target"], 100);
    assert_eq!(meta["limits"]["max_note_chars"], 2000);
    assert_eq!(meta["limits"]["max_nearest"], 50);
    assert_eq!(meta["district"]["name_en"], "Huanggu District");
    let sub = meta["subdistricts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "三台子街道")
        .unwrap();
    assert_eq!(sub["name_en"], "Santaizi Subdistrict");
}

/// The moves come from the lifecycle rules: a field team goes forward and may suspend; only a
/// planner goes back or resumes, and then with a reason; an admin edits nothing.
#[tokio::test]
async fn meta_moves_follow_the_rules() {
    let r = router(&default_data());
    let meta = get(&r, "/api/meta").await.expect(200).json();
    let moves = &meta["moves"];
    let targets = |role: &str, from: &str| -> Vec<(String, bool)> {
        moves[role][from]
            .as_array()
            .unwrap_or_else(|| panic!("{role}/{from} in {moves}"))
            .iter()
            .map(|m| {
                (
                    m["to"].as_str().unwrap().to_owned(),
                    m["reason"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    let field_design = targets("field", "design");
    assert!(field_design.contains(&("tendering".into(), false)));
    assert!(field_design.contains(&("suspended".into(), false)));
    assert!(!field_design.iter().any(|(to, _)| to == "planned"));
    assert!(targets("field", "suspended").is_empty());
    assert!(targets("field", "accepted").is_empty());
    let planner_design = targets("planner", "design");
    assert!(planner_design.contains(&("planned".into(), true)));
    assert!(planner_design.contains(&("completed".into(), false)));
    assert!(
        targets("planner", "suspended")
            .iter()
            .all(|(_, reason)| *reason)
    );
    assert!(targets("admin", "design").is_empty());
}

#[tokio::test]
async fn tilejson_and_ogc_collections_say_what_is_illustrative() {
    let dir = default_data();
    let want = manifest(&dir)["provenance"]["layers"].clone();
    let r = router(&dir);
    let tj = get(&r, "/tiles.json").await.expect(200).json();
    assert_eq!(tj["illustrative"], true);
    assert!(
        tj["notice"]["en"]
            .as_str()
            .unwrap()
            .contains("Illustrative")
    );
    for layer in tj["vector_layers"].as_array().unwrap() {
        let id = layer["id"].as_str().unwrap();
        let data_layer = match id {
            "district" | "subdistricts" | "streets" | "landmarks" | "green" | "water"
            | "railways" | "buildings" => id,
            _ => "sites",
        };
        // The imported base layers (green, water, …) are not in the generated data set:
        // their provenance is null, as the manifest says nothing about them.
        assert_eq!(layer["provenance"], want[data_layer], "{id}");
    }
    let parks = get(&r, "/ogc/collections/parks").await.expect(200).json();
    assert_eq!(
        parks["provenance"]["fields"]["status"]["basis"],
        "illustrative"
    );
    let cols = get(&r, "/ogc/collections").await.expect(200).json();
    let sub = cols["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "subdistricts")
        .unwrap();
    assert_eq!(sub["provenance"]["geometry"], "illustrative");
}

/// A data set without a manifest claims nothing: no notice, nothing illustrative.
#[tokio::test]
async fn no_manifest_no_claims() {
    let dir = fixture_dir();
    let r = router(dir.path());
    let meta = get(&r, "/api/meta").await.expect(200).json();
    assert_eq!(meta["illustrative"]["any"], false);
    assert!(meta["provenance"]["notice"].is_null());
    let tj = get(&r, "/tiles.json").await.expect(200).json();
    assert_eq!(tj["illustrative"], false);
    assert!(tj["notice"].is_null());
}

/// A manifest whose provenance does not parse stops the load with the file named.
#[tokio::test]
async fn a_bad_provenance_names_the_file() {
    let dir = fixture_dir();
    std::fs::write(
        dir.path().join("manifest.json"),
        r#"{"provenance": {"layers": {"sites": {"geometry": "made-up", "source": "x"}}}}"#,
    )
    .unwrap();
    let err = renewal_map::load::load_dataset(dir.path()).unwrap_err();
    assert!(err.to_string().contains("manifest.json"), "{err}");
}

#[tokio::test]
async fn meta_rejects_unknown_parameters() {
    let r = router(&default_data());
    let body = get(&r, "/api/meta?x=1").await.expect(400).json();
    assert!(body["error"].as_str().is_some());
}

/// Times on the page are shown in the data set's time zone: `Asia/Shanghai` unless
/// `plan.json` names another; a name that is not spelled like an IANA zone stops the load.
#[tokio::test]
async fn meta_gives_the_data_set_time_zone() {
    let meta = get(&router(&default_data()), "/api/meta")
        .await
        .expect(200)
        .json();
    assert_eq!(meta["time_zone"], "Asia/Shanghai");

    let dir = fixture_dir();
    let plan_file = dir.path().join("plan.json");
    let mut plan: Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_file).unwrap()).unwrap();
    plan["time_zone"] = "Asia/Urumqi".into();
    std::fs::write(&plan_file, plan.to_string()).unwrap();
    let meta = get(&router(dir.path()), "/api/meta")
        .await
        .expect(200)
        .json();
    assert_eq!(meta["time_zone"], "Asia/Urumqi");

    plan["time_zone"] = "Asia/<script>".into();
    std::fs::write(&plan_file, plan.to_string()).unwrap();
    let err = renewal_map::load::load_dataset(dir.path()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("plan.json") && text.contains("time_zone"),
        "{text}"
    );
}
