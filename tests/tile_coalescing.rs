//! Request coalescing in the tile cache (issue 9): 32 clients asking for the same cold tile at
//! once cost one encoding; every other request is served that encoding (`shared`) or, once it
//! is stored, the cache (`hit`), and all get the same bytes. Requests that claimed a place in
//! an encoding before waiting for a turn on the blocking pool still share it, in-process and
//! over HTTP.

mod common;

use std::sync::{Arc, Barrier};

use renewal_map::model::{Date, SiteFilter};
use renewal_map::tiles::TileCoord;
use renewal_map::tiles::cache::{CacheOutcome, Claim, TileCache};
use renewal_map::tiles::encode::TileRequest;

const CLIENTS: usize = 32;

/// The outcomes and content hashes of `CLIENTS` threads released at once on one tile.
fn at_once(cache: &Arc<TileCache>, tile: TileCoord) -> Vec<(CacheOutcome, String)> {
    let snap = Arc::new(common::snapshot(&common::default_data()));
    let today: Date = common::TODAY.parse().expect("date");
    let start = Arc::new(Barrier::new(CLIENTS));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (cache, snap, start) = (Arc::clone(cache), Arc::clone(&snap), Arc::clone(&start));
            std::thread::spawn(move || {
                let filter = SiteFilter::default();
                start.wait();
                let (tile, outcome) = cache
                    .get_or_encode(
                        &snap,
                        TileRequest {
                            tile,
                            filter: &filter,
                            today,
                        },
                    )
                    .expect("encodes");
                (outcome, tile.hash.clone())
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect()
}

fn count(outcomes: &[(CacheOutcome, String)], which: CacheOutcome) -> usize {
    outcomes.iter().filter(|(o, _)| *o == which).count()
}

#[test]
fn thirty_two_clients_on_one_cold_tile_cost_one_encoding() {
    // A z12 tile over the middle of Huanggu: hundreds of features, milliseconds to encode.
    let tile = TileCoord::containing(123.42, 41.84, 12);
    let cache = Arc::new(TileCache::new(64 << 20));
    let outcomes = at_once(&cache, tile);
    let (miss, shared, hit) = (
        count(&outcomes, CacheOutcome::Miss),
        count(&outcomes, CacheOutcome::Shared),
        count(&outcomes, CacheOutcome::Hit),
    );
    eprintln!("cache on: {miss} encoded, {shared} shared the encoding, {hit} from the cache");
    assert_eq!(miss, 1, "{outcomes:?}");
    assert_eq!(shared + hit, CLIENTS - 1);
    let hash = &outcomes[0].1;
    assert!(outcomes.iter().all(|(_, h)| h == hash), "different bytes");
    assert_eq!(cache.len(), 1);

    // With the cache off nothing is stored, but requests that overlap still share.
    let off = Arc::new(TileCache::new(0));
    let outcomes = at_once(&off, tile);
    let miss = count(&outcomes, CacheOutcome::Miss);
    let shared = count(&outcomes, CacheOutcome::Shared);
    eprintln!("cache off: {miss} encoded, {shared} shared an encoding");
    assert_eq!(miss + shared, CLIENTS);
    assert_eq!(count(&outcomes, CacheOutcome::Hit), 0);
    assert!(off.is_empty());
    assert!(outcomes.iter().all(|(_, h)| h == hash), "different bytes");
}

#[test]
fn claims_made_before_a_wait_share_one_encoding_even_when_finished_one_by_one() {
    // As the HTTP layer does: every request claims on arrival, then waits for a turn. Here
    // the finishes do not overlap at all, the cache keeps nothing, and still one encodes.
    let snap = common::snapshot(&common::default_data());
    let today: Date = common::TODAY.parse().expect("date");
    let filter = SiteFilter::default();
    let req = TileRequest {
        tile: TileCoord::containing(123.42, 41.84, 12),
        filter: &filter,
        today,
    };
    let off = TileCache::new(0);
    let claims: Vec<Claim> = (0..CLIENTS).map(|_| off.claim(&snap, req)).collect();
    let outcomes: Vec<(CacheOutcome, String)> = claims
        .into_iter()
        .map(|claim| match claim {
            Claim::Ready(_) => panic!("a cache of 0 bytes holds nothing"),
            Claim::Flight(flight) => {
                let (tile, outcome) = off.finish(&snap, req, flight).expect("encodes");
                (outcome, tile.hash.clone())
            }
        })
        .collect();
    assert_eq!(count(&outcomes, CacheOutcome::Miss), 1, "{outcomes:?}");
    assert_eq!(count(&outcomes, CacheOutcome::Shared), CLIENTS - 1);
    assert!(outcomes.iter().all(|(_, h)| h == &outcomes[0].1));
    // The flight is over: the next claim starts a new encoding.
    match off.claim(&snap, req) {
        Claim::Flight(flight) => {
            let (_, outcome) = off.finish(&snap, req, flight).expect("encodes");
            assert_eq!(outcome, CacheOutcome::Miss);
        }
        Claim::Ready(_) => panic!("nothing is kept"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_http_requests_on_one_cold_tile_with_the_cache_off_encode_once() {
    // More requests than there are turns on the blocking pool, so most wait for one.
    let data = common::default_data();
    let config = renewal_map::config::Config {
        tile_cache_bytes: 0,
        ..common::config(&data)
    };
    let router = renewal_map::app(renewal_map::AppState::new(common::snapshot(&data), config));
    let tile = TileCoord::containing(123.42, 41.84, 12);
    let uri = format!("/tiles/{}/{}/{}.mvt", tile.z, tile.x, tile.y);
    let requests: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (router, uri) = (router.clone(), uri.clone());
            tokio::spawn(async move { common::get(&router, &uri).await })
        })
        .collect();
    let mut said = Vec::new();
    for r in requests {
        let reply = r.await.expect("request task").expect(200);
        said.push(reply.header("x-tile-cache").unwrap_or("").to_owned());
    }
    let misses = said.iter().filter(|s| *s == "miss").count();
    eprintln!("x-tile-cache over {CLIENTS} requests: {said:?}");
    assert_eq!(misses, 1, "{said:?}");
    assert!(
        said.iter().all(|s| s == "miss" || s == "shared"),
        "{said:?}"
    );
}
