#!/usr/bin/env bash
# Tests .ci/go-toolchain.sh with fake `go`, `curl` and a fake toolchain zip:
#   bash .ci/go-toolchain_test.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=go-toolchain.sh
. "$here/go-toolchain.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

printf 'module x\n\ngo 1.26.0\n' >"$tmp/go.mod"
printf 'module x\n\ngo 1.26\n' >"$tmp/go-short.mod"
printf 'module x\n\ngo 1.25\n\ntoolchain go1.26.3\n' >"$tmp/go-toolchain.mod"

[ "$(gomod_version "$tmp/go.mod")" = 1.26.0 ] || fail "gomod_version go 1.26.0"
[ "$(gomod_version "$tmp/go-short.mod")" = 1.26.0 ] || fail "gomod_version go 1.26"
[ "$(gomod_version "$tmp/go-toolchain.mod")" = 1.26.3 ] || fail "gomod_version toolchain line"
version_ge 1.26.0 1.26.0 || fail "1.26.0 >= 1.26.0"
version_ge 1.26.10 1.26.9 || fail "1.26.10 >= 1.26.9"
! version_ge 1.19.8 1.21 || fail "1.19.8 < 1.21"
! version_ge 1.9 1.19 || fail "1.9 < 1.19"

# fakego DIR VERSION: a `go` printing that version.
fakego() {
  mkdir -p "$1"
  printf '#!/bin/sh\necho "go version go%s linux/amd64"\n' "$2" >"$1/go"
  chmod +x "$1/go"
}

# A fake toolchain module zip, served by a fake curl that logs its URL.
arch=$(uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')
mod="v0.0.1-go1.26.0.linux-$arch"
mkdir -p "$tmp/zip/golang.org/toolchain@$mod/bin" "$tmp/zip/golang.org/toolchain@$mod/pkg/tool/linux_$arch"
printf '#!/bin/sh\necho "go version go1.26.0 linux/%s"\n' "$arch" >"$tmp/zip/golang.org/toolchain@$mod/bin/go"
echo x >"$tmp/zip/golang.org/toolchain@$mod/pkg/tool/linux_$arch/compile"
chmod -x "$tmp/zip/golang.org/toolchain@$mod/bin/go" # module zips carry no modes
(cd "$tmp/zip" && python3 -m zipfile -c "$tmp/$mod.zip" golang.org)
mkdir -p "$tmp/fakebin"
cat >"$tmp/fakebin/curl" <<CURL
#!/bin/sh
# curl -fsSL -o FILE URL
echo "\$4" >>"$tmp/curl.log"
cp "$tmp/$mod.zip" "\$3"
CURL
chmod +x "$tmp/fakebin/curl"

run_case() { # name, fake go version ("" = none), then assertions in a subshell
  local name=$1 ver=$2
  (
    export PATH="$tmp/fakebin:/usr/bin:/bin"
    if [ -n "$ver" ]; then
      fakego "$tmp/$name/bin" "$ver"
      export PATH="$tmp/$name/bin:$PATH"
    fi
    # /usr/bin may hold a real go: hide it behind a fake one when asked for none
    if [ -z "$ver" ] && command -v go >/dev/null 2>&1; then
      mkdir -p "$tmp/$name/nogo"
      export PATH="$tmp/fakebin:$(echo "$PATH" | tr ':' '\n' | while read -r d; do [ -x "$d/go" ] || printf '%s:' "$d"; done)"
    fi
    unset GOTOOLCHAIN
    export FLOWPROC_TOOLCHAIN_DIR="$tmp/$name/cache" GOPROXY="off,https://proxy.example/mod|direct"
    rm -f "$tmp/curl.log"
    ensure_go_toolchain "$tmp/go.mod" >"$tmp/$name.out" 2>&1 || { cat "$tmp/$name.out"; exit 1; }
    shift 2
    "$@"
  ) || fail "$name: $(cat "$tmp/$name.out" 2>/dev/null)"
}

check_new() {
  [ "$(go version)" = "go version go1.26.0 linux/$arch" ] || { echo "go is $(go version)"; return 1; }
  [ "$(cat "$tmp/curl.log")" = "https://proxy.example/mod/golang.org/toolchain/@v/$mod.zip" ] || { echo "fetched $(cat "$tmp/curl.log")"; return 1; }
  [ "${GOTOOLCHAIN:-}" = local ] || { echo "GOTOOLCHAIN=${GOTOOLCHAIN:-}"; return 1; }
}
check_auto() {
  [ "${GOTOOLCHAIN:-}" = auto ] || { echo "GOTOOLCHAIN=${GOTOOLCHAIN:-}"; return 1; }
  [ ! -e "$tmp/curl.log" ] || { echo "downloaded although go can switch itself"; return 1; }
}
check_kept() {
  [ -z "${GOTOOLCHAIN:-}" ] || { echo "GOTOOLCHAIN=$GOTOOLCHAIN"; return 1; }
  [ ! -e "$tmp/curl.log" ] || { echo "downloaded although go is new enough"; return 1; }
  case $(go version) in *go1.26.4*) ;; *) echo "go changed: $(go version)"; return 1 ;; esac
}

run_case debian-1.19 1.19.8 check_new
run_case no-go "" check_new
run_case go-1.22 1.22.2 check_auto
run_case go-1.26.4 1.26.4 check_kept

if [ "$fails" -ne 0 ]; then
  echo "go-toolchain tests: $fails failed"
  exit 1
fi
echo "go-toolchain tests: ok"
