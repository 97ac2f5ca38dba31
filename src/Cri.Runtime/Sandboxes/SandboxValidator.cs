using Crisp.Cri.V1;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Sandboxes;

/// <summary>Rejects RunPodSandbox configs crisp cannot honour, naming the offending field.</summary>
public static class SandboxValidator
{
    public static void Validate(PodSandboxConfig config)
    {
        var metadata = config.Metadata ?? throw RuntimeException.InvalidField("config.metadata", "must be set");
        if (string.IsNullOrEmpty(metadata.Name)) throw RuntimeException.InvalidField("config.metadata.name", "must not be empty");
        if (string.IsNullOrEmpty(metadata.Namespace)) throw RuntimeException.InvalidField("config.metadata.namespace", "must not be empty");
        if (string.IsNullOrEmpty(metadata.Uid)) throw RuntimeException.InvalidField("config.metadata.uid", "must not be empty");
        if (metadata.Uid.Contains('/') || metadata.Uid.Contains(".."))
            throw RuntimeException.InvalidField("config.metadata.uid", $"\"{metadata.Uid}\" must not contain '/' or '..'");

        var security = config.Linux?.SecurityContext;
        var options = security?.NamespaceOptions;
        if (Namespaces.UserNamespaceMappings.FromPod(options?.UsernsOptions) is not null)
            ValidateUserNamespacePod(options!, security!);
        if (options is not null)
        {
            if (options.Network is not (NamespaceMode.Pod or NamespaceMode.Node))
                throw RuntimeException.InvalidField("config.linux.security_context.namespace_options.network", $"{options.Network} is not valid for a pod (POD or NODE)");
            if (options.Ipc is not (NamespaceMode.Pod or NamespaceMode.Node))
                throw RuntimeException.InvalidField("config.linux.security_context.namespace_options.ipc", $"{options.Ipc} is not valid for a pod (POD or NODE)");
            if (options.Pid == NamespaceMode.Target)
                throw RuntimeException.InvalidField("config.linux.security_context.namespace_options.pid", "TARGET is only valid for containers");
        }
        if (!string.IsNullOrEmpty(config.LogDirectory) && !Path.IsPathRooted(config.LogDirectory))
            throw RuntimeException.InvalidField("config.log_directory", $"\"{config.LogDirectory}\" must be an absolute path");
        if (config.LogDirectory.Split('/').Contains(".."))
            throw RuntimeException.InvalidField("config.log_directory", $"\"{config.LogDirectory}\" must not contain '..'");
        // The same rules CreateContainer applies when it writes them into each spec, checked up front so a pod
        // with a node-level or conflicting sysctl is refused before anything is created.
        var hostNetwork = options?.Network == NamespaceMode.Node;
        var hostIpc = options?.Ipc == NamespaceMode.Node;
        Oci.SpecSysctls.Build(config, hostNetwork, hostIpc);
        ValidateNetwork(config);
    }

    /// <summary>
    /// A pod user namespace owns the pod's other namespaces, so none of them may be the host's (the kubelet refuses
    /// hostUsers:false with hostNetwork, hostIPC or hostPID for the same reason: a container root could not mount
    /// sysfs, mqueue or proc for a namespace its user namespace does not own), and a privileged pod is refused.
    /// </summary>
    private static void ValidateUserNamespacePod(NamespaceOption options, LinuxSandboxSecurityContext security)
    {
        const string field = "config.linux.security_context.namespace_options";
        if (options.Network == NamespaceMode.Node)
            throw RuntimeException.InvalidField($"{field}.network", "NODE cannot be combined with a pod user namespace (userns_options mode POD)");
        if (options.Ipc == NamespaceMode.Node)
            throw RuntimeException.InvalidField($"{field}.ipc", "NODE cannot be combined with a pod user namespace (userns_options mode POD)");
        if (options.Pid == NamespaceMode.Node)
            throw RuntimeException.InvalidField($"{field}.pid", "NODE cannot be combined with a pod user namespace (userns_options mode POD)");
        if (security.Privileged)
            throw RuntimeException.InvalidField("config.linux.security_context.privileged", "a privileged pod cannot have its own user namespace (userns_options mode POD)");
    }

    /// <summary>Port mappings and bandwidth annotations, refused before any namespace or CNI call exists.</summary>
    private static void ValidateNetwork(PodSandboxConfig config)
    {
        for (var i = 0; i < config.PortMappings.Count; i++)
        {
            var mapping = config.PortMappings[i];
            var field = $"config.port_mappings[{i}]";
            if (mapping.HostPort is < 0 or > 65535)
                throw RuntimeException.InvalidField(field + ".host_port", $"{mapping.HostPort} is not a port (0-65535)");
            if (mapping.ContainerPort is < 1 or > 65535)
                throw RuntimeException.InvalidField(field + ".container_port", $"{mapping.ContainerPort} is not a port (1-65535)");
            if (!Enum.IsDefined(mapping.Protocol))
                throw RuntimeException.InvalidField(field + ".protocol", $"{mapping.Protocol} is not TCP, UDP or SCTP");
            if (!string.IsNullOrEmpty(mapping.HostIp) && !System.Net.IPAddress.TryParse(mapping.HostIp, out _))
                throw RuntimeException.InvalidField(field + ".host_ip", $"\"{mapping.HostIp}\" is not an IP address");
        }
        foreach (var annotation in new[] { Network.BandwidthQuantity.IngressAnnotation, Network.BandwidthQuantity.EgressAnnotation })
        {
            if (config.Annotations.TryGetValue(annotation, out var value))
                Network.BandwidthQuantity.ParseBitsPerSecond(annotation, value);
        }
    }
}
