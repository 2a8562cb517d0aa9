#!/usr/bin/env bash
# Builds the k8s test cluster (test/k8s/harness: etcd + kube-apiserver in one binary) and the
# MetalLB controller, from the Go module proxy, into .cache/k8s-harness/<key>/.
# Idempotent: the key hashes the harness sources and the MetalLB version, so a second run is a no-op.
# The machine is shared: builds run at the lowest priority, one package at a time.
set -euo pipefail
cd "$(dirname "$0")/.."

METALLB_VERSION=v0.15.2

if ! command -v go >/dev/null 2>&1 || ! go version | grep -Eq 'go1\.(2[6-9]|[3-9][0-9])'; then
  echo "build-k8s-harness: Go >= 1.26 is needed (found: $(go version 2>/dev/null || echo none))" >&2
  exit 1
fi
mkdir -p .cache/k8s-harness
# One build at a time: parallel test runs on one machine would otherwise race on the same output folder.
exec 9>.cache/k8s-harness/.lock
flock 9
harness=test/k8s/harness
key=$( (cat "$harness/go.mod" "$harness/go.sum" "$harness/main.go"; echo "metallb $METALLB_VERSION"; go version) | sha256sum | cut -c1-16)
out=.cache/k8s-harness/$key
link=.cache/k8s-harness/current

# Builds of older sources take ~250 MB each: keep only the one in use.
prune() { find .cache/k8s-harness -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} +; }

if [ -x "$out/k8s-harness" ] && [ -x "$out/controller" ] && [ -d "$out/crds" ]; then
  ln -sfn "$key" "$link"
  prune
  echo "k8s harness up to date: $out"
  exit 0
fi

mkdir -p "$out"
export GOMAXPROCS=1 GOFLAGS=-mod=readonly
start=$(date +%s)

echo "building k8s-harness (etcd + kube-apiserver) …"
(cd "$harness" && nice -n 19 go build -p 1 -trimpath -o "$PWD/../../../$out/k8s-harness.tmp" .)
mv "$out/k8s-harness.tmp" "$out/k8s-harness"
mid=$(date +%s)
echo "k8s-harness built in $((mid - start)) s"

# MetalLB's newest releases need a module the proxy refuses (github.com/metallb/frr-k8s >= v0.0.24),
# so its controller is installed at a release whose whole build list the proxy serves, with that
# release's own go.mod (no replace, nothing vendored).
echo "building MetalLB controller $METALLB_VERSION …"
GOBIN="$PWD/$out/bin.tmp" GOFLAGS= nice -n 19 go install -p 1 -trimpath "go.universe.tf/metallb/controller@$METALLB_VERSION"
mv "$out/bin.tmp/controller" "$out/controller"
rmdir "$out/bin.tmp"
echo "MetalLB controller built in $(($(date +%s) - mid)) s"

# The CRDs come from the same MetalLB release, read out of the module cache (no committed copy).
moddir=$(GOFLAGS= go mod download -json "go.universe.tf/metallb@$METALLB_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
rm -rf "$out/crds.tmp"
mkdir -p "$out/crds.tmp"
cp "$moddir"/config/crd/bases/*.yaml "$out/crds.tmp/"
chmod u+w "$out"/crds.tmp/*.yaml
mv "$out/crds.tmp" "$out/crds"

ln -sfn "$key" "$link"
prune
echo "k8s harness built in $(($(date +%s) - start)) s: $out"
