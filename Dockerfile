# The toolbox as a container image: the static binary, a CA bundle and a non-root user in an
# otherwise empty image. See docs/deploy.md (the same layout is tested without a Docker engine by
# tests/deploy/image.sh, which runs deploy/rootfs.sh too).
#
#   docker build -t toolbox .
#   docker run --rm -p 5000:5000 toolbox
#
# tools.yaml is compiled in: build the image from the checkout whose tools.yaml you serve. Server
# sources are described from the committed .toolbox/ cache (TOOLBOX_OFFLINE=1), so the build needs
# no database; credentials come from the environment when the container starts.

FROM rust:1-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends musl-tools file ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
ENV TOOLBOX_OFFLINE=1
RUN cargo build --profile dist --locked --target x86_64-unknown-linux-musl \
 && bash deploy/rootfs.sh target/x86_64-unknown-linux-musl/dist/toolbox /rootfs

FROM scratch
COPY --from=build /rootfs/ /
# COPY sets owners to root: the SQLite directory is the user's.
COPY --from=build --chown=65532:65532 /rootfs/data /data
USER 65532:65532
# The demo's database; a tools.yaml of your own reads its own variables (PGPASSWORD, ...).
ENV TOOLBOX_DEMO_DB=/data/airline.db
EXPOSE 5000
# No HEALTHCHECK: there is no shell or curl here. Orchestrators probe GET /healthz (liveness)
# and GET /readyz (readiness) over HTTP; see docs/deploy.md.
ENTRYPOINT ["/toolbox"]
CMD ["--address", "0.0.0.0", "--port", "5000"]
