using Xunit;

namespace Crisp.Chart.Tests;

/// <summary>
/// charts/crisp/files/deploy.sh, run as the installer pods would run it, against a scratch host root (no helm, no
/// root): a rolling update's old pod must leave crisp installed, helm uninstall's last pod must remove it.
/// systemctl and crispd check go through nsenter, replaced here by a recorder.
/// </summary>
public sealed class DeployScriptTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("crisp-deploy-").FullName;

    private string HostRoot => Path.Combine(_work, "host");
    private string Release => Path.Combine(_work, "release");
    private string HostCommands => Path.Combine(_work, "host-commands");
    private string InstalledCrispd => Path.Combine(HostRoot, "usr/local/lib/crisp/crispd");
    private string InstalledUnit => Path.Combine(HostRoot, "etc/systemd/system/crisp.service");

    public DeployScriptTests()
    {
        // A release tree as `make dist` lays it out, with a stand-in crispd.
        Directory.CreateDirectory(Path.Combine(Release, "crispd"));
        File.Copy(Path.Combine(ChartPaths.RepositoryRoot, "packaging", "install.sh"), Path.Combine(Release, "install.sh"));
        File.Copy(Path.Combine(ChartPaths.RepositoryRoot, "packaging", "crisp.service.in"), Path.Combine(Release, "crisp.service.in"));
        File.WriteAllText(Path.Combine(Release, "crisp.toml"), "log_level = \"info\"\n");
        WriteExecutable(Path.Combine(Release, "crispd", "crispd"), "#!/bin/sh\necho crispd stand-in\n");
        WriteExecutable(Path.Combine(_work, "bin", "nsenter"), $"#!/bin/sh\nshift 8\necho \"$*\" >> '{HostCommands}'\n");
        Directory.CreateDirectory(HostRoot);
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static void WriteExecutable(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private async Task<string> DeployAsync(string action, string podUid, bool cleanupOnDelete = true)
    {
        var (exitCode, stdout, stderr) = await ToolProcess.RunAsync("bash", [Path.Combine(ChartPaths.Chart, "files", "deploy.sh"), action],
            new Dictionary<string, string>
            {
                ["PATH"] = Path.Combine(_work, "bin") + ":" + Environment.GetEnvironmentVariable("PATH"),
                ["HOST_ROOT"] = HostRoot,
                ["RELEASE_DIR"] = Release,
                ["DEPLOY_DIR"] = Path.Combine(_work, "deploy"),
                ["INSTALLED_MARKER"] = Path.Combine(_work, $"installed-{podUid}"),
                ["POD_UID"] = podUid,
                ["PREFIX"] = "/usr/local",
                ["ENABLE_SERVICE"] = "true",
                ["CLEANUP_ON_DELETE"] = cleanupOnDelete ? "true" : "false",
            });
        Assert.True(exitCode == 0, $"deploy.sh {action} as pod {podUid} exited {exitCode}:\n{stdout}{stderr}");
        return stdout;
    }

    private string[] HostCommandsRun() => File.Exists(HostCommands) ? File.ReadAllLines(HostCommands) : [];

    [Fact]
    public async Task Install_puts_crisp_on_the_node_restarts_the_service_and_marks_the_pod_ready()
    {
        await DeployAsync("install", "pod-a");

        Assert.True(File.Exists(InstalledCrispd));
        Assert.True(File.Exists(InstalledUnit));
        Assert.True(File.Exists(Path.Combine(_work, "installed-pod-a")), "the readiness marker is missing");
        Assert.Equal(["systemctl daemon-reload", "systemctl enable crisp", "systemctl restart crisp", "/usr/local/bin/crispd check"], HostCommandsRun());
    }

    [Fact]
    public async Task The_old_pods_preStop_in_a_rolling_update_leaves_crisp_installed_and_running()
    {
        await DeployAsync("install", "pod-old");
        await DeployAsync("install", "pod-new");
        File.Delete(HostCommands);

        var output = await DeployAsync("uninstall", "pod-old");

        Assert.Contains("left installed", output);
        Assert.Contains("pod-new", output);
        Assert.True(File.Exists(InstalledCrispd));
        Assert.True(File.Exists(InstalledUnit));
        Assert.Empty(HostCommandsRun());
    }

    [Fact]
    public async Task The_last_pods_preStop_on_helm_uninstall_stops_and_removes_crisp()
    {
        await DeployAsync("install", "pod-old");
        await DeployAsync("install", "pod-new");
        File.Delete(HostCommands);

        await DeployAsync("uninstall", "pod-new");

        Assert.False(File.Exists(InstalledCrispd));
        Assert.False(File.Exists(InstalledUnit));
        Assert.False(File.Exists(Path.Combine(HostRoot, "usr/local/bin/crispd")));
        // Unchanged since the first install, so it goes too, although the second install replaced the library dir.
        Assert.False(File.Exists(Path.Combine(HostRoot, "etc/crisp/crisp.toml")));
        Assert.Equal(["systemctl disable --now crisp", "systemctl daemon-reload"], HostCommandsRun());
    }

    [Fact]
    public async Task With_cleanup_on_delete_off_even_the_last_pod_leaves_crisp_installed()
    {
        await DeployAsync("install", "pod-a");
        File.Delete(HostCommands);

        var output = await DeployAsync("uninstall", "pod-a", cleanupOnDelete: false);

        Assert.Contains("cleanup.onDelete is false", output);
        Assert.True(File.Exists(InstalledCrispd));
        Assert.Empty(HostCommandsRun());
    }
}
