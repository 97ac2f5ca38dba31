# crisp — build, run and test. Every target that needs system packages calls `deps` first.
CONFIGURATION ?= Release
CRISPD := src/Cri.Server/bin/$(CONFIGURATION)/net10.0/crispd
ARGS ?=

.PHONY: deps build run test unit integration e2e bench clean

deps:
	@scripts/install-deps.sh

build: deps
	dotnet build Cri.sln -c $(CONFIGURATION) -nologo -clp:NoSummary -warnaserror

# Starts crispd in the foreground with embedded defaults (Ctrl-C stops it).
# A single-node user gets a default bridge network when /etc/cni/net.d is empty.
run: build
	$(CRISPD) --network-write-default-cni-config true $(ARGS)

# Every unit, integration and e2e test (root required for integration and e2e); ends with one summary line.
test: build
	scripts/test-summary.sh $(CONFIGURATION)

# Root-free: needs no runc, conmon or CNI plugins, writes no cgroup and mounts nothing.
unit: build
	dotnet test tests/Cri.Interop.Tests -c $(CONFIGURATION) --no-build
	dotnet test tests/Cri.Server.Tests -c $(CONFIGURATION) --no-build
	dotnet test tests/Cri.ImageService.Tests -c $(CONFIGURATION) --no-build
	dotnet test tests/Cri.Runtime.Tests -c $(CONFIGURATION) --no-build

# Against the real host (runc, conmon, cgroups, mounts, namespaces, foreign owners, device nodes); needs root.
integration: build
	dotnet test tests/Cri.Runtime.IntegrationTests -c $(CONFIGURATION) --no-build
	dotnet test tests/Cri.ImageService.IntegrationTests -c $(CONFIGURATION) --no-build

e2e: build
	dotnet test tests/e2e -c $(CONFIGURATION) --no-build

bench: build
	dotnet bench/Cri.Bench/bin/$(CONFIGURATION)/net10.0/Cri.Bench.dll

clean:
	dotnet clean Cri.sln -c $(CONFIGURATION) -nologo
