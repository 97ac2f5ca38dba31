#!/usr/bin/env bash
# Installs or uninstalls crisp: used by `make install`/`make uninstall`, shipped at the top of the release tarball
# and run by the Helm chart's installer pod. Honours DESTDIR, PREFIX, SYSCONFDIR and UNITDIR.
#
#   install.sh [install|uninstall]
#
# CRISPD_DIR is the build output holding crispd (a native binary, or the apphost with its assemblies); in a release
# tree it is ./crispd beside this script. CRISPD_CONFIG is the default crisp.toml to install; without it the
# embedded defaults are printed by `crispd --print-default-config`.
set -euo pipefail

action="${1:-install}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DESTDIR="${DESTDIR:-}"
PREFIX="${PREFIX:-/usr/local}"
SYSCONFDIR="${SYSCONFDIR:-/etc}"
if [[ -z "${UNITDIR:-}" ]]; then
  # Packages own /lib/systemd/system; a local install belongs in /etc/systemd/system.
  if [[ "$PREFIX" == "/usr" ]]; then UNITDIR=/lib/systemd/system; else UNITDIR=/etc/systemd/system; fi
fi
CRISPD_DIR="${CRISPD_DIR:-$here/crispd}"
UNIT_TEMPLATE="${UNIT_TEMPLATE:-$here/crisp.service.in}"
# A release tree carries its default crisp.toml; the chart passes the one rendered from its values.
if [[ -z "${CRISPD_CONFIG:-}" && -f "$here/crisp.toml" ]]; then CRISPD_CONFIG="$here/crisp.toml"; fi

libdir="$PREFIX/lib/crisp"
bindir="$PREFIX/bin"
config="$SYSCONFDIR/crisp/crisp.toml"
# The hash of the config as installed: uninstall removes the file only while it still matches (a dpkg conffile).
config_hash="$libdir/crisp.toml.installed.sha256"

say() { echo "crisp: $*"; }

install_crisp() {
  [[ -x "$CRISPD_DIR/crispd" ]] || { echo "crisp: no crispd in $CRISPD_DIR (run make build first)" >&2; exit 1; }
  [[ -f "$UNIT_TEMPLATE" ]] || { echo "crisp: no unit template at $UNIT_TEMPLATE" >&2; exit 1; }

  # The library dir is crisp's alone: replace it whole so no assembly of an older build lingers. The config's
  # recorded hash lives there too and is carried over, so an upgrade keeps crisp.toml's conffile state.
  local recorded_hash=""
  if [[ -f "$DESTDIR$config_hash" ]]; then recorded_hash="$(cat "$DESTDIR$config_hash")"; fi
  rm -rf "$DESTDIR$libdir"
  install -d -m 0755 "$DESTDIR$libdir" "$DESTDIR$bindir" "$DESTDIR$UNITDIR"
  cp -a "$CRISPD_DIR/." "$DESTDIR$libdir/"
  if [[ -n "$recorded_hash" ]]; then echo "$recorded_hash" > "$DESTDIR$config_hash"; fi
  ln -sfn "../lib/crisp/crispd" "$DESTDIR$bindir/crispd"
  say "installed $bindir/crispd -> $libdir/crispd"

  # crispd reads /etc/crisp/crisp.toml unless told otherwise: a config installed elsewhere is named in ExecStart.
  local crispd_args=""
  if [[ "$config" != "/etc/crisp/crisp.toml" ]]; then crispd_args=" --config $config"; fi
  sed -e "s|@BINDIR@|$bindir|g" -e "s|@CRISPD_ARGS@|$crispd_args|g" "$UNIT_TEMPLATE" > "$DESTDIR$UNITDIR/crisp.service"
  chmod 0644 "$DESTDIR$UNITDIR/crisp.service"
  say "installed $UNITDIR/crisp.service"

  if [[ -e "$DESTDIR$config" ]]; then
    say "kept the existing $config"
  else
    # Crisp-owned: directory 0700, file 0600 (docs/architecture.md, Security model).
    install -d -m 0700 "$DESTDIR$SYSCONFDIR/crisp"
    local tmp
    tmp="$(mktemp "$DESTDIR$SYSCONFDIR/crisp/.crisp.toml.XXXXXX")"
    if [[ -n "${CRISPD_CONFIG:-}" ]]; then
      cat "$CRISPD_CONFIG" > "$tmp"
    else
      "$CRISPD_DIR/crispd" --print-default-config > "$tmp"
    fi
    chmod 0600 "$tmp"
    mv "$tmp" "$DESTDIR$config"
    sha256sum < "$DESTDIR$config" | cut -d' ' -f1 > "$DESTDIR$config_hash"
    say "installed $config (the embedded defaults)"
  fi
  if [[ -z "$DESTDIR" ]]; then
    say "next: systemctl daemon-reload && systemctl enable --now crisp"
  fi
}

uninstall_crisp() {
  if [[ -z "$DESTDIR" ]] && command -v systemctl >/dev/null && systemctl is-active --quiet crisp 2>/dev/null; then
    say "crisp.service is running; its containers keep running (KillMode=process). Stop it first: systemctl disable --now crisp"
  fi
  if [[ -L "$DESTDIR$bindir/crispd" && "$(readlink "$DESTDIR$bindir/crispd")" == "../lib/crisp/crispd" ]]; then
    rm -f "$DESTDIR$bindir/crispd"
    say "removed $bindir/crispd"
  fi
  if [[ -f "$DESTDIR$UNITDIR/crisp.service" ]]; then
    rm -f "$DESTDIR$UNITDIR/crisp.service"
    say "removed $UNITDIR/crisp.service"
  fi
  if [[ -f "$DESTDIR$config" ]]; then
    if [[ -f "$DESTDIR$config_hash" && "$(sha256sum < "$DESTDIR$config" | cut -d' ' -f1)" == "$(cat "$DESTDIR$config_hash")" ]]; then
      rm -f "$DESTDIR$config"
      rmdir "$DESTDIR$SYSCONFDIR/crisp" 2>/dev/null || true
      say "removed $config (unchanged since install)"
    else
      say "kept $config: it was changed after install or was there before (remove it by hand if unwanted)"
    fi
  fi
  rm -rf "$DESTDIR$libdir"
  say "removed $libdir (state under /var/lib/crisp and /run/crisp is left alone)"
}

case "$action" in
  install) install_crisp ;;
  uninstall) uninstall_crisp ;;
  *) echo "usage: $0 [install|uninstall]" >&2; exit 2 ;;
esac
