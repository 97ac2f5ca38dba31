using System.Text;
using Crisp.Cri.V1;
using Crisp.Interop;

namespace Crisp.Runtime.Sandboxes;

/// <summary>
/// Writes the per-pod /etc/hostname, /etc/hosts and /etc/resolv.conf that every container of the pod
/// bind-mounts (the kubelet may still override /etc/hosts with its own managed file).
/// </summary>
public static class SandboxFilesWriter
{
    public const string HostResolvConf = "/etc/resolv.conf";
    public const string HostHosts = "/etc/hosts";

    public static async Task WriteAsync(string directory, string hostname, bool hostNetwork, DNSConfig? dns, CancellationToken cancellationToken)
    {
        // Containers of any uid read these through their bind mounts; the directory itself stays closed.
        OwnedDirectory.Ensure(directory);
        await OwnedFile.WriteTextAsync(Path.Combine(directory, "hostname"), hostname + "\n", FileModes.SharedFile, cancellationToken);
        await OwnedFile.WriteTextAsync(Path.Combine(directory, "hosts"), await HostsAsync(hostname, hostNetwork, cancellationToken), FileModes.SharedFile, cancellationToken);
        await OwnedFile.WriteTextAsync(Path.Combine(directory, "resolv.conf"), await ResolvConfAsync(dns, cancellationToken), FileModes.SharedFile, cancellationToken);
    }

    /// <summary>A host-network pod sees the node's hosts file; others get loopback entries plus their hostname.</summary>
    internal static async Task<string> HostsAsync(string hostname, bool hostNetwork, CancellationToken cancellationToken)
    {
        if (hostNetwork && File.Exists(HostHosts)) return await File.ReadAllTextAsync(HostHosts, cancellationToken);
        var sb = new StringBuilder()
            .Append("127.0.0.1\tlocalhost\n")
            .Append("::1\tlocalhost ip6-localhost ip6-loopback\n")
            .Append("fe00::0\tip6-localnet\n")
            .Append("fe00::0\tip6-mcastprefix\n")
            .Append("fe00::1\tip6-allnodes\n")
            .Append("fe00::2\tip6-allrouters\n");
        if (!string.IsNullOrEmpty(hostname)) sb.Append("127.0.1.1\t").Append(hostname).Append('\n');
        return sb.ToString();
    }

    /// <summary>DNSConfig from the kubelet when it has any entry; otherwise the node's resolv.conf, like containerd.</summary>
    internal static async Task<string> ResolvConfAsync(DNSConfig? dns, CancellationToken cancellationToken)
    {
        if (dns is null || (dns.Servers.Count == 0 && dns.Searches.Count == 0 && dns.Options.Count == 0))
            return File.Exists(HostResolvConf) ? await File.ReadAllTextAsync(HostResolvConf, cancellationToken) : "";
        return FormatResolvConf(dns);
    }

    internal static string FormatResolvConf(DNSConfig dns)
    {
        var sb = new StringBuilder();
        if (dns.Searches.Count > 0) sb.Append("search ").AppendJoin(' ', dns.Searches).Append('\n');
        foreach (var server in dns.Servers) sb.Append("nameserver ").Append(server).Append('\n');
        if (dns.Options.Count > 0) sb.Append("options ").AppendJoin(' ', dns.Options).Append('\n');
        return sb.ToString();
    }
}
