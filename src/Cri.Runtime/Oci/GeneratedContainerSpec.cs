using Crisp.Runtime.Api;

namespace Crisp.Runtime.Oci;

/// <summary>A container's config.json and the user it runs as (reported in ContainerStatus.user).</summary>
public sealed record GeneratedContainerSpec(OciSpec Spec, ResolvedUser User);
