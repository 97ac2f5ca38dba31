namespace Crisp.Runtime.Cdi;

/// <summary>
/// Fully-qualified CDI device names ("vendor.com/class=name") and the devices a container asks for: its
/// CDI_devices field plus the values of its "cdi.k8s.io/*" annotations (comma-separated names; the kubelet's
/// older path, which it still fills alongside the field).
/// </summary>
public static class CdiNames
{
    public const string AnnotationPrefix = "cdi.k8s.io/";

    public static bool TryParseQualified(string name, out string kind, out string device)
    {
        kind = device = "";
        var equals = name.IndexOf('=');
        if (equals <= 0) return false;
        kind = name[..equals];
        device = name[(equals + 1)..];
        return CdiSpecParser.KindPattern().IsMatch(kind) && CdiSpecParser.DeviceNamePattern().IsMatch(device);
    }

    /// <summary>Requested names in order (field first, then annotations by key), without duplicates.</summary>
    public static IReadOnlyList<(string Name, string Field)> Requested(Crisp.Cri.V1.ContainerConfig config)
    {
        var names = new List<(string, string)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < config.CDIDevices.Count; i++)
            if (seen.Add(config.CDIDevices[i].Name)) names.Add((config.CDIDevices[i].Name, $"config.CDI_devices[{i}].name"));
        foreach (var (key, value) in config.Annotations.Where(a => a.Key.StartsWith(AnnotationPrefix, StringComparison.Ordinal)).OrderBy(a => a.Key, StringComparer.Ordinal))
            foreach (var name in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                if (seen.Add(name)) names.Add((name, $"config.annotations[{key}]"));
        return names;
    }
}
