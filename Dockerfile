# bff-gateway, two images from one build:
#   runtime (the default, last stage)  the gateway alone: its production dependencies and
#                                      dist/src, no demo code and no oidc-provider
#   demo    (--target demo)            the demo parts, `node dist/demo/src/serve.js
#                                      idp|rest-api|soap|web`, as docker-compose.yml runs them

# --- build: every dependency (the demo workspace's too), then TypeScript → dist/ ---
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY demo/package.json ./demo/
# --ignore-scripts: `prepare` would compile before the sources are here
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
COPY demo/src ./demo/src
RUN npx tsc -p tsconfig.json

# --- demo: the gateway's and the demo workspace's production dependencies, both builds ---
FROM node:20-bookworm-slim AS demo
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY demo/package.json ./demo/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
# dist/src: the health check script, and main.js runs the gateway in-process
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/demo ./dist/demo
COPY config/demo.yaml ./config/
USER node
# no part given: serve.js prints its usage; docker-compose.yml names the part
CMD ["node", "dist/demo/src/serve.js"]

# --- runtime: the gateway's production dependencies and its compiled code only, non-root ---
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --workspaces=false: the root package's dependencies only, not the demo workspace's
# (oidc-provider). demo/package.json is deliberately absent from this stage.
RUN npm ci --omit=dev --workspaces=false --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY config/gateway.example.yaml config/docker.yaml ./config/
# the "node" user (uid 1000) of the official image
USER node
EXPOSE 8080
# node's own fetch: no curl in the image. PORT (default 8080) is the port to probe.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "dist/src/healthcheck.js"]
CMD ["node", "dist/src/cli.js", "--config", "config/docker.yaml"]
