# Dockerfile: one image holding both daemons (launchpad-apiserver and launchpad-controller).
# The build stage compiles against Debian 12's libraries; the runtime stage carries only their
# shared libraries. Which daemon runs, and as which user, is chosen by the compose service
# (docker-compose.yml: the apiserver as the unprivileged `launchpad` user, uid 10001; the
# controller as root, for the Docker socket and the build workspaces' ownership).
# BASE_IMAGE: any Debian 12 image; NODE_IMAGE: Node >= 20.19 with npm, for the dashboard's build.
# The tests pass local stand-ins for both (no registry).
ARG BASE_IMAGE=debian:bookworm-slim
ARG NODE_IMAGE=node:20-alpine

FROM ${NODE_IMAGE} AS dashboard
WORKDIR /src/dashboard
COPY dashboard/package.json dashboard/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY dashboard/ ./
RUN npm run build

FROM ${BASE_IMAGE} AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        build-essential pkg-config libyaml-dev libsqlite3-dev libcurl4-openssl-dev libcjson-dev \
        libgit2-dev libarchive-dev libssl-dev libmicrohttpd-dev zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make -j"$(nproc)" all

FROM ${BASE_IMAGE}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates libyaml-0-2 libsqlite3-0 libcurl4 libcjson1 libgit2-1.5 libarchive13 \
        libssl3 libmicrohttpd12 zlib1g iptables \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 launchpad \
    && useradd --system --uid 10001 --gid launchpad --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin launchpad
COPY --from=build /src/build/bin/ /usr/local/bin/
COPY --from=dashboard /src/dashboard/dist/ /usr/local/share/launchpad/dashboard/
# The apiserver serves the dashboard at / (the controller ignores the setting).
ENV LAUNCHPAD_DASHBOARD_DIR=/usr/local/share/launchpad/dashboard
EXPOSE 8080
CMD ["launchpad-apiserver", "--listen", "0.0.0.0:8080"]
