using System.Globalization;

namespace Crisp.Runtime.Preflight;

/// <summary>Room under root for images and writable layers.</summary>
internal static class StorageCheck
{
    /// <summary>Below this not even a small image unpacks.</summary>
    internal const long MissingBelowBytes = 256L << 20;
    /// <summary>Below this a few ordinary images fill the disk and the kubelet's image GC starts evicting.</summary>
    internal const long DegradedBelowBytes = 2L << 30;

    public static PreflightItem FreeSpace(PreflightHost host, string root)
    {
        var available = host.AvailableBytes(root);
        if (available is not { } bytes)
            return PreflightItem.Degraded("free space", $"cannot tell the free space under {root}", $"check that {root} (or its parent) is on a mounted filesystem");
        var shown = $"{(bytes / (double)(1L << 30)).ToString("0.0", CultureInfo.InvariantCulture)} GiB free under {root}";
        if (bytes < MissingBelowBytes)
            return PreflightItem.Missing("free space", shown, $"free space on the filesystem holding {root}, or set root to a larger one");
        return bytes < DegradedBelowBytes
            ? PreflightItem.Degraded("free space", $"{shown}: a few images will fill it", $"give {root} at least 2 GiB")
            : PreflightItem.Ok("free space", shown);
    }
}
