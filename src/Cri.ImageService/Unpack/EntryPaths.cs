namespace Crisp.ImageService.Unpack;

/// <summary>
/// Turns a tar entry name into path components relative to the layer root. Cleaning is lexical
/// ("a/./b/../c" is "a/c"); a name that is absolute, contains NUL, or climbs above the root is
/// refused rather than repaired, because a layer that tries it is hostile or broken.
/// </summary>
internal static class EntryPaths
{
    /// <summary>The cleaned components; empty means the layer root itself.</summary>
    public static string[] Normalize(string entryName)
    {
        if (entryName.Contains('\0')) throw new LayerEntryRefusedException(entryName, "name contains a NUL byte");
        if (entryName.StartsWith('/')) throw new LayerEntryRefusedException(entryName, "absolute path");
        var components = new List<string>();
        foreach (string component in entryName.Split('/'))
        {
            switch (component)
            {
                case "" or ".":
                    continue;
                case "..":
                    if (components.Count == 0) throw new LayerEntryRefusedException(entryName, "path escapes the layer root");
                    components.RemoveAt(components.Count - 1);
                    break;
                default:
                    components.Add(component);
                    break;
            }
        }
        return [.. components];
    }
}
