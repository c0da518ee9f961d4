# syntax=docker/dockerfile:1
# The Samverka appliance image: built in one stage, run from a slim Node 20 image that holds only
# production dependencies, the compiled server, the staff UI's views, strings and static files,
# the message templates and the `samverka` command. Runs as an unprivileged user; the only writable
# place it needs is /data (a volume), so the root filesystem can be mounted read-only.

ARG NODE_IMAGE=node:20-bookworm

# --- build: compile TypeScript and the client scripts, then drop the development dependencies ---
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# npm 10 (Node 20's) ignores package.json's allowScripts: keep @scarf/scarf's install script from
# reporting the build to an analytics service, and npm from reporting anything either.
ENV SCARF_ANALYTICS=false \
    DO_NOT_TRACK=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false
COPY package.json package-lock.json ./
# better-sqlite3 builds its native module here, against the same Debian release as the runtime.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY appliance ./appliance
COPY admin ./admin
COPY bin/build.js ./bin/build.js
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- runtime ---
FROM ${NODE_IMAGE}-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    DATA_DIR=/data \
    DATABASE_URL=sqlite:/data/samverka.db
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY admin/views ./admin/views
COPY admin/locales ./admin/locales
COPY admin/static ./admin/static
COPY templates ./templates
COPY bin ./bin
COPY provisioning/docker/entrypoint.sh /usr/local/bin/samverka-entrypoint
COPY provisioning/first-run /usr/local/bin/first-run
# `samverka` on PATH: bin/samverka.js runs the compiled CLI when the TypeScript source is absent.
# /data belongs to the unprivileged user; everything else stays root's and read-only to it.
RUN chmod 0755 /usr/local/bin/samverka-entrypoint /usr/local/bin/first-run bin/samverka.js \
 && ln -s /app/bin/samverka.js /usr/local/bin/samverka \
 && mkdir -p /data \
 && chown node:node /data \
 && chmod 0700 /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["samverka-entrypoint"]
CMD ["node", "dist/appliance/src/main.js"]
