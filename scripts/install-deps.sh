#!/usr/bin/env bash
# Installs, only when missing, the Debian packages crisp runs and tests with.
# Idempotent and quiet when everything is present; needs root for apt-get.
set -euo pipefail

packages=(
  make
  runc crun conmon
  containernetworking-plugins
  iproute2 iptables util-linux mount procps coreutils
  docker-registry skopeo busybox-static apache2-utils
  jq curl ca-certificates sqlite3
  clang zlib1g-dev  # the native AOT crispd: ILCompiler links with clang and needs zlib
  apparmor  # apparmor_parser: loads crisp-default where AppArmor is on; the integration tests compile the profile
)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's docker-registry package starts a registry on :5000 through its service unit where an
# init system runs; tests start their own on free ports, so a running one is harmless.

if ! command -v dotnet >/dev/null 2>&1; then
  echo "install-deps: the .NET 10 SDK (dotnet) is required and is not packaged by Debian 12; install it first" >&2
  exit 1
fi
