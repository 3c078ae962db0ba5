# Multi-stage build: compile in the Rust image, run from a small Debian image as a
# non-root user. SQLite, libpq and OpenSSL are compiled into the binary.
FROM rust:1.95-bookworm AS build
WORKDIR /src

# Build the dependencies once, in their own layer.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src

COPY build.rs ./
COPY src ./src
COPY migrations ./migrations
COPY openapi ./openapi
COPY examples ./examples
COPY dashboard ./dashboard
COPY shop ./shop
COPY README.md ./
RUN touch src/main.rs src/lib.rs && cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --create-home --home-dir /var/lib/secondmile secondmile \
    && install -d -o secondmile -g secondmile /var/lib/secondmile/secondmile-files
COPY --from=build /src/target/release/secondmile /usr/local/bin/secondmile
USER secondmile
WORKDIR /var/lib/secondmile
ENV SECONDMILE_BIND=0.0.0.0:8080 \
    SECONDMILE_LOG_FORMAT=json
EXPOSE 8080
# SIGTERM starts a graceful shutdown: in-flight requests finish first.
STOPSIGNAL SIGTERM
ENTRYPOINT ["secondmile"]
CMD ["serve"]
