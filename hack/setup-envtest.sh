#!/usr/bin/env bash
# Prints the directory that holds kube-apiserver, etcd and kubectl for envtest, building
# them from Go modules the first time on a machine.
#
# envtest's usual download site cannot be reached from every build machine, while the Go
# module proxy can. So the test control plane is built from source: kube-apiserver and
# kubectl from k8s.io/kubernetes at the release matching k8s.io/api in go.mod (tools module
# hack/tools/kube), etcd from go.etcd.io/etcd/server/v3 (tools module hack/tools/etcd).
# The binaries are cached outside the repository, keyed by version and platform, so the
# build happens once per machine (several minutes on 2 cores) and takes milliseconds after.
#
# KUBEBUILDER_ASSETS, when set, wins: it is checked and printed unchanged.
# ENTITYHUB_CACHE_DIR moves the cache (default: $XDG_CACHE_HOME or ~/.cache, + /entityhub).
#
# Progress goes to stderr; stdout carries only the directory, so callers can write
#   KUBEBUILDER_ASSETS="$(hack/setup-envtest.sh)"
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
binaries=(kube-apiserver etcd kubectl)

say() { printf 'setup-envtest: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

have_all() {
	local dir=$1 b
	for b in "${binaries[@]}"; do
		[[ -x "$dir/$b" ]] || return 1
	done
}

if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
	have_all "$KUBEBUILDER_ASSETS" ||
		die "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks one of: ${binaries[*]}"
	printf '%s\n' "$KUBEBUILDER_ASSETS"
	exit 0
fi

# module_version MODFILE MODULE prints the version MODFILE requires of MODULE.
module_version() {
	awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$1"
}

api_version=$(module_version "$root/go.mod" k8s.io/api)
kube_version=$(module_version "$root/hack/tools/kube/go.mod" k8s.io/kubernetes)
etcd_version=$(module_version "$root/hack/tools/etcd/go.mod" go.etcd.io/etcd/server/v3)
[[ -n "$api_version" && -n "$kube_version" && -n "$etcd_version" ]] ||
	die "cannot read versions from go.mod files (k8s.io/api='$api_version' k8s.io/kubernetes='$kube_version' etcd='$etcd_version')"

# k8s.io/api v0.X.Y is released together with Kubernetes v1.X.Y.
if [[ "v1.${api_version#v0.}" != "$kube_version" ]]; then
	die "go.mod uses k8s.io/api $api_version but hack/tools/kube/go.mod builds k8s.io/kubernetes $kube_version; bump the tools module (and its staging replaces) to v1.${api_version#v0.}"
fi

goos=$(go env GOOS)
goarch=$(go env GOARCH)
cache_root=${ENTITYHUB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/entityhub}
dir="$cache_root/envtest/k8s-$kube_version-etcd-$etcd_version-$goos-$goarch"

if have_all "$dir"; then
	printf '%s\n' "$dir"
	exit 0
fi

mkdir -p "$cache_root/envtest"
# One build per machine even when several test runs start at once.
exec 9>"$dir.lock"
if command -v flock >/dev/null 2>&1; then
	flock 9
fi
if have_all "$dir"; then
	printf '%s\n' "$dir"
	exit 0
fi

staging=$(mktemp -d "$dir.tmp.XXXXXX")
trap 'rm -rf "$staging"' EXIT

# The version variables make the API server report its real version in discovery, and
# kubectl avoid a spurious version-skew warning.
minor=${kube_version#v1.}
minor=${minor%%.*}
version_flags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	version_flags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done

build() { # build MODULE_DIR PACKAGE OUTPUT [LDFLAGS]
	local start=$SECONDS
	say "building $(basename "$3") from $2 (module hack/tools/$(basename "$1"))"
	(cd "$1" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w ${4:-}" -o "$3" "$2") ||
		die "building $2 failed"
	say "built $(basename "$3") in $((SECONDS - start))s"
}

say "no cached test control plane for Kubernetes $kube_version and etcd $etcd_version in $dir"
say "building it from Go modules once for this machine; this takes several minutes the first time"
build "$root/hack/tools/etcd" go.etcd.io/etcd/server/v3 "$staging/etcd"
build "$root/hack/tools/kube" k8s.io/kubernetes/cmd/kube-apiserver "$staging/kube-apiserver" "$version_flags"
build "$root/hack/tools/kube" k8s.io/kubernetes/cmd/kubectl "$staging/kubectl" "$version_flags"

chmod 0755 "$staging"
rm -rf "$dir"
mv "$staging" "$dir"
trap - EXIT
say "cached in $dir"
printf '%s\n' "$dir"
