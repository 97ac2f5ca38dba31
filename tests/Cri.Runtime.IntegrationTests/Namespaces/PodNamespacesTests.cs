using System.Diagnostics;
using Crisp.Interop.Procfs;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Namespaces;
using Crisp.Runtime.IntegrationTests.Handlers;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.Runtime.IntegrationTests.Namespaces;

public sealed class PodNamespacesTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "crisp-ns-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task Pins_namespaces_and_a_pid_holder_then_removes_everything()
    {
        var namespaces = new PodNamespaces(_dir, NullLogger<PodNamespaces>.Instance);
        var id = "sb" + Guid.NewGuid().ToString("N")[..10];
        var pinned = await namespaces.CreateAsync(id, newNetwork: true, newIpc: true, newUts: true, sharedPid: true, "pod-host", userNamespace: null, CancellationToken.None);

        var mounts = MountTable.ReadSelf();
        foreach (var path in new[] { pinned.NetworkPath, pinned.IpcPath, pinned.UtsPath, pinned.PidPath })
        {
            Assert.NotNull(path);
            Assert.True(mounts.IsMountPoint(path), $"{path} is not pinned");
        }
        Assert.NotNull(pinned.PidHolder);
        Assert.True(pinned.PidHolder.Value.IsAlive());
        Assert.True(namespaces.IsPidHolderAlive(id));
        Assert.Equal("pod-host", (await RunAsync("nsenter", "--uts=" + pinned.UtsPath, "cat", "/proc/sys/kernel/hostname")).Trim());
        // The holder is pid 1 of the pod's PID namespace, and a process entering it sees itself as another pid.
        Assert.NotEqual("1", (await RunAsync("nsenter", "--pid=" + pinned.PidPath, "--", "/bin/sh", "-c", "echo $$")).Trim());

        var loaded = namespaces.Load(id);
        Assert.Equal(pinned with { }, loaded);

        await namespaces.RemoveAsync(id, CancellationToken.None);
        Assert.Empty(MountTable.ReadSelf().MountPointsUnder(_dir));
        Assert.False(MountTable.ReadSelf().IsMountPoint(_dir));
        Assert.False(Directory.Exists(Path.Combine(_dir, id)));
        await RuntimeTestSupport.EventuallyAsync(() => !pinned.PidHolder.Value.IsAlive(), TimeSpan.FromSeconds(5), "holder exit");
        // Idempotent.
        await namespaces.RemoveAsync(id, CancellationToken.None);
        Assert.Null(namespaces.Load(id));
    }

    [Fact]
    public async Task A_restarted_daemon_finds_and_removes_what_the_previous_one_pinned()
    {
        var id = "sb" + Guid.NewGuid().ToString("N")[..10];
        var before = new PodNamespaces(_dir, NullLogger<PodNamespaces>.Instance);
        var pinned = await before.CreateAsync(id, true, true, true, sharedPid: true, "survivor", userNamespace: null, CancellationToken.None);

        // A new instance knows nothing in memory: everything comes from the files and mounts.
        var after = new PodNamespaces(_dir, NullLogger<PodNamespaces>.Instance);
        Assert.Equal(pinned, after.Load(id));
        Assert.True(after.IsPidHolderAlive(id));
        await after.RemoveAsync(id, CancellationToken.None);
        await RuntimeTestSupport.EventuallyAsync(() => !pinned.PidHolder!.Value.IsAlive(), TimeSpan.FromSeconds(5), "holder exit");
        Assert.Empty(MountTable.ReadSelf().MountPointsUnder(Path.Combine(_dir, id)));
    }

    [Fact]
    public async Task Host_namespaces_pin_nothing()
    {
        var namespaces = new PodNamespaces(_dir, NullLogger<PodNamespaces>.Instance);
        var pinned = await namespaces.CreateAsync("hostnet", newNetwork: false, newIpc: false, newUts: false, sharedPid: false, null, userNamespace: null, CancellationToken.None);
        Assert.Equal(new PinnedNamespaces(null, null, null, null, null), pinned);
        await namespaces.RemoveAsync("hostnet", CancellationToken.None);
    }

    [Fact]
    public async Task A_container_joins_the_pinned_namespaces()
    {
        var namespaces = new PodNamespaces(_dir, NullLogger<PodNamespaces>.Instance);
        var id = "sb" + Guid.NewGuid().ToString("N")[..10];
        var pinned = await namespaces.CreateAsync(id, true, true, true, sharedPid: true, "joined-pod", userNamespace: null, CancellationToken.None);
        using var bundle = new BusyboxBundle(["/bin/sh", "-c", "cat /proc/sys/kernel/hostname; echo pid=$$"], c =>
        {
            c.Remove("hostname"); // the UTS namespace is shared: its name comes from the pod
            c["linux"]!["namespaces"] = new System.Text.Json.Nodes.JsonArray(
                BusyboxBundle.Ns("pid", pinned.PidPath), BusyboxBundle.Ns("ipc", pinned.IpcPath), BusyboxBundle.Ns("uts", pinned.UtsPath),
                BusyboxBundle.Ns("network", pinned.NetworkPath), BusyboxBundle.Ns("mount"));
        });
        var handler = await RuntimeTestSupport.RuncAsync(bundle.RuntimeRoot);
        try
        {
            await handler.CreateAsync(bundle.Launch(), CancellationToken.None);
            await handler.StartAsync(bundle.ContainerId, CancellationToken.None);
            var log = await RuntimeTestSupport.EventuallyAsync(
                () => RuntimeTestSupport.ReadOrNull(bundle.LogPath) is { } t && t.Contains("pid=") ? t : null, TimeSpan.FromSeconds(10), "container output");
            Assert.Contains(" stdout F joined-pod", log);
            Assert.DoesNotContain(" stdout F pid=1\n", log); // pid 1 is the pod's holder, not the container
        }
        finally
        {
            await handler.DeleteAsync(bundle.ContainerId, force: true, CancellationToken.None);
            await namespaces.RemoveAsync(id, CancellationToken.None);
        }
    }

    private static async Task<string> RunAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.Equal(0, p.ExitCode);
        return output;
    }

    public void Dispose()
    {
        foreach (var m in MountTable.ReadSelf().MountPointsUnder(_dir))
            Crisp.Interop.Libc.Unmount(m, Crisp.Interop.Libc.MNT_DETACH);
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
