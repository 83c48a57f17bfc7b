# Dockerfile: one image holding both daemons (launchpad-apiserver and launchpad-controller).
# Build stage compiles against Debian 12's libraries; the runtime stage carries only their
# shared libraries. Which daemon runs is chosen by the compose service's command.
FROM debian:bookworm-slim AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        build-essential pkg-config libyaml-dev libsqlite3-dev libcurl4-openssl-dev libcjson-dev \
        libgit2-dev libarchive-dev libssl-dev libmicrohttpd-dev check \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make -j"$(nproc)" all

FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates libyaml-0-2 libsqlite3-0 libcurl4 libcjson1 libgit2-1.5 libarchive13 \
        libssl3 libmicrohttpd12 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/bin/ /usr/local/bin/
# The apiserver needs no privileges; the controller runs as root for the Docker socket and to
# chown build workspaces (the compose file sets the user per service).
EXPOSE 8080
CMD ["launchpad-apiserver"]
