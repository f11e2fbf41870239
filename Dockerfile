# exposure-exporter container image. Build: docker build -t exposure-exporter .
# Run and configure: deploy/docker/README.md. test/integration/dockerfile.test.ts checks this file and
# replays its steps; test/image/ builds it with podman against a local stand-in of the base image and runs it.

# The Node.js major must match package.json's engines and its `node` devDependency: the image's Node is
# the one that runs the exporter, and the exporter refuses an older one.
FROM node:24-bookworm-slim AS build
WORKDIR /app
# Lockfile first, so the dependency layer is reused while only the sources change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/write-build-info.mjs scripts/
COPY src/ src/
# .git is not in the build context, so build-info.json records the revision as "unknown".
RUN npm run build

FROM node:24-bookworm-slim AS runtime
# Debian's nmap, with CAP_NET_RAW as a file capability so that the non-root user can send raw packets.
# setcap comes from libcap2-bin, which is not needed afterwards. The container must keep NET_RAW in its
# bounding set (Docker's default does; Kubernetes needs `capabilities: {add: [NET_RAW]}` after a drop of
# ALL): without it the kernel refuses to execute a binary carrying a file capability at all.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nmap libcap2-bin \
 && setcap cap_net_raw+eip /usr/bin/nmap \
 && apt-get purge -y --auto-remove libcap2-bin \
 && rm -rf /var/lib/apt/lists/*
# A fixed numeric uid, so that volume ownership is stable across images and Kubernetes can check
# runAsNonRoot without a passwd lookup.
RUN groupadd --gid 10001 exposure \
 && useradd --uid 10001 --gid exposure --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin exposure \
 && install -d -o exposure -g exposure -m 0750 /var/lib/exposure-exporter
WORKDIR /app
ENV NODE_ENV=production
# Production dependencies only: Node.js comes from the base image, so the `node` devDependency (which
# carries Node 24 for hosts whose system Node is older) is left out with the rest of the dev tools.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY deploy/docker/config.yml /etc/exposure-exporter/config.yml
# Declared after the directory is created and chowned, so a new named volume starts owned by the user.
VOLUME /var/lib/exposure-exporter
USER 10001:10001
EXPOSE 9869
# Slim images have no curl; Node's fetch does the same in one line. Assumes the default listen port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9869/-/healthy').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The shipped config path is part of the entrypoint, not of CMD, so `docker run IMAGE --once` (any flags of
# the user's own) keeps the image's config and its state path on the volume; a later --config.file wins.
ENTRYPOINT ["node", "/app/dist/main.js", "--config.file=/etc/exposure-exporter/config.yml"]
CMD []
