using Crisp.Runtime.Handlers;
using Crisp.Runtime.Preflight;
using Xunit;

namespace Crisp.Runtime.Tests.Preflight;

public sealed class HostPreflightTests : IDisposable
{
    private readonly FakePreflightHost _host = new();

    public void Dispose() => _host.Dispose();

    private async Task<IReadOnlyList<PreflightItem>> CheckAsync(Api.RuntimeOptions? options = null) =>
        await HostPreflight.RunAsync(options ?? _host.Options(), _host.Build(), CancellationToken.None);

    private async Task<PreflightItem> ItemAsync(string name, Api.RuntimeOptions? options = null) =>
        Assert.Single(await CheckAsync(options), i => i.Name == name);

    private void WriteCniNetwork(params string[] binaries)
    {
        _host.Write("cni/10-test.conflist", """
            {"cniVersion":"1.0.0","name":"testnet","plugins":[{"type":"bridge","ipam":{"type":"host-local"}},{"type":"loopback"}]}
            """);
        foreach (var binary in binaries)
        {
            _host.Write($"cni-bin/{binary}", "#!/bin/sh\n");
            // Owner-writable too: a later call rewrites the same file, which only root could do to a read-only one.
            File.SetUnixFileMode(_host.P($"cni-bin/{binary}"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public async Task A_healthy_host_is_all_ok_but_the_network_and_exits_0()
    {
        var items = await CheckAsync();

        Assert.All(items.Where(i => i.Name != "CNI"), i => Assert.Equal(PreflightStatus.Ok, i.Status));
        Assert.Equal(0, HostPreflight.ExitCode(items));
    }

    [Fact]
    public async Task Not_root_is_missing_and_exits_1()
    {
        _host.Uid = 1000;

        var items = await CheckAsync();

        var item = Assert.Single(items, i => i.Name == "privileges");
        Assert.Equal(PreflightStatus.Missing, item.Status);
        Assert.Contains("uid 1000", item.Detail);
        Assert.Equal(1, HostPreflight.ExitCode(items));
    }

    [Fact]
    public async Task A_missing_memory_controller_is_missing_and_a_missing_pids_controller_degraded()
    {
        _host.Write("cgroup/cgroup.controllers", "cpuset cpu io pids\n");
        Assert.Equal(PreflightStatus.Missing, (await ItemAsync("cgroups")).Status);

        _host.Write("cgroup/cgroup.controllers", "cpuset cpu io memory\n");
        var item = await ItemAsync("cgroups");
        Assert.Equal(PreflightStatus.Degraded, item.Status);
        Assert.Contains("no pids", item.Detail);
    }

    [Fact]
    public async Task Hybrid_cgroups_read_v1_controllers_from_proc_cgroups()
    {
        _host.Delete("cgroup/cgroup.controllers");
        _host.Write("cgroup/unified/cgroup.controllers", "");
        _host.Write("cgroups", "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t1\t1\t1\nmemory\t0\t1\t1\npids\t3\t1\t1\ncpuset\t4\t1\t1\n");

        var item = await ItemAsync("cgroups");

        Assert.Contains("cgroup v1 (hybrid", item.Detail);
        // memory is compiled in but not mounted (hierarchy 0): not usable.
        Assert.Equal(PreflightStatus.Missing, item.Status);
        Assert.Contains("missing memory", item.Detail);
    }

    [Fact]
    public async Task The_systemd_cgroup_driver_without_systemd_is_missing()
    {
        var options = _host.Options();
        options.CgroupDriver = "systemd";

        Assert.Equal(PreflightStatus.Missing, (await ItemAsync("cgroup driver", options)).Status);
        Directory.CreateDirectory(_host.P("run-systemd"));
        Assert.Equal(PreflightStatus.Ok, (await ItemAsync("cgroup driver", options)).Status);
    }

    [Fact]
    public async Task No_overlay_is_missing_unless_the_module_can_load()
    {
        _host.Write("filesystems", "nodev\tproc\n");
        Assert.Equal(PreflightStatus.Missing, (await ItemAsync("overlayfs")).Status);

        Directory.CreateDirectory(_host.P("modules/overlayfs"));
        Assert.Equal(PreflightStatus.Ok, (await ItemAsync("overlayfs")).Status);
    }

    [Theory]
    [InlineData("5.15.0-91-generic", PreflightStatus.Degraded)]
    [InlineData("5.19.0", PreflightStatus.Ok)]
    [InlineData("6.18.44-fc-v1272", PreflightStatus.Ok)]
    [InlineData("garbage", PreflightStatus.Degraded)]
    public async Task Idmapped_overlay_layers_need_5_19(string release, PreflightStatus expected)
    {
        _host.Write("osrelease", release + "\n");

        Assert.Equal(expected, (await ItemAsync("idmapped mounts")).Status);
    }

    [Fact]
    public async Task A_default_handler_that_cannot_run_is_missing_and_an_extra_one_degraded()
    {
        _host.Executables["crun"] = "/usr/bin/crun";
        _host.Probes["crun"] = HandlerAvailability.NotReady("crun cannot run containers on this host: cgroups in hybrid mode not supported");

        var items = await CheckAsync(_host.Options("runc", "crun"));

        var crun = Assert.Single(items, i => i.Name == "runtime crun");
        Assert.Equal(PreflightStatus.Degraded, crun.Status);
        Assert.Contains("hybrid mode not supported", crun.Detail);
        Assert.Equal(0, HostPreflight.ExitCode(items));

        _host.Probes["runc"] = HandlerAvailability.NotReady("runc cannot run containers on this host: permission denied");
        var runc = await ItemAsync("runtime runc", _host.Options("runc", "crun"));
        Assert.Equal(PreflightStatus.Missing, runc.Status);
        Assert.Contains("the default handler", runc.Detail);
    }

    [Fact]
    public async Task An_absent_runtime_or_conmon_is_missing()
    {
        _host.Executables.Remove("runc");
        _host.Executables.Remove("conmon");

        var items = await CheckAsync();

        Assert.Equal(PreflightStatus.Missing, items.Single(i => i.Name == "runtime runc").Status);
        Assert.Equal(PreflightStatus.Missing, items.Single(i => i.Name == "conmon").Status);
        Assert.Contains(items, i => i.Name == "runtime crun" && i.Detail.Contains("not installed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cni_is_ok_with_a_network_whose_plugins_and_ipam_are_installed()
    {
        Assert.Equal(PreflightStatus.Degraded, (await ItemAsync("CNI")).Status);

        WriteCniNetwork("bridge", "loopback");
        var partial = await ItemAsync("CNI");
        Assert.Equal(PreflightStatus.Degraded, partial.Status);
        Assert.Contains("host-local not found", partial.Detail);

        WriteCniNetwork("bridge", "loopback", "host-local");
        var ok = await ItemAsync("CNI");
        Assert.Equal(PreflightStatus.Ok, ok.Status);
        Assert.Contains("network testnet", ok.Detail);
    }

    [Fact]
    public async Task Cni_with_the_default_config_to_be_written_checks_its_plugins()
    {
        var options = _host.Options();
        options.CniWriteDefaultConfig = true;

        var item = await ItemAsync("CNI", options);

        Assert.Equal(PreflightStatus.Degraded, item.Status);
        Assert.Contains("bridge, portmap, loopback, host-local not found", item.Detail);
    }

    [Fact]
    public async Task No_seccomp_no_lsm_and_no_CAP_SYS_RESOURCE_are_degraded()
    {
        Directory.Delete(_host.P("seccomp"));
        _host.Write("apparmor", "N\n");
        _host.Write("status", "Name:\tcrispd\nCapEff:\t000001fffeffffff\nSeccomp:\t0\n");
        _host.Write("oom_score_adj", "-500\n");

        var items = await CheckAsync();

        Assert.Equal(PreflightStatus.Degraded, items.Single(i => i.Name == "seccomp").Status);
        Assert.Equal(PreflightStatus.Degraded, items.Single(i => i.Name == "AppArmor/SELinux").Status);
        var oom = items.Single(i => i.Name == "oom_score_adj");
        Assert.Equal(PreflightStatus.Degraded, oom.Status);
        Assert.Contains("below -500", oom.Detail);
        Assert.Equal(0, HostPreflight.ExitCode(items));
    }

    [Theory]
    [InlineData(100L << 20, PreflightStatus.Missing)]
    [InlineData(1L << 30, PreflightStatus.Degraded)]
    [InlineData(50L << 30, PreflightStatus.Ok)]
    public async Task Free_space_under_root_has_two_thresholds(long bytes, PreflightStatus expected)
    {
        _host.FreeBytes = bytes;

        Assert.Equal(expected, (await ItemAsync("free space")).Status);
    }
}
