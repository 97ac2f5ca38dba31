using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;
using Xunit;

namespace Crisp.E2E.Packaging;

/// <summary>make install / uninstall into a DESTDIR holding other software's files, which must come through untouched.</summary>
public sealed class InstallTests : IDisposable
{
    private readonly string _destDir = Directory.CreateTempSubdirectory("crisp-install-").FullName;

    public InstallTests()
    {
        // Neighbours the uninstall must leave alone, in the very directories crisp installs into.
        Write("etc/systemd/system/other.service", "[Service]\nExecStart=/bin/true\n");
        Write("usr/local/bin/other-tool", "#!/bin/sh\n");
        Write("usr/local/lib/other/lib.so", "x");
        Write("etc/containers/registries.conf", "");
        Write("var/lib/crisp/images/metadata.db", "state");
    }

    public void Dispose() => Directory.Delete(_destDir, recursive: true);

    private void Write(string relative, string content)
    {
        var path = Path.Combine(_destDir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    private string At(string relative) => Path.Combine(_destDir, relative);

    private Task<ToolResult> MakeAsync(string target, params string[] variables) =>
        MakeTargets.RunAsync(target, [$"DESTDIR={_destDir}", .. variables]);

    [Fact]
    public async Task Install_puts_binary_unit_and_default_config_in_place_and_uninstall_removes_exactly_those()
    {
        var before = MakeTargets.Files(_destDir);

        (await MakeAsync("install")).EnsureSuccess();

        var link = new FileInfo(At("usr/local/bin/crispd"));
        Assert.Equal("../lib/crisp/crispd", link.LinkTarget);
        var version = (await ToolRunner.RunAsync(At("usr/local/bin/crispd"), ["--version"])).EnsureSuccess();
        Assert.StartsWith("crispd ", version.StandardOutput);
        var unit = await File.ReadAllTextAsync(At("etc/systemd/system/crisp.service"));
        Assert.Contains("ExecStart=/usr/local/bin/crispd\n", unit);
        Assert.Contains("Type=notify\n", unit);
        var expectedConfig = (await ToolRunner.RunAsync(DaemonBinary.Path, ["--print-default-config"])).EnsureSuccess().StandardOutput;
        Assert.Equal(expectedConfig, await File.ReadAllTextAsync(At("etc/crisp/crisp.toml")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(At("etc/crisp/crisp.toml")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(At("etc/crisp")));

        var uninstall = (await MakeAsync("uninstall")).EnsureSuccess();

        Assert.Equal(before, MakeTargets.Files(_destDir));
        Assert.False(Directory.Exists(At("usr/local/lib/crisp")));
        Assert.False(Directory.Exists(At("etc/crisp")));
        Assert.Contains("removed /etc/crisp/crisp.toml (unchanged since install)", uninstall.StandardOutput);
    }

    [Fact]
    public async Task An_upgrade_install_keeps_the_configs_conffile_state_so_uninstall_still_removes_it()
    {
        var before = MakeTargets.Files(_destDir);
        (await MakeAsync("install")).EnsureSuccess();

        var upgrade = (await MakeAsync("install")).EnsureSuccess();
        var uninstall = (await MakeAsync("uninstall")).EnsureSuccess();

        Assert.Contains("kept the existing /etc/crisp/crisp.toml", upgrade.StandardOutput);
        Assert.Contains("removed /etc/crisp/crisp.toml (unchanged since install)", uninstall.StandardOutput);
        Assert.Equal(before, MakeTargets.Files(_destDir));
    }

    [Fact]
    public async Task An_existing_config_is_never_overwritten_nor_removed()
    {
        Write("etc/crisp/crisp.toml", "log_level = \"debug\"\n");

        var install = (await MakeAsync("install")).EnsureSuccess();
        Assert.Contains("kept the existing /etc/crisp/crisp.toml", install.StandardOutput);
        (await MakeAsync("uninstall")).EnsureSuccess();

        Assert.Equal("log_level = \"debug\"\n", await File.ReadAllTextAsync(At("etc/crisp/crisp.toml")));
        Assert.False(File.Exists(At("usr/local/bin/crispd")));
    }

    [Fact]
    public async Task An_edited_config_survives_uninstall_like_a_conffile()
    {
        (await MakeAsync("install")).EnsureSuccess();
        await File.AppendAllTextAsync(At("etc/crisp/crisp.toml"), "# edited by the operator\n");

        var uninstall = (await MakeAsync("uninstall")).EnsureSuccess();

        Assert.Contains("kept /etc/crisp/crisp.toml", uninstall.StandardOutput);
        Assert.EndsWith("# edited by the operator\n", await File.ReadAllTextAsync(At("etc/crisp/crisp.toml")));
        Assert.False(File.Exists(At("etc/systemd/system/crisp.service")));
        Assert.False(Directory.Exists(At("usr/local/lib/crisp")));
    }

    [Fact]
    public async Task PREFIX_usr_puts_the_unit_where_packages_keep_theirs()
    {
        (await MakeAsync("install", "PREFIX=/usr")).EnsureSuccess();

        Assert.Contains("ExecStart=/usr/bin/crispd\n", await File.ReadAllTextAsync(At("lib/systemd/system/crisp.service")));
        Assert.Equal("../lib/crisp/crispd", new FileInfo(At("usr/bin/crispd")).LinkTarget);
        Assert.False(File.Exists(At("etc/systemd/system/crisp.service")));
    }

    /// <summary>An install under a real prefix (no DESTDIR), so ExecStart names a binary that exists, as systemd checks.</summary>
    [SkippableFact]
    public async Task The_installed_unit_passes_systemd_analyze_verify()
    {
        Skip.IfNot(MakeTargets.IsOnPath("systemd-analyze"), "systemd-analyze is not installed");
        var prefix = At("opt/crisp");
        (await MakeTargets.RunAsync("install", $"PREFIX={prefix}", $"SYSCONFDIR={At("etc")}", $"UNITDIR={At("units")}")).EnsureSuccess();

        var verify = await ToolRunner.RunAsync("systemd-analyze", ["verify", At("units/crisp.service")]);

        Assert.True(verify.ExitCode == 0 && verify.StandardError.Length == 0 && verify.StandardOutput.Length == 0,
            $"systemd-analyze verify: exit {verify.ExitCode}\n{verify.StandardOutput}{verify.StandardError}");
    }
}
