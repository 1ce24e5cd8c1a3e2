# bff-gateway: the gateway (default command) and, with another command, the demo parts
# (node dist/src/demo/serve.js idp|rest-api|soap|web), as docker-compose.yml runs them.

# --- build: every dependency, then TypeScript → dist/ ---
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile before the sources are here
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json

# --- runtime: production dependencies and the compiled code only, as a non-root user ---
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config
# the "node" user (uid 1000) of the official image
USER node
EXPOSE 8080
# node's own fetch: no curl in the image. PORT (default 8080) is the port to probe.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "dist/src/healthcheck.js"]
CMD ["node", "dist/src/cli.js", "--config", "config/docker.yaml"]
