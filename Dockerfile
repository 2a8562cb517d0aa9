# The akash-ip image, run as the IP operator (deploy/helm/akash-ip-operator). Build:
#   docker build -t <registry>/akash-ip:0.1.0 .
# Other modes run with an explicit entrypoint, e.g. `--entrypoint node … dist/src/cli/akash-ip.cjs start`.

FROM node:20-bookworm AS build
WORKDIR /app
# better-sqlite3 is native: this stage has the compilers it falls back to when no prebuilt binary fits.
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
# `npm run build` bundles the CLI and the console with the scripts there.
COPY scripts ./scripts
COPY src ./src
# The build runs one SDL command on an example to make the SDL commands' code cache.
COPY examples ./examples
RUN npm run build && npm prune --omit=dev

# Same Debian release as the build stage, so the compiled better-sqlite3 finds the same glibc.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The image's "node" user, numeric so Kubernetes can verify runAsNonRoot.
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["node", "dist/src/cli/akash-ip.cjs", "operator"]
