using Xunit;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Crisp.Runtime.Api;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Monitor;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crisp.Runtime.IntegrationTests.Handlers;

/// <summary>runc under conmon on the real host: create, start, logs, exit, exec, reopen, update, delete.</summary>
public sealed class ConmonContainerTests
{
    private static readonly Regex CriLogLine = new(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) (stdout|stderr) (F|P) (.*)$");

    [Fact]
    public async Task Create_start_log_exit_and_delete()
    {
        using var bundle = new BusyboxBundle(["/bin/sh", "-c", "echo hello; echo oops >&2; sleep 0.2; exit 7"]);
        var handler = await RuntimeTestSupport.RuncAsync(bundle.RuntimeRoot);
        using var watcher = new ExitWatcher(bundle.ExitDir, NullLogger<ExitWatcher>.Instance, scanInterval: TimeSpan.FromMilliseconds(200));
        var exited = new TaskCompletionSource<ContainerExitedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        watcher.ContainerExited += (_, e) => { if (e.ContainerId == bundle.ContainerId) exited.TrySetResult(e); };
        watcher.Start();
        try
        {
            await handler.CreateAsync(bundle.Launch(), CancellationToken.None);
            var created = await handler.StateAsync(bundle.ContainerId, CancellationToken.None);
            Assert.NotNull(created);
            Assert.Equal(RuntimeStatus.Created, created.Status);
            Assert.True(created.Pid > 0);
            Assert.Equal(created.Pid, ConmonFiles.ReadContainerPid(bundle.PersistDir));
            Assert.NotNull(ConmonFiles.ReadConmonPid(bundle.PersistDir));
            Assert.True(ConmonFiles.IsConmonRunning(bundle.PersistDir, bundle.ContainerId));
            Assert.False(ConmonFiles.IsConmonRunning(bundle.PersistDir, "some-other-container"));

            await handler.StartAsync(bundle.ContainerId, CancellationToken.None);
            var exit = await exited.Task.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(7, exit.ExitCode);
            Assert.True(DateTimeOffset.UtcNow - exit.ExitedAt < TimeSpan.FromSeconds(30));
            Assert.Equal(7, watcher.ReadExit(bundle.ContainerId)?.ExitCode);

            var lines = await RuntimeTestSupport.EventuallyAsync(
                () => File.Exists(bundle.LogPath) && File.ReadAllLines(bundle.LogPath).Length >= 2 ? File.ReadAllLines(bundle.LogPath) : null,
                TimeSpan.FromSeconds(5), "two log lines");
            Assert.All(lines, l => Assert.Matches(CriLogLine, l));
            Assert.Contains(lines, l => l.EndsWith(" stdout F hello", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.EndsWith(" stderr F oops", StringComparison.Ordinal));

            await RuntimeTestSupport.EventuallyAsync(() => !ConmonFiles.IsConmonRunning(bundle.PersistDir, bundle.ContainerId), TimeSpan.FromSeconds(5), "conmon exit");
            var stopped = await handler.StateAsync(bundle.ContainerId, CancellationToken.None);
            Assert.Equal(RuntimeStatus.Stopped, stopped?.Status);
            // Signalling a stopped container is not an error.
            await handler.KillAsync(bundle.ContainerId, 15, all: false, CancellationToken.None);
        }
        finally
        {
            await handler.DeleteAsync(bundle.ContainerId, force: true, CancellationToken.None);
        }
        Assert.Null(await handler.StateAsync(bundle.ContainerId, CancellationToken.None));
        // Absent containers: delete and kill are quietly done.
        await handler.DeleteAsync(bundle.ContainerId, force: false, CancellationToken.None);
        await handler.KillAsync(bundle.ContainerId, 9, all: true, CancellationToken.None);
        Assert.False(Directory.Exists("/sys/fs/cgroup/memory" + bundle.CgroupsPath));
    }

    [Fact]
    public async Task Kill_reports_signal_exit_code()
    {
        using var bundle = new BusyboxBundle(["/bin/sleep", "100"]);
        var handler = await RuntimeTestSupport.RuncAsync(bundle.RuntimeRoot);
        try
        {
            // No log path: conmon runs with its "none" log driver.
            await handler.CreateAsync(bundle.Launch() with { LogPath = "" }, CancellationToken.None);
            await handler.StartAsync(bundle.ContainerId, CancellationToken.None);
            Assert.Equal(RuntimeStatus.Running, (await handler.StateAsync(bundle.ContainerId, CancellationToken.None))?.Status);
            await handler.KillAsync(bundle.ContainerId, 9, all: true, CancellationToken.None);
            var exit = await RuntimeTestSupport.EventuallyAsync(() => ExitFile.TryRead(bundle.ExitDir, bundle.ContainerId), TimeSpan.FromSeconds(10), "exit file");
            Assert.Equal(137, exit.ExitCode);
        }
        finally
        {
            await handler.DeleteAsync(bundle.ContainerId, force: true, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Tty_container_output_reaches_the_log()
    {
        using var bundle = new BusyboxBundle(["/bin/sh", "-c", "[ -t 1 ] && echo on-a-tty"], c => c["process"]!["terminal"] = true);
        var handler = await RuntimeTestSupport.RuncAsync(bundle.RuntimeRoot);
        try
        {
            await handler.CreateAsync(bundle.Launch(tty: true), CancellationToken.None);
            await handler.StartAsync(bundle.ContainerId, CancellationToken.None);
            var exit = await RuntimeTestSupport.EventuallyAsync(() => ExitFile.TryRead(bundle.ExitDir, bundle.ContainerId), TimeSpan.FromSeconds(10), "exit file");
            Assert.Equal(0, exit.ExitCode);
            await RuntimeTestSupport.EventuallyAsync(() => RuntimeTestSupport.ReadOrNull(bundle.LogPath)?.Contains(" stdout F on-a-tty") == true, TimeSpan.FromSeconds(5), "tty output");
        }
        finally
        {
            await handler.DeleteAsync(bundle.ContainerId, force: true, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Create_failure_carries_the_runtime_error()
    {
        using var bundle = new BusyboxBundle(["/bin/does-not-exist"]);
        var handler = await RuntimeTestSupport.RuncAsync(bundle.RuntimeRoot);
        try
        {
            var e = await Assert.ThrowsAsync<RuntimeException>(() => handler.CreateAsync(bundle.Launch(), CancellationToken.None));
            Assert.Contains("/bin/does-not-exist", e.Message);
            Assert.Contains(bundle.ContainerId, e.Message);
        }
        finally
        {
            await handler.DeleteAsync(bundle.ContainerId, force: true, CancellationToken.None);
        }
    }

    [SkippableFact]
    public async Task Oom_score_below_the_hosts_floor_fails_with_runtime_text()
    {
        var floor = Crisp.Runtime.Host.HostFeatureDetector.Detect().MinOomScoreAdj;
        Skip.If(floor <= -1000, "this host lets crisp lower oom_score_adj to -1000 (CAP_SYS_RESOURCE): there is no floor to go below");
        using var bundle = new BusyboxBundle(["/bin/true"], c => c["process"]!["oomScoreAdj"] = floor - 1);
        var handler = await RuntimeTestSupport.RuncAsync(bundle.RuntimeRoot);
        try
        {
            var e = await Assert.ThrowsAsync<RuntimeException>(() => handler.CreateAsync(bundle.Launch(), CancellationToken.None));
            Assert.Contains("oom_score_adj", e.Message);
        }
        finally
        {
            await handler.DeleteAsync(bundle.ContainerId, force: true, CancellationToken.None);
        }
    }

    [Fact]
    public async Task ExecSync_output_exit_code_timeout_and_pipe_holders()
    {
        using var bundle = new BusyboxBundle(["/bin/sleep", "300"]);
        var handler = await RuntimeTestSupport.RuncAsync(bundle.RuntimeRoot);
        try
        {
            await handler.CreateAsync(bundle.Launch(), CancellationToken.None);
            await handler.StartAsync(bundle.ContainerId, CancellationToken.None);

            var ok = await handler.ExecSyncAsync(ExecTarget.ById(bundle.ContainerId), ["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], TimeSpan.FromSeconds(10), 1024, CancellationToken.None);
            Assert.Equal(3, ok.ExitCode);
            Assert.False(ok.TimedOut);
            Assert.Equal("out\n", System.Text.Encoding.UTF8.GetString(ok.Stdout));
            Assert.Equal("err\n", System.Text.Encoding.UTF8.GetString(ok.Stderr));

            var missing = await Assert.ThrowsAsync<RuntimeException>(() =>
                handler.ExecSyncAsync(ExecTarget.ById(bundle.ContainerId), ["/bin/no-such-tool"], TimeSpan.FromSeconds(10), 1024, CancellationToken.None));
            Assert.Contains("/bin/no-such-tool", missing.Message);

            var capped = await handler.ExecSyncAsync(ExecTarget.ById(bundle.ContainerId), ["/bin/sh", "-c", "yes | head -c 100000"], TimeSpan.FromSeconds(10), 1000, CancellationToken.None);
            // stdout and stderr share the budget; what is dropped is counted and marked at the end of the stream.
            Assert.Equal(0, capped.ExitCode);
            Assert.Equal(99_000, capped.DroppedOutputBytes);
            var cappedText = System.Text.Encoding.UTF8.GetString(capped.Stdout);
            Assert.StartsWith(string.Concat(Enumerable.Repeat("y\n", 500)), cappedText);
            Assert.Equal("\n[crisp: output truncated, 99000 more bytes dropped; stdout and stderr together are limited to 1000 bytes]\n", cappedText[1000..]);

            var sw = Stopwatch.StartNew();
            var slow = await handler.ExecSyncAsync(ExecTarget.ById(bundle.ContainerId), ["/bin/sleep", "10"], TimeSpan.FromSeconds(1), 1024, CancellationToken.None);
            sw.Stop();
            Assert.True(slow.TimedOut);
            // The upper bounds leave CI-load room while staying far below the commands' own run time (10 s, 100 s).
            Assert.InRange(sw.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(4));

            // The background sleep inherits the pipes; the call must not wait for it.
            sw.Restart();
            var bg = await handler.ExecSyncAsync(ExecTarget.ById(bundle.ContainerId), ["/bin/sh", "-c", "sleep 100 & echo started"], TimeSpan.FromSeconds(5), 1024, CancellationToken.None);
            sw.Stop();
            Assert.Equal(0, bg.ExitCode);
            Assert.Equal("started\n", System.Text.Encoding.UTF8.GetString(bg.Stdout));
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(4), $"took {sw.Elapsed}");

            sw.Restart();
            var bgTimeout = await handler.ExecSyncAsync(ExecTarget.ById(bundle.ContainerId), ["/bin/sh", "-c", "sleep 100 & sleep 100"], TimeSpan.FromSeconds(1), 1024, CancellationToken.None);
            sw.Stop();
            Assert.True(bgTimeout.TimedOut);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(4), $"took {sw.Elapsed}");
        }
        finally
        {
            await handler.DeleteAsync(bundle.ContainerId, force: true, CancellationToken.None);
        }
    }

    [Fact]
    public async Task ReopenLog_makes_conmon_write_a_new_file()
    {
        using var bundle = new BusyboxBundle(["/bin/sh", "-c", "while true; do echo tick; sleep 0.1; done"]);
        var handler = await RuntimeTestSupport.RuncAsync(bundle.RuntimeRoot);
        try
        {
            await handler.CreateAsync(bundle.Launch(), CancellationToken.None);
            await handler.StartAsync(bundle.ContainerId, CancellationToken.None);
            await RuntimeTestSupport.EventuallyAsync(() => RuntimeTestSupport.ReadOrNull(bundle.LogPath)?.Contains("tick") == true, TimeSpan.FromSeconds(5), "first tick");

            var rotated = bundle.LogPath + ".1";
            File.Move(bundle.LogPath, rotated);
            await handler.ReopenLogAsync(bundle.ContainerId, bundle.LogPath, CancellationToken.None);
            Assert.True(File.Exists(bundle.LogPath));
            await RuntimeTestSupport.EventuallyAsync(() => RuntimeTestSupport.ReadOrNull(bundle.LogPath)?.Contains(" stdout F tick") == true, TimeSpan.FromSeconds(5), "tick in the reopened log");
        }
        finally
        {
            await handler.DeleteAsync(bundle.ContainerId, force: true, CancellationToken.None);
        }
        // conmon has gone with the container: reopening now is a clear error.
        await Assert.ThrowsAsync<RuntimeException>(() => handler.ReopenLogAsync(bundle.ContainerId, CancellationToken.None));
    }

    [Fact]
    public async Task UpdateResources_changes_the_live_cgroup()
    {
        using var bundle = new BusyboxBundle(["/bin/sleep", "300"]);
        var handler = await RuntimeTestSupport.RuncAsync(bundle.RuntimeRoot);
        try
        {
            await handler.CreateAsync(bundle.Launch(), CancellationToken.None);
            await handler.StartAsync(bundle.ContainerId, CancellationToken.None);
            await handler.UpdateResourcesAsync(bundle.ContainerId, """{"memory":{"limit":67108864},"cpu":{"quota":50000,"period":100000}}""", CancellationToken.None);

            var layout = Crisp.Runtime.Host.CgroupLayoutDetector.Detect();
            if (layout == Crisp.Runtime.Host.CgroupLayout.Unified)
            {
                Assert.Equal("67108864", File.ReadAllText("/sys/fs/cgroup" + bundle.CgroupsPath + "/memory.max").Trim());
                Assert.Equal("50000 100000", File.ReadAllText("/sys/fs/cgroup" + bundle.CgroupsPath + "/cpu.max").Trim());
            }
            else
            {
                Assert.Equal("67108864", File.ReadAllText("/sys/fs/cgroup/memory" + bundle.CgroupsPath + "/memory.limit_in_bytes").Trim());
                Assert.Equal("50000", File.ReadAllText("/sys/fs/cgroup/cpu" + bundle.CgroupsPath + "/cpu.cfs_quota_us").Trim());
            }
        }
        finally
        {
            await handler.DeleteAsync(bundle.ContainerId, force: true, CancellationToken.None);
        }
    }
}
