using Xunit;

namespace Crisp.E2E.Daemon;

/// <summary>`crispd check` on this host: the real probes (a runc container, conmon, /proc, the cgroup mounts).</summary>
public sealed class CheckCommandTests : IDisposable
{
    private static readonly string[] Prerequisites =
    [
        "privileges", "cgroups", "cgroup driver", "overlayfs", "idmapped mounts", "runtime runc", "conmon", "CNI", "seccomp",
        "AppArmor/SELinux", "oom_score_adj", "free space", "socket",
    ];

    private readonly string _dir = Directory.CreateTempSubdirectory("crisp-check-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private Task<(int ExitCode, string Output)> CheckAsync(params string[] flags) =>
        CrispDaemon.RunToExitAsync(
            ["check", "--root", Path.Combine(_dir, "root"), "--grpc-socket", Path.Combine(_dir, "crisp.sock"), "--network-cni-conf-dir", Path.Combine(_dir, "cni"), .. flags],
            TimeSpan.FromSeconds(60));

    [Fact]
    public async Task This_host_can_run_crisp_and_every_prerequisite_has_one_line()
    {
        var (exitCode, output) = await CheckAsync();

        Assert.True(exitCode == 0, output);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var name in Prerequisites)
            Assert.Single(lines, l => l.Length > 10 && l[10..].StartsWith(name + " ", StringComparison.Ordinal));
        Assert.All(lines[..^1], l => Assert.Matches("^(ok|degraded|missing) ", l));
        Assert.Contains(lines, l => l.StartsWith("ok        privileges", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("ok        runtime runc", StringComparison.Ordinal) && l.Contains("runs containers here", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("ok        conmon", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("ok        overlayfs", StringComparison.Ordinal));
        // An empty conf dir: only hostNetwork pods, said with the fix.
        Assert.Contains(lines, l => l.StartsWith("degraded  CNI", StringComparison.Ordinal) && l.Contains("(fix: ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"unix://{Path.Combine(_dir, "crisp.sock")}", StringComparison.Ordinal));
        Assert.StartsWith("crisp can run here", lines[^1]);
        Assert.False(Directory.Exists(Path.Combine(_dir, "root")), "check must not create crisp's root");
    }

    [Fact]
    public async Task A_missing_conmon_exits_1_naming_it_with_the_fix()
    {
        var (exitCode, output) = await CheckAsync("--runtime-conmon-path", "/nonexistent/conmon");

        Assert.Equal(1, exitCode);
        Assert.Contains("missing   conmon", output);
        Assert.Contains("fix: apt-get install conmon", output);
        Assert.Contains("crisp cannot run here: 1 missing", output);
    }

    [Fact]
    public async Task A_regular_file_at_the_socket_path_is_missing()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir, "crisp.sock"), "not a socket");

        var (exitCode, output) = await CheckAsync();

        Assert.Equal(1, exitCode);
        Assert.Contains("missing   socket", output);
        Assert.Contains("a regular file", output);
    }
}
