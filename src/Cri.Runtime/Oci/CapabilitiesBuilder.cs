using Crisp.Cri.V1;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Oci;

/// <summary>Applies CRI add/drop (including "ALL") to the default set, in the order Kubernetes documents.</summary>
internal static class CapabilitiesBuilder
{
    private const string Field = "config.linux.security_context.capabilities";

    public static OciCapabilities Build(LinuxContainerSecurityContext? securityContext, IReadOnlyList<string> allCapabilities)
    {
        if (securityContext?.Privileged == true)
        {
            var all = allCapabilities.ToList();
            return new OciCapabilities
            {
                Bounding = all, Effective = [.. all], Permitted = [.. all], Ambient = [],
            };
        }

        var requested = securityContext?.Capabilities;
        var adds = Normalize(requested?.AddCapabilities, $"{Field}.add_capabilities");
        var drops = Normalize(requested?.DropCapabilities, $"{Field}.drop_capabilities");

        // Order as Kubernetes and containerd apply it: "add ALL", then "drop ALL", then the named adds,
        // then the named drops. So add [ALL] + drop [CHOWN] is everything but CHOWN, and
        // drop [ALL] + add [NET_BIND_SERVICE] is exactly that one capability.
        var set = new List<string>(DefaultCapabilities.Names);
        if (adds.Contains(AllKeyword)) set = [.. allCapabilities];
        if (drops.Contains(AllKeyword)) set.Clear();
        var index = 0;
        foreach (var add in requested?.AddCapabilities ?? [])
        {
            var name = DefaultCapabilities.Normalize(add);
            if (name is not null && !allCapabilities.Contains(name))
                throw RuntimeException.InvalidField($"{Field}.add_capabilities[{index}]", $"{name} is not available on this node (crisp itself does not hold it)");
            if (name is not null && !set.Contains(name)) set.Add(name);
            index++;
        }
        set.RemoveAll(drops.Contains);

        var ambient = Normalize(requested?.AddAmbientCapabilities, $"{Field}.add_ambient_capabilities");
        if (ambient.Contains(AllKeyword))
            throw RuntimeException.InvalidField($"{Field}.add_ambient_capabilities", "\"ALL\" is not allowed for ambient capabilities");
        var ambientList = ambient.ToList();
        foreach (var cap in ambientList)
        {
            // An ambient capability must also be permitted and inheritable, otherwise the kernel drops it.
            if (!set.Contains(cap)) set.Add(cap);
        }

        return new OciCapabilities
        {
            Bounding = set,
            Effective = [.. set],
            Permitted = [.. set],
            Inheritable = ambientList.Count > 0 ? [.. ambientList] : null,
            Ambient = ambientList,
        };
    }

    private const string AllKeyword = "ALL";

    private static HashSet<string> Normalize(IEnumerable<string>? names, string field)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        if (names is null) return result;
        var index = 0;
        foreach (var name in names)
        {
            if (string.Equals(name.Trim(), AllKeyword, StringComparison.OrdinalIgnoreCase))
                result.Add(AllKeyword);
            else
                result.Add(DefaultCapabilities.Normalize(name)
                    ?? throw RuntimeException.InvalidField($"{field}[{index}]", $"unknown capability \"{name}\""));
            index++;
        }
        return result;
    }
}
