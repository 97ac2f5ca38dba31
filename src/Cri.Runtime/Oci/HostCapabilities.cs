using Crisp.Interop.Procfs;

namespace Crisp.Runtime.Oci;

/// <summary>
/// The capabilities crisp itself holds. Privileged containers and "add ALL" get these rather than every
/// capability the kernel knows: runc cannot grant what its parent lacks (here root has no CAP_SYS_RESOURCE).
/// </summary>
public static class HostCapabilities
{
    private static readonly Lazy<IReadOnlyList<string>> Current = new(ReadCurrent);

    public static IReadOnlyList<string> Names => Current.Value;

    /// <summary>Decodes a CapBnd hex mask from /proc/&lt;pid&gt;/status into names, in bit order.</summary>
    public static IReadOnlyList<string> FromMask(ulong mask)
    {
        var names = new List<string>();
        for (var bit = 0; bit < DefaultCapabilities.AllKnown.Count; bit++)
            if ((mask & (1ul << bit)) != 0) names.Add(DefaultCapabilities.AllKnown[bit]);
        return names;
    }

    private static IReadOnlyList<string> ReadCurrent() =>
        ProcFile.TryReadText(ProcFile.SelfStatus) is { } status && ProcessStatus.HexMask(status, "CapBnd") is { } mask
            ? FromMask(mask)
            : DefaultCapabilities.AllKnown;
}
