using Crisp.Cri.V1;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Oci;

/// <summary>Chooses the container's seccomp filter from the CRI security profile (or its deprecated string form).</summary>
internal static class SeccompSelector
{
    private const string Field = "config.linux.security_context.seccomp";
    private const string LegacyField = "config.linux.security_context.seccomp_profile_path";

    /// <summary>Null means unconfined.</summary>
    public static OciSeccomp? Select(LinuxContainerSecurityContext? sc, HostFeatures host, string architecture, IReadOnlyCollection<string> capabilities)
    {
        if (sc is null || sc.Privileged) return null;

        OciSeccomp? profile;
        string field;
        if (sc.Seccomp is { } requested)
        {
            field = Field;
            profile = requested.ProfileType switch
            {
                SecurityProfile.Types.ProfileType.Unconfined => null,
                SecurityProfile.Types.ProfileType.RuntimeDefault => RequireHost(host, field, () => DefaultSeccompProfile.Build(architecture, capabilities)),
                SecurityProfile.Types.ProfileType.Localhost => RequireHost(host, field, () =>
                    LocalhostSeccompProfile.Load(requested.LocalhostRef, $"{Field}.localhost_ref", architecture, capabilities)),
                _ => throw RuntimeException.InvalidField($"{Field}.profile_type", $"unknown profile type {requested.ProfileType}"),
            };
        }
        else if (LegacyProfilePath(sc) is { Length: > 0 } value)
        {
            field = LegacyField;
            profile = value switch
            {
                "unconfined" => null,
                "runtime/default" or "docker/default" => RequireHost(host, field, () => DefaultSeccompProfile.Build(architecture, capabilities)),
                _ when value.StartsWith("localhost/", StringComparison.Ordinal) => RequireHost(host, field, () =>
                    LocalhostSeccompProfile.Load(value["localhost/".Length..], field, architecture, capabilities)),
                _ => throw RuntimeException.InvalidField(field, $"unknown seccomp profile \"{value}\""),
            };
        }
        else
        {
            // Kubernetes' default when the pod says nothing is Unconfined.
            profile = null;
        }
        return profile;
    }

    // Older kubelets still send only the deprecated string form.
#pragma warning disable CS0612
    private static string LegacyProfilePath(LinuxContainerSecurityContext sc) => sc.SeccompProfilePath;
#pragma warning restore CS0612

    private static OciSeccomp RequireHost(HostFeatures host, string field, Func<OciSeccomp> build)
    {
        if (!host.SeccompEnabled)
            throw RuntimeException.InvalidField(field, "seccomp is not supported on this host, so the requested profile cannot be applied");
        return build();
    }
}
