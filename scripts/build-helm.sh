#!/usr/bin/env bash
# Builds the helm CLI from the Go module proxy into .cache/helm/<key>/helm, for the chart tests
# (test/k8s/helm.test.ts) against the k8s test harness. No release binary is downloaded: helm is
# compiled from its module at a pinned version.
# Idempotent: the key hashes the helm version and the Go version, so a second run is a no-op.
# The machine is shared: the build runs at the lowest priority, one package at a time.
set -euo pipefail
cd "$(dirname "$0")/.."

HELM_MODULE=helm.sh/helm/v4
HELM_VERSION=v4.3.2

if ! command -v go >/dev/null 2>&1 || ! go version | grep -Eq 'go1\.(2[6-9]|[3-9][0-9])'; then
  echo "build-helm: Go >= 1.26 is needed to build helm $HELM_VERSION (found: $(go version 2>/dev/null || echo none))" >&2
  exit 1
fi
mkdir -p .cache/helm
# One build at a time: parallel test runs on one machine would otherwise race on the same output folder.
exec 9>.cache/helm/.lock
flock 9
key=$( (echo "$HELM_MODULE $HELM_VERSION"; go version) | sha256sum | cut -c1-16)
out=.cache/helm/$key
link=.cache/helm/current

# Only the build in use is kept.
prune() { find .cache/helm -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} +; }

if [ -x "$out/helm" ]; then
  ln -sfn "$key" "$link"
  prune
  echo "helm up to date: $out/helm"
  exit 0
fi

mkdir -p "$out"
export GOMAXPROCS=1
start=$(date +%s)
echo "building helm $HELM_VERSION …"
# `go install module@version` builds with the module's own go.mod, outside this repository's modules.
# Built with the same flags as the k8s harness so the shared Go build cache serves the k8s.io packages
# both use; version-stamped the way helm's release builds are, so `helm version` names it.
rm -rf "$out/bin.tmp"
GOBIN="$PWD/$out/bin.tmp" GOFLAGS= nice -n 19 go install -p 1 -trimpath \
  -ldflags "-s -w -X $HELM_MODULE/internal/version.version=$HELM_VERSION" \
  "$HELM_MODULE/cmd/helm@$HELM_VERSION"
mv "$out/bin.tmp/helm" "$out/helm"
rmdir "$out/bin.tmp"

ln -sfn "$key" "$link"
prune
echo "helm built in $(($(date +%s) - start)) s: $out/helm"
