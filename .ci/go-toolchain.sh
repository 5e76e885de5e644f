# shellcheck shell=bash
# Sourced by .ci/run: make `go` a toolchain new enough for go.mod.
#
#   ensure_go_toolchain [GO_MOD]
#
# - `go` at least go.mod's version: nothing to do.
# - `go` 1.21 or later but older: GOTOOLCHAIN=auto makes it download and run
#   the toolchain go.mod asks for (Debian's packages set GOTOOLCHAIN=local in
#   their go.env, so it is set explicitly).
# - no `go`, or one older than 1.21 (Debian's golang-go is 1.19, which knows
#   nothing of toolchains): the official release is fetched from the Go
#   module proxy's toolchain module, golang.org/toolchain@v0.0.1-goX.Y.Z.OS-ARCH
#   (the same zip `go` itself downloads for GOTOOLCHAIN), unpacked under
#   $FLOWPROC_TOOLCHAIN_DIR (default ~/.cache/flowproc-toolchain) and put
#   first on PATH.
#
# GOPROXY's first http(s) entry is used (default https://proxy.golang.org).

# go_version_of prints the X.Y.Z of `go version` output ("go1.19.8" → 1.19.8).
go_version_of() {
  sed -n 's/^go version go\([0-9][0-9.]*\).*/\1/p' | head -n1
}

# version_ge A B: A ≥ B for dotted versions (missing parts are 0).
version_ge() {
  local IFS=.
  local -a a=($1) b=($2)
  local i
  for i in 0 1 2; do
    local x=${a[i]:-0} y=${b[i]:-0}
    if ((10#$x > 10#$y)); then return 0; fi
    if ((10#$x < 10#$y)); then return 1; fi
  done
  return 0
}

# gomod_version prints go.mod's go line as X.Y.Z (a toolchain line wins).
gomod_version() {
  local v
  v=$(sed -n 's/^toolchain go\([0-9][0-9.]*\).*/\1/p' "$1" | head -n1)
  [ -n "$v" ] || v=$(sed -n 's/^go \([0-9][0-9.]*\).*/\1/p' "$1" | head -n1)
  case $v in
    *.*.*) ;;
    *.*) v=$v.0 ;;   # "go 1.26" means the release 1.26.0
  esac
  echo "$v"
}

ensure_go_toolchain() {
  local gomod=${1:-go.mod} want have=""
  want=$(gomod_version "$gomod")
  if [ -z "$want" ]; then
    echo "go-toolchain: no go line in $gomod" >&2
    return 1
  fi
  if command -v go >/dev/null 2>&1; then
    have=$(go version 2>/dev/null | go_version_of)
  fi
  if [ -n "$have" ] && version_ge "$have" "$want"; then
    echo "go-toolchain: go $have satisfies go.mod's $want"
    return 0
  fi
  if [ -n "$have" ] && version_ge "$have" 1.21; then
    echo "go-toolchain: go $have is older than go.mod's $want; GOTOOLCHAIN=auto fetches go$want"
    export GOTOOLCHAIN=auto
    return 0
  fi
  local os arch
  os=$(uname -s | tr '[:upper:]' '[:lower:]')
  case $(uname -m) in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "go-toolchain: unsupported machine $(uname -m)" >&2; return 1 ;;
  esac
  local proxy="" p
  local IFS_old=$IFS
  IFS=',|'
  for p in ${GOPROXY:-https://proxy.golang.org}; do
    case $p in http://* | https://*) proxy=${p%/}; break ;; esac
  done
  IFS=$IFS_old
  [ -n "$proxy" ] || proxy=https://proxy.golang.org
  local mod="v0.0.1-go$want.$os-$arch"
  local dir=${FLOWPROC_TOOLCHAIN_DIR:-$HOME/.cache/flowproc-toolchain}
  local root="$dir/golang.org/toolchain@$mod"
  if [ ! -x "$root/bin/go" ]; then
    echo "go-toolchain: ${have:+go $have is too old for toolchains; }downloading go$want from $proxy"
    mkdir -p "$dir"
    local zip="$dir/$mod.zip"
    if command -v curl >/dev/null 2>&1; then
      curl -fsSL -o "$zip" "$proxy/golang.org/toolchain/@v/$mod.zip" || return 1
    else
      wget -q -O "$zip" "$proxy/golang.org/toolchain/@v/$mod.zip" || return 1
    fi
    if command -v unzip >/dev/null 2>&1; then
      unzip -q -o "$zip" -d "$dir" || return 1
    else
      python3 -m zipfile -e "$zip" "$dir" || return 1
    fi
    rm -f "$zip"
    # Module zips carry no file modes: mark the binaries executable, as go
    # does when it unpacks a toolchain.
    chmod +x "$root"/bin/* 2>/dev/null || true
    find "$root/pkg/tool" -type f -exec chmod +x {} + 2>/dev/null || true
  fi
  export PATH="$root/bin:$PATH"
  export GOTOOLCHAIN=local
  have=$(go version 2>/dev/null | go_version_of)
  if [ -z "$have" ] || ! version_ge "$have" "$want"; then
    echo "go-toolchain: $root/bin/go reports '${have:-nothing}', want $want" >&2
    return 1
  fi
  echo "go-toolchain: using go $have from $root"
}
