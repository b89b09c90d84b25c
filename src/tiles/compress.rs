//! The content codings a tile is sent in (gzip, brotli, zstd or none) and the compressors
//! that make them. Pure byte work: what a client accepts is decided in `http`, and each coded
//! form of a cached tile is made once by [`super::cache::EncodedTile`].
//!
//! Levels are chosen for tiles that are encoded on request: gzip level 1 (`flate2`), brotli
//! quality 5 with a 64 KiB window (`brotli`: smaller than gzip at a few times its cost, and
//! tiles rarely exceed the window), zstd level 3 (`zstd`, the reference library's default).

use std::io::Write;

/// A content coding (RFC 9110 §8.4.1) a tile can be sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentCoding {
    /// Not compressed.
    Identity,
    /// `gzip` (RFC 1952).
    Gzip,
    /// `br`, Brotli (RFC 7932).
    Brotli,
    /// `zstd`, Zstandard (RFC 8878).
    Zstd,
}

/// gzip level: the fastest, as tiles may be compressed on every request with the cache off.
const GZIP_LEVEL: u32 = 1;
/// Brotli quality (0–11).
const BROTLI_QUALITY: u32 = 5;
/// Brotli window, log2 of its size in bytes.
const BROTLI_LGWIN: u32 = 16;
/// Zstandard level (1–22; 3 is the library's default).
const ZSTD_LEVEL: i32 = 3;

impl ContentCoding {
    /// The compressed codings, in the order the server prefers them when a client accepts
    /// several equally: the smallest first.
    pub const COMPRESSED: [ContentCoding; 3] = [
        ContentCoding::Brotli,
        ContentCoding::Zstd,
        ContentCoding::Gzip,
    ];

    /// The coding's token in `Accept-Encoding` and `Content-Encoding`.
    ///
    /// # Examples
    /// ```
    /// use renewal_map::tiles::compress::ContentCoding;
    /// assert_eq!(ContentCoding::Brotli.token(), "br");
    /// ```
    pub fn token(self) -> &'static str {
        match self {
            ContentCoding::Identity => "identity",
            ContentCoding::Gzip => "gzip",
            ContentCoding::Brotli => "br",
            ContentCoding::Zstd => "zstd",
        }
    }

    /// What an ETag of this coded form carries after the content hash (`""` for identity),
    /// so each coding has its own strong ETag.
    pub fn etag_suffix(self) -> &'static str {
        match self {
            ContentCoding::Identity => "",
            ContentCoding::Gzip => "-gz",
            ContentCoding::Brotli => "-br",
            ContentCoding::Zstd => "-zst",
        }
    }

    /// `bytes` in this coding (a copy for identity).
    ///
    /// # Examples
    /// ```
    /// use renewal_map::tiles::compress::ContentCoding;
    /// let tile = vec![7u8; 4000];
    /// for c in ContentCoding::COMPRESSED {
    ///     assert!(c.compress(&tile).len() < 200, "{c:?}");
    /// }
    /// assert_eq!(ContentCoding::Identity.compress(&tile), tile);
    /// ```
    pub fn compress(self, bytes: &[u8]) -> Vec<u8> {
        // Writing into a Vec cannot fail, so the io::Results below are always Ok.
        let mut out = Vec::with_capacity(bytes.len() / 2 + 64);
        match self {
            ContentCoding::Identity => out.extend_from_slice(bytes),
            ContentCoding::Gzip => {
                let mut enc =
                    flate2::write::GzEncoder::new(out, flate2::Compression::new(GZIP_LEVEL));
                let _ = enc.write_all(bytes);
                out = enc.finish().unwrap_or_default();
            }
            ContentCoding::Brotli => {
                let mut enc =
                    brotli::CompressorWriter::new(&mut out, 4096, BROTLI_QUALITY, BROTLI_LGWIN);
                let _ = enc.write_all(bytes);
                let _ = enc.flush();
                drop(enc);
            }
            ContentCoding::Zstd => {
                out = zstd::bulk::compress(bytes, ZSTD_LEVEL).unwrap_or_default();
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::ContentCoding;

    fn sample() -> Vec<u8> {
        (0..20_000u32).map(|i| (i % 97 + i / 1000) as u8).collect()
    }

    #[test]
    fn empty_input_round_trips() {
        let gz = ContentCoding::Gzip.compress(&[]);
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut out)
            .unwrap();
        assert!(out.is_empty());
        let br = ContentCoding::Brotli.compress(&[]);
        let mut out = Vec::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_end(&mut out)
            .unwrap();
        assert!(out.is_empty());
        assert!(
            zstd::bulk::decompress(&ContentCoding::Zstd.compress(&[]), 16)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn every_coding_round_trips_and_shrinks() {
        let data = sample();
        let gz = ContentCoding::Gzip.compress(&data);
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
        let br = ContentCoding::Brotli.compress(&data);
        let mut out = Vec::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
        let zst = ContentCoding::Zstd.compress(&data);
        assert_eq!(zstd::bulk::decompress(&zst, data.len()).unwrap(), data);
        for c in [&gz, &br, &zst] {
            assert!(c.len() < data.len() / 4, "{} of {}", c.len(), data.len());
        }
    }
}
