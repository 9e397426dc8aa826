#!/bin/bash
# The official OCI distribution-spec v1.1.1 conformance suite, built with Debian 12's Go 1.19 in
# GOPATH mode (no module proxy needed), run against `regview serve` (no auth, basic, token) and
# Debian's docker-registry. Prints each run's pass counts; reports stay under $WORK.
#
#   bash bench/oci_conformance.sh [SRC]
#
# SRC: a folder holding git repositories (bare or not) named onsi+ginkgo, onsi+gomega,
# bloodorangeio+reggie, go-task+slim-sprig, opencontainers+distribution-spec (each as
# SRC/<name>/repo or SRC/<name>); missing ones are cloned from github.com. Nothing is written
# into this checkout; the sources and the binary live under $WORK (default /tmp/oci-conformance).
#
# Why these versions: the suite's go.mod asks for Go 1.20, ginkgo v2.11.0 and gomega v1.27.8, but
# those two declare go 1.18 and build with Go 1.19; in GOPATH mode go.mod's go line is not
# enforced. The rest comes from Debian's golang-*-dev packages (/usr/share/gocode).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC=${1:-/work/.mirror}
WORK=${WORK:-/tmp/oci-conformance}
PY=${PY:-$ROOT/.venv/bin/python}

apt-get install -y golang-go golang-github-go-resty-resty-dev golang-golang-x-net-dev \
  golang-golang-x-sys-dev golang-golang-x-text-dev golang-gopkg-yaml.v3-dev \
  golang-github-google-go-cmp-dev golang-github-go-logr-logr-dev golang-github-google-uuid-dev \
  golang-github-opencontainers-go-digest-dev golang-github-opencontainers-image-spec-dev \
  golang-github-asaskevich-govalidator-dev golang-github-mitchellh-mapstructure-dev \
  docker-registry >/dev/null

gitdir() { # gitdir owner+name -> a git directory with its history
  local d
  for d in "$SRC/$1/repo" "$SRC/$1"; do
    if git --git-dir="$d" rev-parse -q --verify HEAD >/dev/null 2>&1; then echo "$d"; return; fi
    if git -C "$d" rev-parse -q --verify HEAD >/dev/null 2>&1; then echo "$d/.git"; return; fi
  done
  mkdir -p "$WORK/clones"
  git clone -q --bare "https://github.com/${1/+//}" "$WORK/clones/$1" && echo "$WORK/clones/$1"
}

place() { # place owner+name ref dest
  mkdir -p "$3"
  git --git-dir="$(gitdir "$1")" archive "$2" | tar -x -C "$3"
}

rm -rf "$WORK/go" && G=$WORK/go/src/github.com
place onsi+ginkgo v2.11.0 "$G/onsi/ginkgo/v2"
place onsi+gomega v1.27.8 "$G/onsi/gomega"
place bloodorangeio+reggie v0.6.1 "$G/bloodorangeio/reggie"
place go-task+slim-sprig 52ccab3ef572 "$G/go-task/slim-sprig"
place opencontainers+distribution-spec v1.1.1 "$G/opencontainers/distribution-spec"
(cd "$G/opencontainers/distribution-spec/conformance" &&
  GOPATH=$WORK/go:/usr/share/gocode GO111MODULE=off GOFLAGS= GOPROXY=off \
    go test -c -o "$WORK/conformance.test" .)

run_suite() { # run_suite NAME URL [user password]
  local dir=$WORK/report-$1
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && env OCI_ROOT_URL="$2" OCI_NAMESPACE=conf/repo OCI_CROSSMOUNT_NAMESPACE=conf/other \
    OCI_USERNAME="${3:-}" OCI_PASSWORD="${4:-}" OCI_TEST_PULL=1 OCI_TEST_PUSH=1 \
    OCI_TEST_CONTENT_DISCOVERY=1 OCI_TEST_CONTENT_MANAGEMENT=1 OCI_AUTOMATIC_CROSSMOUNT=0 \
    OCI_HIDE_SKIPPED_WORKFLOWS=0 OCI_DEBUG=0 OCI_REPORT_DIR="$dir" \
    "$WORK/conformance.test" >"$dir/output.txt" 2>&1) || true
  sed -i 's/\x1b\[[0-9;]*m//g' "$dir/output.txt" # no colours
  echo "$1: $(grep -aoE '[0-9]+ Passed \| [0-9]+ Failed \| [0-9]+ Pending \| [0-9]+ Skipped' "$dir/output.txt" | tail -1)" \
    "($(grep -aoE 'Ran [0-9]+ of [0-9]+ Specs' "$dir/output.txt" | tail -1))"
  grep -a '\[FAIL\]' "$dir/output.txt" | sort -u | sed 's/^ */    /' || true
}

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
serve() { # serve DATA PORT [args…]: regview serve from this checkout, in the background
  "$PY" -m regview serve --data "$1" --port "$2" --gc-delay -1 "${@:3}" >"$1.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$2/v2/" && return; sleep 0.1; done
}
regview() { (cd "$ROOT" && "$PY" -m regview "$@"); }

rm -rf "$WORK/data-"*
port=$(free_port); serve "$WORK/data-none" "$port"
run_suite regview-no-auth "http://127.0.0.1:$port"

"$PY" -c 'import bcrypt; print("conf:" + bcrypt.hashpw(b"conf-password", bcrypt.gensalt(5)).decode())' \
  >"$WORK/htpasswd"
port=$(free_port); serve "$WORK/data-basic" "$port" --auth basic --htpasswd "$WORK/htpasswd"
run_suite regview-basic "http://127.0.0.1:$port" conf conf-password

D=$WORK/data-token
regview local user add --admin --data "$D" conf >/dev/null
regview local group add --data "$D" conf >/dev/null
regview local project add --data "$D" conf/repo >/dev/null
regview local project add --data "$D" conf/other >/dev/null
token=$(regview local token add --user conf --kind personal --data "$D" \
  --scopes api,read_registry,write_registry | sed -n 's/^token: //p')
port=$(free_port); serve "$D" "$port" --auth token
run_suite regview-token "http://127.0.0.1:$port" conf "$token"

port=$(free_port)
mkdir -p "$WORK/data-distribution"
cat >"$WORK/distribution.yml" <<EOF
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $WORK/data-distribution}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
EOF
docker-registry serve "$WORK/distribution.yml" >"$WORK/distribution.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.1; done
run_suite docker-registry "http://127.0.0.1:$port"
