namespace Crisp.Runtime.Network;

/// <summary>
/// A working network for a single-node user who has no CNI config yet: a bridge with host-local
/// IPAM on a private pod CIDR, portmap for hostPorts and loopback (last: it passes the bridge's result through).
/// No masquerading: pods talk to each other and the node, nothing is routed off it by default. Written only
/// into a directory holding no valid config, so it never overrides an operator's choice.
/// </summary>
public static class DefaultCniConfig
{
    public const string FileName = "10-crisp-bridge.conflist";
    public const string BridgeName = "crisp0";
    public const string PodSubnet = "10.89.0.0/16";

    public const string Content = """
        {
          "cniVersion": "1.0.0",
          "name": "crisp",
          "plugins": [
            {
              "type": "bridge",
              "bridge": "crisp0",
              "isGateway": true,
              "ipMasq": false,
              "hairpinMode": true,
              "ipam": {
                "type": "host-local",
                "routes": [{ "dst": "0.0.0.0/0" }],
                "ranges": [[{ "subnet": "10.89.0.0/16" }]]
              }
            },
            { "type": "portmap", "capabilities": { "portMappings": true } },
            { "type": "loopback" }
          ]
        }
        """;

    /// <summary>Writes the default conflist when the directory has no valid config; returns the file written, if any.</summary>
    public static string? WriteIfMissing(string confDir)
    {
        if (CniConfigProbe.Probe(confDir).Ready) return null;
        var path = Path.Combine(confDir, FileName);
        // Host configuration, not crisp's state: readable like any other file under /etc/cni/net.d.
        Interop.OwnedDirectory.CreateIfMissing(confDir, Interop.FileModes.SharedDirectory);
        Host.AtomicFile.Write(path, System.Text.Encoding.UTF8.GetBytes(Content + "\n"), Interop.FileModes.SharedFile);
        return path;
    }
}
