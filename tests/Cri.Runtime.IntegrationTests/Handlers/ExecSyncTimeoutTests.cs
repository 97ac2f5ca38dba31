using System.Diagnostics;
using System.Text.Json;
using Crisp.Runtime.Handlers;
using Xunit;

namespace Crisp.Runtime.IntegrationTests.Handlers;

/// <summary>
/// A timed-out ExecSync must not leave its process behind in the container: the CRI conformance suite execs
/// `sleep 4321` with a 1 s timeout and straight after lists the processes named sleep, expecting none.
/// </summary>
public sealed class ExecSyncTimeoutTests
{
    [Fact]
    public async Task Timed_out_exec_process_is_gone_when_the_call_returns()
    {
        using var bundle = new BusyboxBundle(["/bin/sleep", "300"]);
        var handler = await RuntimeTestSupport.RuncAsync(bundle.RuntimeRoot);
        try
        {
            await handler.CreateAsync(bundle.Launch(), CancellationToken.None);
            await handler.StartAsync(bundle.ContainerId, CancellationToken.None);

            for (var round = 0; round < 3; round++)
            {
                var sw = Stopwatch.StartNew();
                var slow = await handler.ExecSyncAsync(ExecTarget.ById(bundle.ContainerId), ["sleep", "4321"], TimeSpan.FromSeconds(1), 1024, CancellationToken.None);
                sw.Stop();
                Assert.True(slow.TimedOut);
                // The upper bound leaves CI-load room while staying far below the command's own run time (4321 s).
                Assert.InRange(sw.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(4));

                // Immediately, as critest does. Not even a zombie may be left: pgrep lists those too.
                var sleeps = (await ContainerProcessesAsync(handler, bundle)).Where(p => p.Comm == "sleep" && p.Pid != 1).ToList();
                Assert.True(sleeps.Count == 0, $"round {round}: left behind {string.Join(", ", sleeps)}");
                Assert.DoesNotContain("4321", await HostViewAsync(bundle));
            }

            // The container itself is untouched.
            var ps = await handler.ExecSyncAsync(ExecTarget.ById(bundle.ContainerId), ["ps", "-o", "pid,args"], TimeSpan.FromSeconds(10), 64 * 1024, CancellationToken.None);
            Assert.Equal(0, ps.ExitCode);
            Assert.Contains("sleep 300", System.Text.Encoding.UTF8.GetString(ps.Stdout));
        }
        finally
        {
            await handler.DeleteAsync(bundle.ContainerId, force: true, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Timed_out_exec_takes_its_children_along()
    {
        using var bundle = new BusyboxBundle(["/bin/sleep", "300"]);
        var handler = await RuntimeTestSupport.RuncAsync(bundle.RuntimeRoot);
        try
        {
            await handler.CreateAsync(bundle.Launch(), CancellationToken.None);
            await handler.StartAsync(bundle.ContainerId, CancellationToken.None);

            var sw = Stopwatch.StartNew();
            var slow = await handler.ExecSyncAsync(ExecTarget.ById(bundle.ContainerId), ["sh", "-c", "sleep 4321 & sleep 4322 & sleep 4323"], TimeSpan.FromSeconds(1), 1024, CancellationToken.None);
            sw.Stop();
            Assert.True(slow.TimedOut);
            // A tree to kill on a loaded 2-core CI host: far below the 4321 s the tree would run, with room for runc exec, kill and reap.
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(4), $"took {sw.Elapsed}");

            // The background sleeps die with the shell. Their parent is gone, so they are orphans of the container's
            // init, which (like `sleep 300` here) may never reap them: zombies are tolerated, running ones are not.
            var alive = (await ContainerProcessesAsync(handler, bundle)).Where(p => p.Comm == "sleep" && p.Pid != 1 && p.State != 'Z').ToList();
            Assert.True(alive.Count == 0, $"still running: {string.Join(", ", alive)}");
            var host = await HostViewAsync(bundle);
            Assert.DoesNotContain("432", host);
            Assert.Contains("sleep 300", host);
        }
        finally
        {
            await handler.DeleteAsync(bundle.ContainerId, force: true, CancellationToken.None);
        }
    }

    private sealed record ContainerProcess(int Pid, string Comm, char State);

    /// <summary>Every process the container's own /proc shows (zombies included), read with shell builtins only.</summary>
    private static async Task<List<ContainerProcess>> ContainerProcessesAsync(OciRuntimeHandler handler, BusyboxBundle bundle)
    {
        var r = await handler.ExecSyncAsync(ExecTarget.ById(bundle.ContainerId),
            ["sh", "-c", "for d in /proc/[0-9]*; do read -r l < \"$d/stat\" && echo \"$l\"; done"], TimeSpan.FromSeconds(10), 256 * 1024, CancellationToken.None);
        Assert.Equal(0, r.ExitCode);
        var result = new List<ContainerProcess>();
        foreach (var line in System.Text.Encoding.UTF8.GetString(r.Stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var open = line.IndexOf('(');
            var close = line.LastIndexOf(')');
            if (open < 0 || close < open || close + 2 >= line.Length) continue;
            var comm = line[(open + 1)..close];
            if (comm == "sh") continue; // the listing shell itself
            result.Add(new ContainerProcess(int.Parse(line[..open].Trim(), System.Globalization.CultureInfo.InvariantCulture), comm, line[close + 2]));
        }
        Assert.Contains(result, p => p.Pid == 1);
        return result;
    }

    /// <summary>Command lines of the container's live processes as runc sees them (its cgroup), one per line.</summary>
    private static async Task<string> HostViewAsync(BusyboxBundle bundle)
    {
        var psi = new ProcessStartInfo("runc") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--root", bundle.RuntimeRoot, "ps", "--format", "json", bundle.ContainerId }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = await p.StandardOutput.ReadToEndAsync();
        var stderr = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"runc ps failed: {stderr}");
        var lines = new List<string>();
        foreach (var pid in JsonSerializer.Deserialize<int[]>(stdout) ?? [])
        {
            var cmdline = RuntimeTestSupport.ReadOrNull($"/proc/{pid}/cmdline");
            if (cmdline is not null) lines.Add(cmdline.Replace('\0', ' ').Trim());
        }
        return string.Join('\n', lines);
    }
}
