using System.Net;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Network;

/// <summary>
/// The node's pod CIDR(s) the kubelet sends with UpdateRuntimeConfig, handed to plugins that ask for the ipRanges
/// capability. Kept on disk: the kubelet only resends it when it changes, not when crispd restarts.
/// </summary>
public sealed class PodCidrStore(string file)
{
    private string? _current = File.Exists(file) ? File.ReadAllText(file).Trim() : null;

    /// <summary>"v4cidr" or "v4cidr,v6cidr"; null until the kubelet sent one.</summary>
    public string? Current => string.IsNullOrEmpty(_current) ? null : _current;

    public async Task UpdateAsync(string podCidr, CancellationToken ct)
    {
        var normalized = string.Join(',', podCidr.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        foreach (var cidr in normalized.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!IPNetwork.TryParse(cidr, out _))
                throw RuntimeException.InvalidField("runtime_config.network_config.pod_cidr", $"\"{cidr}\" is not a CIDR (e.g. 10.244.0.0/24)");
        }
        if (normalized == (_current ?? "")) return;
        await Host.AtomicFile.WriteAsync(file, System.Text.Encoding.UTF8.GetBytes(normalized + "\n"), Interop.FileModes.PrivateFile, ct).ConfigureAwait(false);
        _current = normalized;
    }
}
