using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Crisp.Runtime.Handlers;
using Xunit;

namespace Crisp.Runtime.IntegrationTests.Handlers;

/// <summary>
/// crispd's topology for a pod with a shared PID namespace: the container joins a namespace whose pid 1 is the
/// pod's holder (a reaping sh loop with its own `sleep` child), not the container's init. A timed-out ExecSync
/// must still leave nothing new behind there. The holder's `sleep` is the pod's own and predates the exec: a bare
/// `pgrep sleep` in such a pod lists it, which is not a leak of the exec (see the holder in PodNamespaces).
/// </summary>
public sealed class ExecSyncSharedPidNamespaceTests
{
    private const string HolderScript = "trap 'exit 0' TERM; while :; do sleep 2147483647 & wait $!; done";

    [Fact]
    public async Task Timed_out_exec_in_a_shared_pod_pid_namespace_leaves_no_new_process()
    {
        using var holder = StartHolder();
        var holderInit = await RuntimeTestSupport.EventuallyAsync(() => HolderInitPid(holder), TimeSpan.FromSeconds(5), "pid namespace holder start");
        using var bundle = new BusyboxBundle(["/bin/sleep", "300"], config =>
        {
            var linux = (JsonObject)config["linux"]!;
            linux["namespaces"] = new JsonArray(
                BusyboxBundle.Ns("pid", $"/proc/{holderInit}/ns/pid"), BusyboxBundle.Ns("ipc"), BusyboxBundle.Ns("uts"),
                BusyboxBundle.Ns("mount"), BusyboxBundle.Ns("network"));
        });
        var handler = await RuntimeTestSupport.RuncAsync(bundle.RuntimeRoot);
        try
        {
            await handler.CreateAsync(bundle.Launch(), CancellationToken.None);
            await handler.StartAsync(bundle.ContainerId, CancellationToken.None);

            var before = await NamespaceProcessesAsync(handler, bundle);
            // The namespace really is the holder's: its sh is pid 1, and the container's init is not.
            Assert.Contains(before, p => p.Pid == 1 && p.Comm == "sh");
            Assert.Contains(before, p => p.Comm == "sleep" && p.Pid != 1);

            for (var round = 0; round < 2; round++)
            {
                var sw = Stopwatch.StartNew();
                var slow = await handler.ExecSyncAsync(ExecTarget.ById(bundle.ContainerId), ["sleep", "4324"], TimeSpan.FromSeconds(1), 1024, CancellationToken.None);
                sw.Stop();
                Assert.True(slow.TimedOut);
                // Far below the 4324 s the command would run; the slack is for a loaded CI machine (runc exec, kill, reap).
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(4), $"took {sw.Elapsed}");

                // Immediately, as critest does; zombies count too.
                var after = await NamespaceProcessesAsync(handler, bundle);
                var added = after.Where(a => !before.Any(b => b.Pid == a.Pid && b.StartTime == a.StartTime)).ToList();
                Assert.True(added.Count == 0, $"round {round}: left behind {string.Join(", ", added)}");
            }
            Assert.DoesNotContain(HostCommandLines(), c => c == "sleep 4324");
        }
        finally
        {
            await handler.DeleteAsync(bundle.ContainerId, force: true, CancellationToken.None);
        }
    }

    private sealed record NsProcess(int Pid, string Comm, char State, ulong StartTime);

    /// <summary>`unshare --pid --fork` running the holder loop as pid 1 of a new namespace, killed with the test.</summary>
    private static HolderProcess StartHolder()
    {
        var psi = new ProcessStartInfo("unshare") { UseShellExecute = false };
        foreach (var a in new[] { "--pid", "--fork", "--kill-child", "/bin/sh", "-c", HolderScript }) psi.ArgumentList.Add(a);
        return new HolderProcess(Process.Start(psi)!);
    }

    private sealed class HolderProcess(Process unshare) : IDisposable
    {
        public int Pid => unshare.Id;

        public void Dispose()
        {
            // --kill-child takes the namespace's pid 1, and with it everything in the namespace.
            try { unshare.Kill(); unshare.WaitForExit(5000); }
            catch (InvalidOperationException) { }
            unshare.Dispose();
        }
    }

    private static string? HolderInitPid(HolderProcess holder)
    {
        var children = RuntimeTestSupport.ReadOrNull($"/proc/{holder.Pid}/task/{holder.Pid}/children")?.Trim();
        return string.IsNullOrEmpty(children) ? null : children.Split(' ')[0];
    }

    /// <summary>Every process of the shared namespace as the container's /proc shows it, minus the listing shell.</summary>
    private static async Task<List<NsProcess>> NamespaceProcessesAsync(OciRuntimeHandler handler, BusyboxBundle bundle)
    {
        var r = await handler.ExecSyncAsync(ExecTarget.ById(bundle.ContainerId),
            ["sh", "-c", "for d in /proc/[0-9]*; do read -r l < \"$d/stat\" && echo \"$l\"; done"], TimeSpan.FromSeconds(10), 256 * 1024, CancellationToken.None);
        Assert.Equal(0, r.ExitCode);
        var self = -1;
        var result = new List<NsProcess>();
        foreach (var line in System.Text.Encoding.UTF8.GetString(r.Stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var open = line.IndexOf('(');
            var close = line.LastIndexOf(')');
            if (open < 0 || close < open || close + 2 >= line.Length) continue;
            var pid = int.Parse(line[..open].Trim(), CultureInfo.InvariantCulture);
            var comm = line[(open + 1)..close];
            var fields = line[(close + 2)..].Split(' ');
            // The listing shell was exec'd by runc: its parent in the namespace is 0 and it is the newest sh.
            if (comm == "sh" && fields[1] == "0" && pid != 1) { self = Math.Max(self, pid); }
            result.Add(new NsProcess(pid, comm, fields[0][0], ulong.Parse(fields[19], CultureInfo.InvariantCulture)));
        }
        result.RemoveAll(p => p.Pid == self);
        return result;
    }

    private static List<string> HostCommandLines()
    {
        var lines = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out _)) continue;
            if (RuntimeTestSupport.ReadOrNull(Path.Combine(dir, "cmdline")) is { Length: > 0 } c) lines.Add(c.Replace('\0', ' ').Trim());
        }
        return lines;
    }
}
