namespace Crisp.Runtime.Network;

/// <summary>What identifies one attachment to every plugin call (the CNI_* environment besides the command).</summary>
public sealed record CniInvocation(string ContainerId, string NetnsPath, string IfName, string Args)
{
    /// <summary>CNI_ARGS as the kubelet's runtimes send them; IgnoreUnknown lets plugins that know none of them accept it.</summary>
    public static string KubernetesArgs(string podNamespace, string podName, string sandboxId, string podUid) =>
        $"IgnoreUnknown=1;K8S_POD_NAMESPACE={podNamespace};K8S_POD_NAME={podName};K8S_POD_INFRA_CONTAINER_ID={sandboxId};K8S_POD_UID={podUid}";
}
