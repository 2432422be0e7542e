#!/usr/bin/env bash
# Installs the Debian packages dbbackupfs needs to build, test and run its demo, when any
# is missing.  Sourced by tools/demo and tools/test.
set -euo pipefail

DBB_PACKAGES=(
  meson ninja-build pkg-config gcc
  libfuse3-dev fuse3
  libcurl4-openssl-dev libjson-c-dev libglib2.0-dev
  libcmocka-dev libmicrohttpd-dev zlib1g-dev
  python3 jq curl
  clang libclang-rt-dev   # tools/fuzz: libFuzzer, ASan and UBSan runtimes for clang
  prometheus  # promtool check metrics: the metrics= file is checked by the real parser
)

dbb_install_deps() {
  local missing=()
  for p in "${DBB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "Installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Only for building and testing the Debian package (tools/package, tools/test's package
# step): the plain build does not need them.  systemd for `systemd-analyze verify` of the
# example units, bash-completion for the completion's environment, man-db so that the
# units' Documentation=man: is checked, git for tools/package's copy of the tree.
DBB_PACKAGE_PACKAGES=(
  dpkg-dev debhelper fakeroot lintian systemd bash-completion man-db git
)

dbb_install_package_deps() {
  # dbb_install_deps reads DBB_PACKAGES: this call's copy has the package tools too.
  local DBB_PACKAGES=("${DBB_PACKAGES[@]}" "${DBB_PACKAGE_PACKAGES[@]}")
  dbb_install_deps
}
