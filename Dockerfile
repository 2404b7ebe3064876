# syntax=docker/dockerfile:1
# ampersand-health-monitor: multi-stage build, production dependencies only, non-root.
# Node 24 is the current LTS line; the code itself supports Node >= 20.19.
ARG NODE_IMAGE=node:24-trixie-slim

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
COPY --chown=root:root package.json ./
# The image's built-in unprivileged user; the app needs no write access to /app.
USER node
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.METRICS_PORT || 9464) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node runs as PID 1 directly (no npm, no shell), so SIGTERM reaches it.
CMD ["node", "dist/src/main.js"]
