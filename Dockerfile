# syntax=docker/dockerfile:1
# The CIBA authentication service. One image for every role: ROLE=api (HTTP), worker (jobs) or all.
#
#   docker build -t ciba-authentication-service .
#   docker compose up -d          # with Redis, an api and a worker (see docker-compose.yml)

# --- build: compile the TypeScript sources -------------------------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY openapi ./openapi
COPY src ./src
RUN npm run build

# --- runtime: production dependencies and the compiled service only -----------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
# The service reads its OpenAPI document at start (request validation, /openapi.yaml).
COPY openapi ./openapi
# The official image's unprivileged user; nothing in /app is writable by it.
USER node
EXPOSE 8080
# Slim images have no curl: Node's own fetch asks /healthz. A worker-only container (ROLE=worker)
# serves no HTTP; docker-compose.yml gives it a check of its own.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js"]
