using Crisp.Cri.V1;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Oci;

/// <summary>Which namespaces the container gets fresh and which it joins (the pod's, or the host's by omission).</summary>
internal static class SpecNamespaces
{
    private const string Field = "config.linux.security_context.namespace_options";

    public static List<OciNamespace> Build(ContainerSpecContext context, NamespaceOption options, ContainerSpecOptions specOptions)
    {
        if (options.UsernsOptions is { } userns && userns.Mode != NamespaceMode.Node)
            throw RuntimeException.InvalidField($"{Field}.userns_options",
                "user namespaces are not supported yet (linux.security_context.namespace_options.userns_options)");

        var pod = context.Namespaces;
        var result = new List<OciNamespace> { new() { Type = OciNamespace.Mount } };

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
