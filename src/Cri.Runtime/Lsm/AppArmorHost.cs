using Crisp.Interop.Procfs;
using Crisp.Runtime.Api;
using Crisp.Runtime.Handlers;

namespace Crisp.Runtime.Lsm;

/// <summary>The host's AppArmor, read from securityfs and the module parameter; profiles loaded with apparmor_parser.</summary>
internal sealed class AppArmorHost : IAppArmorHost
{
    private const string EnabledParameter = "/sys/module/apparmor/parameters/enabled";
    private const string LoadedProfiles = "/sys/kernel/security/apparmor/profiles";
    private const string IncludeDirectory = "/etc/apparmor.d";
    private static readonly TimeSpan ParserTimeout = TimeSpan.FromSeconds(60);

    private readonly string? _parser = ExecutableLocator.Find("apparmor_parser");

    public bool Enabled => _parser is not null && ProcFile.TryReadText(EnabledParameter)?.Trim() == "Y";

    public bool IsLoaded(string profile) => LoadedProfileList.Contains(ProcFile.TryReadText(LoadedProfiles) ?? "", profile);

    public bool HasInclude(string relativePath) => Path.Exists(Path.Combine(IncludeDirectory, relativePath));

    public string DaemonProfile => LoadedProfileList.CurrentLabel(ProcFile.TryReadText("/proc/self/attr/current"));

    public async Task LoadAsync(string profileFile, CancellationToken ct)
    {
        var parser = _parser ?? throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, "apparmor_parser was not found");
        // -K: no cache files written; -r: replace the profile when a previous crispd loaded another version.
        var result = await CommandRunner.RunAsync(parser, ["-Kr", profileFile], ct, timeout: ParserTimeout).ConfigureAwait(false);
        if (!result.Succeeded)
            throw new RuntimeException(RuntimeErrorKind.Internal,
                $"apparmor_parser -Kr {profileFile} failed (exit {result.ExitCode}): {result.ErrorText}");
    }
}
