using System.Diagnostics;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Lsm;
using Xunit;

namespace Crisp.Runtime.IntegrationTests.Lsm;

/// <summary>
/// crisp-default as the host's apparmor_parser reads it (-Q: parse and compile only, nothing is loaded, so this runs on
/// hosts without AppArmor in the kernel), with the includes this host's /etc/apparmor.d has.
/// </summary>
public sealed class DefaultAppArmorProfileParserTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crisp-apparmor-parse-").FullName;
    private readonly string? _parser = ExecutableLocator.Find("apparmor_parser");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<(int ExitCode, string Output)> ParseAsync(string text)
    {
        var file = Path.Combine(_dir, "profile");
        await File.WriteAllTextAsync(file, text);
        var psi = new ProcessStartInfo(_parser!) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-Q", "-K", file }) psi.ArgumentList.Add(a);
        using var parser = Process.Start(psi)!;
        var output = await parser.StandardError.ReadToEndAsync() + await parser.StandardOutput.ReadToEndAsync();
        await parser.WaitForExitAsync();
        return (parser.ExitCode, output);
    }

    [SkippableFact]
    public async Task The_generated_default_profile_compiles()
    {
        Skip.If(_parser is null, "apparmor_parser is not installed (Debian package apparmor)");
        var host = new AppArmorHost();
        var text = DefaultAppArmorProfile.Generate(DefaultAppArmorProfile.Name, "crispd daemon",
            abi3: host.HasInclude("abi/3.0"), tunables: host.HasInclude("tunables/global"), abstractionsBase: host.HasInclude("abstractions/base"));
        var (exitCode, output) = await ParseAsync(text);
        Assert.True(exitCode == 0, output);

        // The parser does reject a broken profile, so the pass above means something.
        var (brokenExit, _) = await ParseAsync(text.Replace("deny mount,", "deny mount", StringComparison.Ordinal));
        Assert.NotEqual(0, brokenExit);
    }
}
