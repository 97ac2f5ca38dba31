#!/usr/bin/env bash
# The installer pod's script (charts/crisp): the host's / is at $HOST_ROOT, PID 1 is the host's init (hostPID).
#
#   deploy.sh install    install or update crisp from the release tree, enable the service, claim the node
#   deploy.sh uninstall  the pod's preStop: remove crisp only while this pod still holds the node's claim
#
# The claim is the installing pod's UID, written into crisp's library dir (which install.sh replaces whole and
# uninstall removes). A rolling update of the DaemonSet starts the new pod first (maxSurge 1, maxUnavailable 0) and
# stops the old one only once the new one has installed and is ready: the old pod's preStop then finds the claim
# taken and leaves crisp running, so a kubelet that uses crisp keeps its runtime. helm uninstall stops the last
# installer, whose claim still stands, and crisp is removed.
set -euo pipefail
HOST_ROOT="${HOST_ROOT:-/host}"
RELEASE_DIR="${RELEASE_DIR:-/opt/crisp}"
DEPLOY_DIR="${DEPLOY_DIR:-/crisp-deploy}"
# Inside the pod only: the readiness probe waits for it, so a rolling update waits for the install.
INSTALLED_MARKER="${INSTALLED_MARKER:-/tmp/crisp-installed}"
: "${POD_UID:?POD_UID is required: the installer pod sets it to its metadata.uid through the downward API}"
export DESTDIR="$HOST_ROOT" PREFIX="${PREFIX:-/usr/local}"
claim="$HOST_ROOT$PREFIX/lib/crisp/installed-by-pod"

host() { nsenter --target 1 --mount --uts --ipc --net --pid -- "$@"; }
say() { echo "crisp: $*"; }

install_on_node() {
  rm -f "$INSTALLED_MARKER"
  "$RELEASE_DIR/install.sh" install
  if [[ -f "$DEPLOY_DIR/crisp.toml" ]]; then
    install -d -m 0700 "$HOST_ROOT/etc/crisp"
    install -m 0600 "$DEPLOY_DIR/crisp.toml" "$HOST_ROOT/etc/crisp/crisp.toml"
    say "wrote /etc/crisp/crisp.toml from the chart's values"
  fi
  echo "$POD_UID" > "$claim"
  if [[ "${ENABLE_SERVICE:-true}" == "true" ]]; then
    host systemctl daemon-reload
    # A restart takes the new binary; containers outlive it (KillMode=process).
    host systemctl enable crisp
    host systemctl restart crisp
    host "$PREFIX/bin/crispd" check || say "crispd check reports missing prerequisites (above)"
  fi
  touch "$INSTALLED_MARKER"
  say "installed by pod $POD_UID"
}

uninstall_from_node() {
  if [[ "${CLEANUP_ON_DELETE:-true}" != "true" ]]; then
    say "cleanup.onDelete is false: crisp stays installed"
    return
  fi
  local holder
  holder="$(cat "$claim" 2>/dev/null || echo none)"
  if [[ "$holder" != "$POD_UID" ]]; then
    say "left installed: crisp on this node was installed by pod $holder, not by this pod $POD_UID (a rolling update)"
    return
  fi
  host systemctl disable --now crisp || true
  "$RELEASE_DIR/install.sh" uninstall
  host systemctl daemon-reload || true
}

case "${1:-install}" in
  install) install_on_node ;;
  uninstall) uninstall_from_node ;;
  *) echo "usage: deploy.sh install|uninstall" >&2; exit 2 ;;
esac
