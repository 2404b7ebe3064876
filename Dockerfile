# syntax=docker/dockerfile:1
# ampersand-health-monitor: multi-stage build, production dependencies only, non-root.
#
#   docker build -t ampersand-health-monitor \
#     --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" .
#
# Build arguments (all optional):
# - NODE_IMAGE: the base image, pinned by tag and digest (below).
# - VERSION: the service version for the org.opencontainers.image.version label. It must equal
#   package.json's version, the one ampersand_health_monitor_build_info reports; the build
#   stage fails otherwise, so the label cannot disagree with the metric.
# - REVISION: the source commit. It goes into the revision label and into the image's
#   package.json as gitHead, where the service reads it (src/service-version.ts) for
#   build_info and its start-up line; without it they say "unknown".
# - CREATED: the build time (RFC 3339) for the created label; left empty when not given, so
#   that two builds of one commit stay identical.
# No licenses label: package.json declares no license and the repository has no LICENSE file.

# Node 24 is an LTS line (supported until April 2028), and the Node that .ci/run runs the
# test suite under a second time (test/build/image.test.ts keeps its version equal to this
# tag's); the code itself supports Node >= 20.19. Tag and digest move together; the digest
# makes a rebuild use the same bytes.
# Where the digest comes from: this was written without access to Docker Hub, so it is the
# multi-arch index digest that several public Dockerfiles pin for node:24.21.0-trixie-slim
# (one of them checks `node --version` = v24.21.0 in its build, another notes that Docker Hub
# and mirror.gcr.io serve it). It could not be verified here; confirm it with
# `docker buildx imagetools inspect node:24.21.0-trixie-slim` when you next update it.
ARG NODE_IMAGE=node:24.21.0-trixie-slim@sha256:8ec5d7557396cfe32d21c3f9c13072355ceab22b584578ca4bb28af31120cffe
ARG VERSION=0.1.0
ARG REVISION=
ARG CREATED=

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Scripts are skipped here: `prepare` would build before the sources are copied.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY jobs ./jobs
# Production code only: the simulator (fake Ampersand, fake Slack, the demo) is not compiled into the image.
RUN npx tsc -p tsconfig.build.json && test ! -e dist/src/simulator
# After the compile, so that a new REVISION does not invalidate its cache.
ARG VERSION
ARG REVISION
RUN test "$VERSION" = "$(node -p 'require("./package.json").version')" \
      || { echo "VERSION=$VERSION is not the version of package.json" >&2; exit 1; }; \
    if [ -n "$REVISION" ]; then npm pkg set gitHead="$REVISION"; fi

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# msgpackr-extract's native build is optional (BullMQ falls back to JS); no toolchain needed.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# Demo only (compose.yaml, profile demo; built with --target demo): the stack simulator, a fake
# Ampersand API and a webhook catcher (src/simulator/stack-simulator.ts). It stands before the
# production stage so that the last stage, the default target, stays the simulator-free image.
FROM build AS demo-build
COPY tsconfig.simulator.json ./
RUN npx tsc -p tsconfig.simulator.json

FROM ${NODE_IMAGE} AS demo
WORKDIR /app
# The stack simulator imports node: modules and src/simulator/ only: no node_modules (test/deploy/compose.test.ts).
COPY --from=demo-build --chown=root:root /app/dist/src/simulator ./dist/src/simulator
COPY --chown=root:root package.json ./
USER node
CMD ["node", "dist/src/simulator/stack-simulator.js"]

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    METRICS_PORT=9464
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
# The build stage's package.json: it carries the revision (gitHead).
COPY --from=build --chown=root:root /app/package.json ./
# The on-call CLI on the PATH, as npm's bin link would put it: `kubectl exec … -- ampersand-health-monitor status`.
RUN chmod 755 dist/src/cli/main.js && ln -s /app/dist/src/cli/main.js /usr/local/bin/ampersand-health-monitor
# The image's built-in unprivileged user (uid 1000); the app needs no write access to /app.
USER node
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.METRICS_PORT || 9464) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ARG VERSION
ARG REVISION
ARG CREATED
LABEL org.opencontainers.image.title="ampersand-health-monitor" \
      org.opencontainers.image.description="Watches Ampersand installations, exports Prometheus metrics and alerts Slack on health transitions." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/ampersand-health-monitor/ampersand-health-monitor"
# node runs as PID 1 directly (no npm, no shell), so SIGTERM reaches it.
CMD ["node", "dist/src/main.js"]
