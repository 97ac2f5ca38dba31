using Xunit;
using Crisp.Runtime.Api;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Host;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crisp.Runtime.IntegrationTests.Handlers;

/// <summary>Probes the runc and crun installed on this host.</summary>
public sealed class RuntimeHandlerProbeTests
{
    private static Task<RuntimeHandlerRegistry> ProbeAllAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), "crisp-reg-" + Guid.NewGuid().ToString("N")[..8]);
        return RuntimeHandlerRegistry.CreateAsync(Options(dir), NullLoggerFactory.Instance, CancellationToken.None);
    }

    private static RuntimeOptions Options(string dir) => new()
    {
        StateDir = dir,
        Handlers =
        [
            new RuntimeHandlerOptions { Name = "runc", Path = "runc", Root = Path.Combine(dir, "runc") },
            new RuntimeHandlerOptions { Name = "crun", Path = "crun", Root = Path.Combine(dir, "crun") },
            new RuntimeHandlerOptions { Name = "ghost", Path = "/nonexistent/ghost-runtime", Root = Path.Combine(dir, "ghost") },
        ],
    };

    [Fact]
    public async Task Probes_report_each_handler_truthfully()
    {
        var registry = await ProbeAllAsync();

        var runc = registry.Get("runc");
        Assert.True(runc.Availability.Ready, runc.Availability.Reason);
        Assert.Same(runc, registry.Get(""));
        Assert.Same(runc, registry.Get(null));

        var ghost = registry.Get("ghost");
        Assert.False(ghost.Availability.Ready);
        Assert.Contains("not found", ghost.Availability.Reason);

        var unknown = Assert.Throws<RuntimeException>(() => registry.Get("kata"));
        Assert.Equal(RuntimeErrorKind.InvalidArgument, unknown.Kind);
        Assert.Equal("runtime_handler \"kata\" is not configured (known: crun, ghost, runc)", unknown.Message);
    }

    [SkippableFact]
    public async Task Crun_is_not_ready_on_a_hybrid_host_whose_cgroup2_mount_has_controllers()
    {
        Skip.IfNot(CgroupLayoutDetector.Detect() == CgroupLayout.Hybrid && CgroupLayoutDetector.UnifiedControllers().Count > 0,
            "this host is not hybrid with cgroup2 controllers, the layout Debian's crun 1.8.1 refuses");
        var registry = await ProbeAllAsync();

        var crun = registry.Get("crun");
        Assert.False(crun.Availability.Ready);
        Assert.Contains("cgroups in hybrid mode not supported", crun.Availability.Reason);
        var refused = await Assert.ThrowsAsync<RuntimeException>(() => registry.GetReadyAsync("crun", CancellationToken.None));
        Assert.Equal(RuntimeErrorKind.FailedPrecondition, refused.Kind);
        Assert.Contains("hybrid", refused.Message);
    }
}
