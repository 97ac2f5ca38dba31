using Crisp.Interop;
using Crisp.Interop.Procfs;
using Crisp.Runtime.Api;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Host;
using Crisp.Runtime.Lsm;

namespace Crisp.Runtime.Preflight;

/// <summary>Where `crispd check` reads the host from; unit tests replace files and tools with fixtures.</summary>
internal sealed record PreflightHost(
    HostPaths Paths,
    string ProcFilesystems,
    string ProcCgroups,
    string KernelRelease,
    string OverlayModuleDir,
    string SystemdRunDir,
    uint EffectiveUid,
    Func<string, string?> FindExecutable,
    Func<string, CancellationToken, Task<string?>> ReadVersion,
    Func<RuntimeHandlerOptions, bool, CancellationToken, Task<HandlerAvailability>> ProbeHandler,
    Func<string, long?> AvailableBytes,
    IAppArmorHost AppArmor,
    ISelinuxHost Selinux)
{
    private static readonly TimeSpan VersionTimeout = TimeSpan.FromSeconds(10);

    public static PreflightHost Default()
    {
        var release = ProcFile.TryReadText("/proc/sys/kernel/osrelease")?.Trim() ?? "";
        return new PreflightHost(
            HostPaths.Default,
            "/proc/filesystems",
            "/proc/cgroups",
            "/proc/sys/kernel/osrelease",
            $"/lib/modules/{release}/kernel/fs/overlayfs",
            "/run/systemd/system",
            Libc.GetEffectiveUid(),
            ExecutableLocator.Find,
            ReadFirstVersionLineAsync,
            (handler, systemd, ct) => HandlerProbe.ProbeAsync(handler.Name, handler.Path, systemd, ct),
            AvailableBytesAt,
            new AppArmorHost(),
            new SelinuxHost());
    }

    private static async Task<string?> ReadFirstVersionLineAsync(string binary, CancellationToken ct)
    {
        try
        {
            var result = await CommandRunner.RunAsync(binary, ["--version"], ct, timeout: VersionTimeout).ConfigureAwait(false);
            return result.Succeeded ? result.Stdout.Split('\n', 2)[0].Trim() : null;
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    /// <summary>Free bytes (root's, reserved blocks included) on the filesystem holding <paramref name="path"/> or its nearest existing parent.</summary>
    private static long? AvailableBytesAt(string path)
    {
        var existing = path;
        while (!Directory.Exists(existing))
        {
            var parent = Path.GetDirectoryName(existing);
            if (parent is null) return null;
            existing = parent;
        }
        try
        {
            return new DriveInfo(existing).TotalFreeSpace;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
