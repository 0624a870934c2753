#!/usr/bin/env bash
# The whole test suite: unit tests, the wizard's flows, and the integration
# tests against a real pcscd with vpcd (build tag pcsc) and SoftHSM2.
# Installs the Debian packages of .ci/debian-packages when they are missing
# (needs root, as pcscd's fixed socket path does).
set -euo pipefail
cd "$(dirname "$0")"
missing=()
for p in $(grep -v '^#' .ci/debian-packages); do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	if [ "$(id -u)" -ne 0 ]; then
		echo "test.sh: missing Debian packages: ${missing[*]}" >&2
		echo "test.sh: run as root, or first: sudo apt-get install ${missing[*]}" >&2
		exit 1
	fi
	echo "test.sh: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
go vet -tags pcsc ./...
go tool staticcheck ./...             # pinned in go.mod (tool directive)
go tool staticcheck -tags pcsc ./...
CGO_ENABLED=0 go build -o /dev/null .   # `go run .` needs only Go
report=$(mktemp)
trap 'rm -f "$report"' EXIT
HSMCARDS_FAULT_MATRIX_REPORT=$report go test -tags pcsc -count=1 -timeout 8m ./...
cat "$report"   # the fault matrix's count of cases run and survived
# What an idle wizard costs per 10 s at the menu and at "Insert 1. card"
# (docs/wizard.md, "Idle"): reported, not asserted; .ci/idle-cpu measures
# the real binary in tmux.
go test -run '^$' -bench BenchmarkIdle -benchtime 1x ./wizard | grep -E '^Benchmark'
# A card write through pcscd+vpcd against a bare PC/SC replay of the same
# APDUs, side by side in one run (docs/pcsc.md): the
# metric x-bare is the ratio, reported, not asserted.
go test -tags pcsc -run '^$' -bench BenchmarkCardWriteVsBare ./pcsctest | grep -E '^Benchmark'
# The memory scans once more in a build where secmem.Do erases through
# runtime/secret (docs/security.md, "Secrets in memory"); `go run .` cannot
# set GOEXPERIMENT, so the default build above is the one that must hold.
GOEXPERIMENT=runtimesecret go test -count=1 -run 'Cop(y|ies)|Erases|FromEnv' ./secmem/ ./kcv/ ./quorum/ ./tcos/ ./cardset/
.ci/fuzz   # every fuzz target for a few seconds (FUZZTIME, default 8s): about 2 minutes
