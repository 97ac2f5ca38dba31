using Crisp.Interop;
using Crisp.Interop.Procfs;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Cgroups;

/// <summary>Naming is the driver's business; the filesystem work differs between v1 and v2.</summary>
internal abstract class CgroupManagerBase(CgroupNaming naming) : ICgroupManager
{
    protected CgroupNaming Naming { get; } = naming;

    public string Driver => Naming.Driver;
    public abstract bool IsV2 { get; }

    public string PodCgroupParent(string kubeletCgroupParent, string podUid) => Naming.PodCgroupParent(kubeletCgroupParent, podUid);
    public string ContainerCgroupsPath(string podCgroupParent, string containerId) => Naming.ContainerCgroupsPath(podCgroupParent, containerId);
    public string FilesystemPath(string cgroupsPath) => Naming.FilesystemPath(cgroupsPath);

    public abstract Task EnsurePodCgroupAsync(string podCgroupParent, CancellationToken ct);
    public abstract Task<CgroupStats?> ReadStatsAsync(string cgroupsPath, CancellationToken ct);
    public abstract Task<bool> SawOomKillAsync(string cgroupsPath, CancellationToken ct);
    public abstract Task RemoveAsync(string cgroupsPath, CancellationToken ct);

    /// <summary>
    /// Creates one cgroup directory 0755, as runc and systemd do: node tools read cgroup files, and crispd's
    /// umask would otherwise close them.
    /// </summary>
    protected static void CreateCgroupDirectory(string path) => OwnedDirectory.CreateIfMissing(path, FileModes.SharedDirectory);

    /// <summary>Joins a hierarchy root and a cgroup path without letting the path escape the root.</summary>
    protected static string Under(string root, string relative)
    {
        var trimmed = relative.Trim('/');
        if (trimmed.Split('/').Any(p => p == ".."))
            throw RuntimeException.InvalidField("cgroups_path", $"\"{relative}\" must not contain \"..\"");
        return trimmed.Length == 0 ? root : Path.Combine(root, trimmed);
    }

    /// <summary>The PSI files of one cgroup2 directory (absent files read as null).</summary>
    protected static async Task<(CgroupPressure? Cpu, CgroupPressure? Memory, CgroupPressure? Io)> ReadPressureAsync(string dir, CancellationToken ct) =>
        (CgroupStatParsers.Pressure(await CgroupFiles.ReadAsync(dir, "cpu.pressure", ct).ConfigureAwait(false)),
         CgroupStatParsers.Pressure(await CgroupFiles.ReadAsync(dir, "memory.pressure", ct).ConfigureAwait(false)),
         CgroupStatParsers.Pressure(await CgroupFiles.ReadAsync(dir, "io.pressure", ct).ConfigureAwait(false)));

    /// <summary>
    /// What the cgroup may still swap: its own room (<paramref name="swapLimit"/> − usage; null = no limit of its
    /// own) but never more than the host has free.
    /// </summary>
    internal static CgroupSwap SwapOf(ulong usage, ulong? swapLimit, ulong hostSwapFree)
    {
        var room = swapLimit is { } limit ? CgroupFiles.Sub(limit, usage) : ulong.MaxValue;
        return new CgroupSwap(usage, Math.Min(room, hostSwapFree));
    }

    protected static ulong HostSwapFree() => MemInfo.SwapFreeBytes() ?? 0;

    /// <summary>An unlimited v1 memory or memsw limit reads as a page-rounded LONG_MAX.</summary>
    protected static bool IsV1Unlimited(ulong limit) => limit >= 1UL << 62;
}
