using Crisp.Cri.V1;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Oci;

/// <summary>Which namespaces the container gets fresh and which it joins (the pod's, or the host's by omission).</summary>
internal static class SpecNamespaces
{
    private const string Field = "config.linux.security_context.namespace_options";

    public static List<OciNamespace> Build(ContainerSpecContext context, NamespaceOption options, ContainerSpecOptions specOptions)
    {
        var pod = context.Namespaces;
        var result = new List<OciNamespace> { new() { Type = OciNamespace.Mount } };
        if (UserNamespace(context, options) is not null)
            result.Add(new OciNamespace { Type = OciNamespace.User, Path = pod.UserPath });

        switch (options.Pid)
        {
            case NamespaceMode.Container:
                result.Add(new OciNamespace { Type = OciNamespace.Pid });
                break;
            case NamespaceMode.Pod:
                // POD is also proto3's default; a sandbox that pinned no PID namespace still gets an isolated one.
                result.Add(new OciNamespace { Type = OciNamespace.Pid, Path = pod.PidPath });
                break;
            case NamespaceMode.Node:
                break;
            case NamespaceMode.Target:
                if (string.IsNullOrEmpty(options.TargetId))
                    throw RuntimeException.InvalidField($"{Field}.target_id", "pid mode TARGET needs a target container id");
                if (specOptions.ResolveTargetPidNamespace is null)
                    throw new RuntimeException(RuntimeErrorKind.Unimplemented, $"{Field}.target_id: sharing another container's PID namespace is not supported yet");
                var target = specOptions.ResolveTargetPidNamespace(options.TargetId)
                    ?? throw new RuntimeException(RuntimeErrorKind.NotFound, $"{Field}.target_id: container {options.TargetId} not found or not running");
                result.Add(new OciNamespace { Type = OciNamespace.Pid, Path = target });
                break;
            default:
                throw RuntimeException.InvalidField($"{Field}.pid", $"unknown namespace mode {options.Pid}");
        }

        AddShared(result, OciNamespace.Ipc, options.Ipc, pod.IpcPath, $"{Field}.ipc");
        AddShared(result, OciNamespace.Network, options.Network, pod.NetworkPath, $"{Field}.network");
        // UTS follows the network namespace, as in Kubernetes: host network means the host's hostname.
        AddShared(result, OciNamespace.Uts, options.Network, pod.UtsPath, $"{Field}.network");

        if (context.Host.CgroupV2) result.Add(new OciNamespace { Type = OciNamespace.Cgroup });
        return result;
    }

    /// <summary>
    /// The pod's user namespace mappings when its containers join its user namespace, else null. A container's own
    /// userns_options (the kubelet repeats the pod's) must agree with the pod: mode POD only in a pod that has one,
    /// with the same mappings when it names them; a pod user namespace cannot be left for the host's.
    /// </summary>
    public static Namespaces.UserNamespaceMappings? UserNamespace(ContainerSpecContext context, NamespaceOption options)
    {
        var pod = Namespaces.UserNamespaceMappings.FromPod(context.Sandbox.Linux?.SecurityContext?.NamespaceOptions?.UsernsOptions,
            "sandbox_config.linux.security_context.namespace_options.userns_options");
        var requested = options.UsernsOptions;
        if (requested is null) return pod;
        var field = $"{Field}.userns_options";
        var own = Namespaces.UserNamespaceMappings.FromPod(requested, field);
        if (own is null && pod is not null)
            throw RuntimeException.InvalidField($"{field}.mode", "NODE in a pod with its own user namespace; containers share the pod's (POD)");
        if (own is not null && pod is null)
            throw RuntimeException.InvalidField($"{field}.mode", "POD in a pod without a user namespace (the sandbox's userns_options mode is NODE)");
        if (own is not null && own != pod)
            throw RuntimeException.InvalidField(field, "uids/gids differ from the pod sandbox's user namespace mappings");
        if (pod is not null && string.IsNullOrEmpty(context.Namespaces.UserPath))
            throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, "the pod sandbox's user namespace is not pinned; create a new sandbox");
        return pod;
    }

    private static void AddShared(List<OciNamespace> result, string type, NamespaceMode mode, string? podPath, string field)
    {
        switch (mode)
        {
            case NamespaceMode.Pod:
                // A pod whose namespace was not pinned (not wired yet) still gets an isolated one, never the host's.
                result.Add(new OciNamespace { Type = type, Path = podPath });
                break;
            case NamespaceMode.Container:
                result.Add(new OciNamespace { Type = type });
                break;
            case NamespaceMode.Node:
                break;
            default:
                throw RuntimeException.InvalidField(field, $"namespace mode {mode} is not valid here");
        }
    }
}
