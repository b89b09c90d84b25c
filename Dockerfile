# renewal-map as a container: built from the lockfiles (Cargo.lock, web/package-lock.json),
# serving the embedded default data set and the map page; no CDN at run time.
#
#   docker build -t renewal-map .
#   docker run --rm -p 8080:8080 -v renewal-map-store:/var/lib/renewal-map renewal-map
#
# Every `serve` flag can be set with its RENEWAL_MAP_* variable (`docker run -e …`) or a TOML
# file (`-v ./serve.toml:/etc/renewal-map/serve.toml -e RENEWAL_MAP_CONFIG=/etc/renewal-map/serve.toml`).
# Building needs crates.io and the npm registry (or a mirror); running needs no network.

FROM rust:1.95-bookworm AS build
WORKDIR /src
# Dependencies first, from the lockfile only, so a source change does not fetch them again.
COPY Cargo.toml Cargo.lock ./
COPY benches benches
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo fetch --locked \
    && rm -rf src
COPY src src
COPY data data
RUN cargo build --release --locked --offline --bin renewal-map

FROM node:20-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY web/ ./

FROM debian:bookworm-slim
RUN useradd --system --home /var/lib/renewal-map --create-home renewal-map
COPY --from=build /src/target/release/renewal-map /usr/local/bin/renewal-map
COPY --from=build /src/data /usr/share/renewal-map/data
COPY --from=web /web /usr/share/renewal-map/web
USER renewal-map
ENV RENEWAL_MAP_BIND=0.0.0.0:8080 \
    RENEWAL_MAP_DATA=/usr/share/renewal-map/data/huanggu \
    RENEWAL_MAP_WEB=/usr/share/renewal-map/web \
    RENEWAL_MAP_DB=/var/lib/renewal-map/renewal.sqlite \
    RENEWAL_MAP_INIT_DB=true
VOLUME /var/lib/renewal-map
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/renewal-map"]
CMD ["serve"]
