#!/usr/bin/env bash
# Runs the unit projects the way issue 14 promises they run: as an unprivileged user (nobody), on a host where
# runc, conmon and the CNI plugins are not installed. Root is needed only to set that up: a private mount namespace
# hides the tools (bind mounts of /dev/null and an empty dir, gone when the script ends), then each test assembly
# runs as nobody through `dotnet test <dll>` (no MSBuild, so root's NuGet cache is not needed).
set -euo pipefail
configuration="${1:-Release}"
cd "$(dirname "$0")/.."
[[ $(id -u) -eq 0 ]] || { echo "unit-unprivileged: run as root (it drops to nobody itself)" >&2; exit 2; }
projects=(tests/Cri.Interop.Tests tests/Cri.Server.Tests tests/Cri.ImageService.Tests tests/Cri.Runtime.Tests tests/Cri.Chart.Tests)
for p in "${projects[@]}"; do
  dll="$p/bin/$configuration/net10.0/$(basename "$p").dll"
  [[ -f $dll ]] || { echo "unit-unprivileged: $dll is not built (make build-jit)" >&2; exit 2; }
  runuser -u nobody -- test -r "$dll" || { echo "unit-unprivileged: nobody cannot read $dll (the checkout must be world-readable)" >&2; exit 2; }
done
home="$(mktemp -d)"; empty="$(mktemp -d)"
chown nobody "$home"; chmod 0755 "$empty"
trap 'rm -rf "$home" "$empty"' EXIT
export configuration home empty
# shellcheck disable=SC2016
unshare --mount --propagation private bash -c '
  set -euo pipefail
  for tool in runc conmon; do path=$(command -v "$tool" || true); [[ -z $path ]] || mount --bind /dev/null "$path"; done
  for dir in /usr/lib/cni /opt/cni/bin; do [[ ! -d $dir ]] || mount --bind "$empty" "$dir"; done
  status=0
  for p in '"${projects[*]}"'; do
    runuser -u nobody -- env HOME="$home" DOTNET_CLI_HOME="$home" DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 \
      dotnet test "$p/bin/$configuration/net10.0/$(basename "$p").dll" --results-directory "$home/results" || status=1
  done
  exit $status'
