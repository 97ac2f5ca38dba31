namespace Crisp.Runtime.Oci;

/// <summary>The annotation keys containerd's CRI plugin writes into config.json; tools and OCI hooks read them.</summary>
public static class SpecAnnotations
{
    public const string ContainerType = "io.kubernetes.cri.container-type";
    public const string ContainerTypeContainer = "container";
    public const string ContainerTypeSandbox = "sandbox";
    public const string SandboxId = "io.kubernetes.cri.sandbox-id";
    public const string SandboxName = "io.kubernetes.cri.sandbox-name";
    public const string SandboxNamespace = "io.kubernetes.cri.sandbox-namespace";
    public const string SandboxUid = "io.kubernetes.cri.sandbox-uid";
    public const string ContainerName = "io.kubernetes.cri.container-name";
    public const string ImageName = "io.kubernetes.cri.image-name";
    public const string ContainerId = "io.crisp.container-id";
}
