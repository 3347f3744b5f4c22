# syntax=docker/dockerfile:1
#
# One image per app, from one Dockerfile:
#   docker build --build-arg APP=api      -t ratewire/api .
#   docker build --build-arg APP=worker   -t ratewire/worker .
#   docker build --build-arg APP=notifier -t ratewire/notifier .
#
# The apps have no build step: Node 24 runs the TypeScript sources directly (type stripping); only the web
# console is built (Vite), in a stage of its own whose output is copied in. Node refuses to strip types from
# files under node_modules, so the workspace packages must stay real directories next to the app
# (packages/*/src), linked from node_modules by pnpm's workspace symlinks. That rules out
# `pnpm deploy` (it copies workspace packages into node_modules) and is why the image keeps the pruned
# workspace layout that `turbo prune --docker` produces:
#   pruner   the repository pruned to APP and the workspace packages it depends on
#   deps     production node_modules installed from the pruned lockfile (cached until a manifest changes)
#   runtime  node:24-slim, the pruned sources + node_modules, non-root
#
# The api and worker images also hold packages/db, so they can run the migrations:
#   docker run --rm -w /app -e DATABASE_URL=... ratewire/api node packages/db/src/cli/migrate.ts latest

ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS base
# Keep these in step with the root package.json (packageManager) and the lockfile (turbo).
ARG PNPM_VERSION=10.34.9
ARG TURBO_VERSION=2.11.11
ENV CI=true \
    TURBO_TELEMETRY_DISABLED=1 \
    DO_NOT_TRACK=1
RUN npm install --global --no-fund --no-audit pnpm@${PNPM_VERSION} turbo@${TURBO_VERSION} \
 && npm cache clean --force
WORKDIR /app

# ---- pruner: only APP and its workspace dependencies --------------------------------------------------
FROM base AS pruner
ARG APP=api
COPY . .
RUN test -f "apps/${APP}/package.json" || { echo "APP must be one of: $(ls apps | tr '\n' ' ')" >&2; exit 1; } \
 && turbo prune "@ratewire/${APP}" --docker --out-dir /out

# ---- deps: production dependencies from the pruned manifests and lockfile ------------------------------
FROM base AS deps
COPY --from=pruner /out/json/ ./
RUN --mount=type=cache,id=ratewire-pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --prod --store-dir /pnpm/store

# ---- web: the console's build, which the api serves from apps/web/dist ---------------------------------
FROM base AS web-pruner
COPY . .
RUN turbo prune @ratewire/web --docker --out-dir /out

FROM base AS web
COPY --from=web-pruner /out/json/ ./
RUN --mount=type=cache,id=ratewire-pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --store-dir /pnpm/store
COPY --from=web-pruner /out/full/ ./
# the console's tsconfig extends the root one (esbuild reads it for the JSX settings); prune leaves it out
COPY --from=web-pruner /app/tsconfig.base.json ./
RUN node apps/web/build.ts --force

# ---- runtime -----------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ARG APP=api
ENV NODE_ENV=production \
    APP=${APP}
WORKDIR /app
# Owned by root and read-only to the app user: the apps write nothing to disk.
COPY --from=deps /app/ ./
COPY --from=pruner /out/full/ ./
# the console's files (hashed, precompressed): served by the api, a few hundred KB in the other images
COPY --from=web /app/apps/web/dist/ ./apps/web/dist/
USER node
WORKDIR /app/apps/${APP}
# api listens on PORT (8000); worker and notifier serve /healthz and /readyz on HEALTH_PORT (8001, 8002).
STOPSIGNAL SIGTERM
CMD ["node", "src/main.ts"]
