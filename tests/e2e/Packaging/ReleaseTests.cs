using System.Security.Cryptography;
using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;
using Xunit;

namespace Crisp.E2E.Packaging;

/// <summary>make dist: a versioned tarball with its sha256, whose install.sh installs crisp by itself.</summary>
public sealed class ReleaseTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("crisp-release-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task The_tarball_carries_binary_unit_config_and_docs_and_installs_from_its_own_install_sh()
    {
        var dist = Path.Combine(_work, "dist");

        (await MakeTargets.RunAsync("dist", $"DIST={dist}")).EnsureSuccess();

        var tarball = Assert.Single(Directory.GetFiles(dist, "crisp-*-linux-*.tar.gz"));
        var name = Path.GetFileName(tarball)[..^".tar.gz".Length];
        var version = (await ToolRunner.RunAsync(DaemonBinary.Path, ["--version"])).EnsureSuccess().StandardOutput;
        Assert.StartsWith($"crisp-{version.Split(' ')[1].Split('+')[0].Trim()}-linux-", name);
        var sha = (await File.ReadAllTextAsync(tarball + ".sha256")).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(tarball))), sha[0]);
        Assert.Equal(Path.GetFileName(tarball), sha[1].Trim());

        (await ToolRunner.RunAsync("tar", ["-C", _work, "-xzf", tarball])).EnsureSuccess();
        var tree = Path.Combine(_work, name);
        foreach (var file in new[] { "crispd/crispd", "install.sh", "crisp.service", "crisp.service.in", "crisp.toml", "INSTALL.md", "README.md", "LICENSE" })
            Assert.True(File.Exists(Path.Combine(tree, file)), $"{file} missing from {Path.GetFileName(tarball)}");
        Assert.Contains("ExecStart=/usr/local/bin/crispd\n", await File.ReadAllTextAsync(Path.Combine(tree, "crisp.service")));

        var destDir = Path.Combine(_work, "root");
        var install = await ToolRunner.RunAsync("env", [$"DESTDIR={destDir}", Path.Combine(tree, "install.sh"), "install"]);
        install.EnsureSuccess();
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(tree, "crisp.toml")), await File.ReadAllTextAsync(Path.Combine(destDir, "etc/crisp/crisp.toml")));
        var installed = (await ToolRunner.RunAsync(Path.Combine(destDir, "usr/local/bin/crispd"), ["--version"])).EnsureSuccess();
        Assert.Equal(version, installed.StandardOutput);
    }
}
