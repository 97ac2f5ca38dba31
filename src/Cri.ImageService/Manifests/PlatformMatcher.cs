namespace Crisp.ImageService.Manifests;

/// <summary>Picks the index entry a node of a given platform should run.</summary>
public static class PlatformMatcher
{
    /// <summary>
    /// The best entry for <paramref name="wanted"/>, or null. OS and architecture must match;
    /// among those, the exact variant wins, then (for variants that are versions, like arm v7)
    /// the highest older version the node can still run.
    /// </summary>
    public static Descriptor? Select(IReadOnlyList<Descriptor> entries, Platform wanted)
    {
        Platform node = wanted.Normalize();
        Descriptor? best = null;
        int bestRank = int.MaxValue;
        foreach (Descriptor entry in entries)
        {
            if (entry.Platform is null || !MediaTypes.IsManifest(entry.MediaType) && !MediaTypes.IsIndex(entry.MediaType))
            {
                continue;
            }
            Platform candidate = entry.Platform.Normalize();
            if (candidate.Os != node.Os || candidate.Architecture != node.Architecture)
            {
                continue;
            }
            int rank = VariantRank(node.Variant, candidate.Variant);
            // Strictly better only: on a tie the first entry wins, as in every other runtime.
            if (rank >= 0 && rank < bestRank)
            {
                best = entry;
                bestRank = rank;
            }
        }
        return best;
    }

    /// <summary>0 for an exact match, n for a variant n versions older, -1 when the node cannot run it.</summary>
    private static int VariantRank(string? node, string? candidate)
    {
        if (node == candidate)
        {
            return 0;
        }
        if (candidate is null)
        {
            // An entry that names no variant claims to run on all of them.
            return 1000;
        }
        if (TryVersion(node, out int nodeVersion) && TryVersion(candidate, out int candidateVersion) && candidateVersion < nodeVersion)
        {
            return nodeVersion - candidateVersion;
        }
        return -1;
    }

    private static bool TryVersion(string? variant, out int version)
    {
        version = 0;
        return variant is not null && variant.Length > 1 && variant[0] == 'v'
            && int.TryParse(variant.AsSpan(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out version);
    }
}
