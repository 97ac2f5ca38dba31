# crisp — build, run and test. Every target that needs system packages calls `deps` first.
CONFIGURATION ?= Release
# The native AOT crispd (what `make run`, `make test` and packaging use) and the JIT build (tests' assemblies, run-jit).
CRISPD := src/Cri.Server/bin/$(CONFIGURATION)/native/crispd
CRISPD_JIT := src/Cri.Server/bin/$(CONFIGURATION)/net10.0/crispd
ARGS ?=

# Installation (make install / uninstall / release): the files are what `make build` left beside $(CRISPD).
DESTDIR ?=
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
UNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,/etc/systemd/system)
VERSION := $(shell sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)
ARCH := $(shell dpkg --print-architecture 2>/dev/null || uname -m)
RELEASE := crisp-$(VERSION)-linux-$(ARCH)
DIST ?= dist
INSTALL_ENV = DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" SYSCONFDIR="$(SYSCONFDIR)" UNITDIR="$(UNITDIR)" \
	CRISPD_DIR="$(dir $(CRISPD))" UNIT_TEMPLATE=packaging/crisp.service.in

.PHONY: deps build build-jit run run-jit test unit unit-unprivileged integration e2e bench clean install uninstall release dist

deps:
	@scripts/install-deps.sh

build: build-jit
	dotnet publish src/Cri.Server -c $(CONFIGURATION) -r linux-x64 -o $(dir $(CRISPD)) -nologo -clp:NoSummary -warnaserror

# Every project, JIT-compiled: what the test projects run against and what `run-jit` starts.
build-jit: deps
	dotnet build Cri.sln -c $(CONFIGURATION) -nologo -clp:NoSummary -warnaserror

# Starts crispd in the foreground with embedded defaults (Ctrl-C stops it).
# A single-node user gets a default bridge network when /etc/cni/net.d is empty.
run: build
	$(CRISPD) --network-write-default-cni-config true $(ARGS)

# The same daemon JIT-compiled (faster to rebuild while developing; needs the .NET runtime).
run-jit: build-jit
	$(CRISPD_JIT) --network-write-default-cni-config true $(ARGS)

# Every unit, integration and e2e test (root required for integration and e2e); ends with one summary line.
test: build
	scripts/test-summary.sh $(CONFIGURATION)

# Root-free: needs no runc, conmon or CNI plugins, writes no cgroup and mounts nothing.
unit: build
	dotnet test tests/Cri.Interop.Tests -c $(CONFIGURATION) --no-build
	dotnet test tests/Cri.Server.Tests -c $(CONFIGURATION) --no-build
	dotnet test tests/Cri.ImageService.Tests -c $(CONFIGURATION) --no-build
	dotnet test tests/Cri.Runtime.Tests -c $(CONFIGURATION) --no-build
	dotnet test tests/Cri.Chart.Tests -c $(CONFIGURATION) --no-build

# The same unit projects as nobody, with runc, conmon and the CNI plugins hidden (run as root; it drops privileges).
unit-unprivileged: build-jit
	scripts/unit-unprivileged.sh $(CONFIGURATION)

# Against the real host (runc, conmon, cgroups, mounts, namespaces, foreign owners, device nodes); needs root.
integration: build
	dotnet test tests/Cri.Runtime.IntegrationTests -c $(CONFIGURATION) --no-build
	dotnet test tests/Cri.ImageService.IntegrationTests -c $(CONFIGURATION) --no-build

e2e: build
	dotnet test tests/e2e -c $(CONFIGURATION) --no-build

bench: build
	dotnet bench/Cri.Bench/bin/$(CONFIGURATION)/net10.0/Cri.Bench.dll $(ARGS)

# Installs what `make build` produced (it does not build: run it as the user who builds, then install as root):
# crispd under $(PREFIX)/lib/crisp linked from $(PREFIX)/bin, the systemd unit, and /etc/crisp/crisp.toml from the
# embedded defaults unless one exists.
install:
	$(INSTALL_ENV) packaging/install.sh install

# Removes what install put there and nothing else; an edited crisp.toml stays (as a dpkg conffile).
uninstall:
	$(INSTALL_ENV) packaging/install.sh uninstall

# $(DIST)/$(RELEASE).tar.gz and its .sha256 from a fresh build.
release: build
	$(MAKE) dist

# Packs the current build: crispd, install.sh, the unit, the default crisp.toml, LICENSE, INSTALL.md, README.md.
dist:
	@test -x $(CRISPD) || { echo "no $(CRISPD): run make build first" >&2; exit 1; }
	rm -rf $(DIST)/$(RELEASE) $(DIST)/$(RELEASE).tar.gz $(DIST)/$(RELEASE).tar.gz.sha256
	mkdir -p $(DIST)/$(RELEASE)/crispd
	cp -a $(dir $(CRISPD)). $(DIST)/$(RELEASE)/crispd/
	cp packaging/install.sh packaging/crisp.service.in $(DIST)/$(RELEASE)/
	sed -e 's|@BINDIR@|/usr/local/bin|g' -e 's|@CRISPD_ARGS@||g' packaging/crisp.service.in > $(DIST)/$(RELEASE)/crisp.service
	$(CRISPD) --print-default-config > $(DIST)/$(RELEASE)/crisp.toml
	cp packaging/INSTALL.md README.md $(DIST)/$(RELEASE)/
	cp LICENSE $(DIST)/$(RELEASE)/
	tar -C $(DIST) --owner=0 --group=0 --sort=name -czf $(DIST)/$(RELEASE).tar.gz $(RELEASE)
	cd $(DIST) && sha256sum $(RELEASE).tar.gz > $(RELEASE).tar.gz.sha256
	rm -rf $(DIST)/$(RELEASE)
	@echo "$(DIST)/$(RELEASE).tar.gz"; cat $(DIST)/$(RELEASE).tar.gz.sha256

clean:
	dotnet clean Cri.sln -c $(CONFIGURATION) -nologo
