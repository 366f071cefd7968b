# syntax=docker/dockerfile:1
# gatewatch container image.
#   build:  full `npm ci` from the lockfile, TypeScript build, runtime file tree in ./out
#   deps:   `npm ci --omit=dev` from the lockfile: production dependencies only
#   (npm's cache is a BuildKit cache mount, so it never lands in a layer)
#   final:  distroless Node.js (no shell, no package manager, no compiler), user 65532;
#           the app files stay root-owned, so the process cannot change them
# Pin the bases by digest in your registry mirror; tags are given so they can be bumped.
ARG NODE_IMAGE=node:20-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY detectors ./detectors
# Only src/ is in the context here, so tsc emits dist/src alone. JSON schemas
# next to the code are read at run time from src/, so they go along.
RUN npx tsc -p tsconfig.json \
 && mkdir -p out/dist \
 && cp -r dist/src out/dist/src \
 && find src -name '*.json' -exec cp --parents {} out/ \; \
 && cp -r detectors package.json out/

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${RUNTIME_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="gatewatch" \
      org.opencontainers.image.description="Traffic security monitoring sidecar for AI gateways: leaked credentials, anomalous usage and prompt exfiltration, without storing a secret." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="https://github.com/gatewatch/gatewatch" \
      org.opencontainers.image.vendor="gatewatch"
ENV NODE_ENV=production MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/out ./
USER 65532:65532
EXPOSE 8080 9464
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=4", "dist/src/cli.js"]
CMD ["run"]
