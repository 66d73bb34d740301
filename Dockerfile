# Signet container image. Plain Dockerfile syntax (no `# syntax=` frontend to
# pull, no BuildKit-only flags), so it builds with docker, buildah/podman or
# kaniko, also behind a registry mirror.
#
#   docker build -t signet:0.1.0 --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" .
#
#   docker run --rm -p 8080:8080 --read-only --tmpfs /tmp \
#     -v signet-state:/var/lib/signet -e CACHE_SNAPSHOT_FILE=/var/lib/signet/cache-snapshot.json \
#     -v "$PWD/secrets:/var/run/secrets/signet:ro" \
#     -e CB_URL=https://carbonblack.example.internal \
#     -e CB_API_TOKEN_FILE=/var/run/secrets/signet/cb-api-token \
#     -e API_KEYS_FILE=/var/run/secrets/signet/api-keys \
#     signet:0.1.0
#
# Three stages: `deps` installs production dependencies only, `build` installs
# everything and compiles TypeScript, and the runtime stage takes dist/ from one
# and node_modules/ from the other. Nothing from the build toolchain (tsc, tsx,
# vitest, eslint...) reaches the runtime image, and neither does the
# simulator or the demo: tsconfig.build.json compiles the service alone.
#
# Base images are pinned by major tag (Node 24 is the current LTS). Renovate or
# Dependabot can additionally pin them by digest (node:24-bookworm-slim@sha256:...).

# ---------------------------------------------------------------------------
# Production dependencies: exactly what package-lock.json says, minus devDependencies.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
ENV npm_config_fund=false \
    npm_config_audit=false \
    npm_config_update_notifier=false
COPY package.json package-lock.json ./
RUN npm ci --omit=dev

# ---------------------------------------------------------------------------
# Compile: full install (TypeScript is a devDependency), then tsc -> dist/.
FROM node:24-bookworm-slim AS build
WORKDIR /app
ENV npm_config_fund=false \
    npm_config_audit=false \
    npm_config_update_notifier=false
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---------------------------------------------------------------------------
# Runtime.
FROM node:24-bookworm-slim AS runtime

ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="signet" \
      org.opencontainers.image.description="HTTP service that tells whether a process binary is code-signed, according to Carbon Black EDR or Cloud" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="UNLICENSED" \
      org.opencontainers.image.base.name="docker.io/library/node:24-bookworm-slim"

# The build's version and revision reach the running process (GET /version, signet_build_info), not only the labels.
ENV NODE_ENV=production \
    SIGNET_VERSION="${VERSION}" \
    SIGNET_REVISION="${REVISION}"

WORKDIR /app

# The application files stay owned by root and are only readable by the `node`
# user, so a compromised process cannot rewrite its own code.
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist

# The only place Signet writes is the cache snapshot (CACHE_SNAPSHOT_FILE). The
# image is meant to run with a read-only root filesystem, so mount a writable
# volume here (Kubernetes: an emptyDir, see k8s/deployment.yaml; Docker: a named
# volume, which inherits this directory's node:node ownership on first use) and a
# tmpfs on /tmp. No VOLUME instruction: it would create an anonymous volume on
# every `docker run` and is ignored by Kubernetes anyway.
RUN mkdir -p /var/lib/signet && chown node:node /var/lib/signet

# The `node` user of the official image, by number so that Kubernetes'
# runAsNonRoot check can verify it without reading /etc/passwd.
USER 1000:1000

EXPOSE 8080

# Used by `docker run` / Compose only; Kubernetes ignores HEALTHCHECK and uses the
# probes in k8s/deployment.yaml. The slim image has no curl, so node does the
# request. It assumes the server is reachable on loopback (true for the default
# HOST=0.0.0.0).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# PID 1 and signals: node runs directly as PID 1 (exec form, no `npm start`, no
# shell), so SIGTERM from `docker stop` or the kubelet reaches the application
# itself. The kernel does not apply default signal actions to PID 1, which is
# only a problem for a process that has no handler; Signet installs its own
# SIGTERM/SIGINT handler, drains within SHUTDOWN_GRACE_MS and exits 0. Signet
# spawns no child processes, so there are no zombies to reap and no init (tini,
# `docker run --init`) is needed; HEALTHCHECK and exec probes are started by the
# container runtime, which reaps them itself. (`npm start` would put npm in
# front of node and delay or swallow the signal.)
STOPSIGNAL SIGTERM
CMD ["node", "dist/server.js"]
