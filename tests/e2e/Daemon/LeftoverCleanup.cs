using System.Diagnostics;

namespace Crisp.E2E.Daemon;

/// <summary>Best-effort removal of mounts a failed test left under its private directory.</summary>
public static class LeftoverCleanup
{
    public static IReadOnlyList<string> MountsUnder(string directory)
    {
        var prefix = directory.TrimEnd('/') + "/";
        return File.ReadAllLines("/proc/self/mountinfo")
            .Select(line => line.Split(' ')[4])
            .Select(p => p.Replace("\\040", " "))
            .Where(p => p.StartsWith(prefix, StringComparison.Ordinal))
            .ToList();
    }

    public static void UnmountUnder(string directory)
    {
        foreach (var mount in MountsUnder(directory).OrderByDescending(p => p.Length))
        {
            using var umount = Process.Start(new ProcessStartInfo("umount", ["-l", mount]) { RedirectStandardError = true })!;
            umount.WaitForExit();
        }
    }
}
