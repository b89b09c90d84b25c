//! Request coalescing in the tile cache (issue 9): 32 clients asking for the same cold tile at
//! once cost one encoding; every other request is served that encoding (`shared`) or, once it
//! is stored, the cache (`hit`), and all get the same bytes.

mod common;

use std::sync::{Arc, Barrier};

use renewal_map::model::{Date, SiteFilter};
use renewal_map::tiles::TileCoord;
use renewal_map::tiles::cache::{CacheOutcome, TileCache};
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
