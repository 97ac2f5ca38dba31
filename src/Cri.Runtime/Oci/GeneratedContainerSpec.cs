using Crisp.Runtime.Api;

namespace Crisp.Runtime.Oci;

/// <summary>A container's config.json and the user it runs as (reported in ContainerStatus.user).</summary>
public sealed record GeneratedContainerSpec(OciSpec Spec, ResolvedUser User)
{
    /// <summary>
    /// Requests the generator deliberately did not apply, each with its reason (e.g. a runtime-interpreted
    /// annotation no runtime.allowed_annotations prefix admits). The caller logs them; they never fail the create.
    /// </summary>
    public IReadOnlyList<string> IgnoredRequests { get; init; } = [];
}
