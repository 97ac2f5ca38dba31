using Crisp.Cri.V1;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Oci;

/// <summary>The pod's sysctls, limited to those a container namespace isolates (anything else would change the host).</summary>
internal static class SpecSysctls
{
    private static readonly HashSet<string> IpcKeys = new(StringComparer.Ordinal)
    {
        "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax",
        "kernel.shmmni", "kernel.shm_rmid_forced",
    };

    public static Dictionary<string, string>? Build(PodSandboxConfig sandbox, bool hostNetwork, bool hostIpc)
    {
        var sysctls = sandbox.Linux?.Sysctls;
        if (sysctls is null || sysctls.Count == 0) return null;

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (rawKey, value) in sysctls)
        {
            // Kubernetes allows "/" as separator (net/ipv4/ip_forward).
            var key = rawKey.Replace('/', '.');
            var field = $"sandbox.linux.sysctls[{rawKey}]";
            if (IpcKeys.Contains(key) || key.StartsWith("fs.mqueue.", StringComparison.Ordinal))
            {
                if (hostIpc) throw RuntimeException.InvalidField(field, "an IPC sysctl cannot be set for a pod that uses the host IPC namespace");
            }
            else if (key.StartsWith("net.", StringComparison.Ordinal))
            {
                if (hostNetwork) throw RuntimeException.InvalidField(field, "a network sysctl cannot be set for a pod that uses the host network");
            }
            else if (key is "kernel.hostname" or "kernel.domainname")
            {
                if (hostNetwork) throw RuntimeException.InvalidField(field, "a UTS sysctl cannot be set for a pod that uses the host network");
            }
            else
            {
                throw RuntimeException.InvalidField(field, "not a namespaced sysctl; setting it would change the whole node");
            }
            result[key] = value;
        }
        return result;
    }
}
