namespace Crisp.E2E.Cluster;

/// <summary>What the cluster suite is pointed at, from the environment (tests/e2e/Cluster/README.md lists each variable).</summary>
public static class ClusterSettings
{
    /// <summary>The kubeconfig; the suite is skipped without one.</summary>
    public static string? KubeConfig => Variable("KUBECONFIG");

    /// <summary>A node to pin every test pod to; by default the first Ready node whose runtime is crisp.</summary>
    public static string? NodeName => Variable("CRISP_CLUSTER_NODE");

    /// <summary>A busybox image the nodes can pull (it needs sh, sleep, cat and httpd).</summary>
    public static string BusyboxImage => Variable("CRISP_CLUSTER_BUSYBOX_IMAGE") ?? "registry.k8s.io/e2e-test-images/busybox:1.36.1-1";

    /// <summary>An image only pullable with credentials, and those credentials, for the image pull secret test.</summary>
    public static string? PrivateImage => Variable("CRISP_CLUSTER_PRIVATE_IMAGE");
    public static string? PrivateRegistryUser => Variable("CRISP_CLUSTER_PRIVATE_REGISTRY_USER");
    public static string? PrivateRegistryPassword => Variable("CRISP_CLUSTER_PRIVATE_REGISTRY_PASSWORD");

    /// <summary>crisp's CRI socket when the tests run on the pinned node itself (then container removal is checked there).</summary>
    public static string CriSocket => Variable("CRISP_CLUSTER_CRI_SOCKET") ?? "/run/crisp/crisp.sock";

    /// <summary>The RuntimeClass the chart creates for crisp's runc handler (runtimeClasses.create=true).</summary>
    public const string RuntimeClassName = "crisp-runc";

    private static string? Variable(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
}
