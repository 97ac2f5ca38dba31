using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;
using Xunit;

namespace Crisp.E2E.Packaging;

/// <summary>
/// The path an operator takes (issue 15's first "done when"): make install without DESTDIR into a scratch PREFIX,
/// SYSCONFDIR and UNITDIR; crispd check; the unit's ExecStart started by hand serves crictl; make uninstall leaves
/// the directories as they were. The config is the operator's, written before install, so the daemon's root,
/// state and socket stay in the scratch directory too (install keeps an existing crisp.toml).
/// </summary>
public sealed class InstalledServiceTests : IDisposable
{
    private static readonly string[] CrictlCandidates = ["/opt/critools/crictl", "/usr/local/bin/crictl", "/usr/bin/crictl"];

    private readonly string _scratch = Directory.CreateTempSubdirectory("crisp-installed-").FullName;

    public void Dispose()
    {
        LeftoverCleanup.UnmountUnder(_scratch);
        Directory.Delete(_scratch, recursive: true);
    }

    private string At(string relative) => Path.Combine(_scratch, relative);

    private static string? Crictl() =>
        Environment.GetEnvironmentVariable("CRICTL") is { Length: > 0 } configured ? configured : CrictlCandidates.FirstOrDefault(File.Exists);

    [Fact]
    public async Task Install_check_ExecStart_by_hand_reaches_crictl_and_uninstall_restores_the_directories()
    {
        Directory.CreateDirectory(At("etc/crisp"));
        await File.WriteAllTextAsync(At("etc/crisp/crisp.toml"), $"""
            root = "{At("var/lib/crisp")}"
            state_dir = "{At("run/crisp")}"

            [grpc]
            socket = "{At("run/crisp/crisp.sock")}"

            [network]
            cni_conf_dir = "{At("etc/cni/net.d")}"

            [metrics]
            prometheus_address = ""

            """);
        var before = MakeTargets.Files(_scratch);
        string[] layout = [$"PREFIX={At("usr/local")}", $"SYSCONFDIR={At("etc")}", $"UNITDIR={At("etc/systemd/system")}"];

        (await MakeTargets.RunAsync("install", layout)).EnsureSuccess();

        var installed = At("usr/local/bin/crispd");
        var check = await ToolRunner.RunAsync(installed, ["check", "--config", At("etc/crisp/crisp.toml")]);
        Assert.True(check.ExitCode == 0, $"crispd check exited {check.ExitCode}:\n{check.StandardOutput}{check.StandardError}");
        Assert.Contains("crisp can run here", check.StandardOutput);
        Assert.Contains($"socket            {At("run/crisp/crisp.sock")} is free", check.StandardOutput);

        var unit = await File.ReadAllLinesAsync(At("etc/systemd/system/crisp.service"));
        var execStart = unit.Single(l => l.StartsWith("ExecStart=", StringComparison.Ordinal))["ExecStart=".Length..]
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal([installed, "--config", At("etc/crisp/crisp.toml")], execStart);

        await using (await CrispDaemon.StartAsync(new DaemonOptions { CommandLine = execStart, SocketPath = At("run/crisp/crisp.sock") }))
        {
            if (Crictl() is { } crictl)
            {
                var version = (await ToolRunner.RunAsync(crictl, ["--runtime-endpoint", $"unix://{At("run/crisp/crisp.sock")}", "version"])).EnsureSuccess();
                Assert.Contains("RuntimeName:  crisp", version.StandardOutput);
            }
            else
            {
                using var client = new CriClient(At("run/crisp/crisp.sock"));
                Assert.Equal("crisp", (await client.Runtime.VersionAsync(new VersionRequest())).RuntimeName);
            }
        }

        var uninstall = (await MakeTargets.RunAsync("uninstall", layout)).EnsureSuccess();

        Assert.Contains("kept", uninstall.StandardOutput);
        // crispd's own state (root, state_dir) is left alone by design; everything install put elsewhere is gone.
        var after = MakeTargets.Files(_scratch);
        after.RemoveWhere(p => p.StartsWith("var/lib/crisp/", StringComparison.Ordinal) || p.StartsWith("run/crisp/", StringComparison.Ordinal));
        Assert.Equal(before, after);
    }
}
