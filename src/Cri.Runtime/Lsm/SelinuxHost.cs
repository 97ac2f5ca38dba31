using Crisp.Interop.Procfs;

namespace Crisp.Runtime.Lsm;

/// <summary>The host's SELinux: selinuxfs for the state, the loaded policy's lxc_contexts for container labels.</summary>
internal sealed class SelinuxHost(string selinuxFs = "/sys/fs/selinux", string configDirectory = "/etc/selinux") : ISelinuxHost
{
    private readonly Lazy<(SelinuxContext, SelinuxContext)?> _contexts = new(() => ReadContexts(configDirectory));

    public bool Enabled => File.Exists(Path.Combine(selinuxFs, "enforce"));

    public (SelinuxContext Process, SelinuxContext File)? ContainerContexts => _contexts.Value;

    /// <summary>/etc/selinux/config names the policy (SELINUXTYPE=targeted); its contexts/lxc_contexts has key = "label" lines.</summary>
    internal static (SelinuxContext, SelinuxContext)? ReadContexts(string configDirectory)
    {
        var policy = Values(ProcFile.TryReadText(Path.Combine(configDirectory, "config"))).GetValueOrDefault("SELINUXTYPE");
        if (string.IsNullOrEmpty(policy) || policy.Contains('/')) return null;
        var contexts = Values(ProcFile.TryReadText(Path.Combine(configDirectory, policy, "contexts", "lxc_contexts")));
        return SelinuxContext.TryParse(contexts.GetValueOrDefault("process")) is { } process
            && SelinuxContext.TryParse(contexts.GetValueOrDefault("file")) is { } file
            ? (process, file)
            : null;
    }

    private static Dictionary<string, string> Values(string? text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in (text ?? "").Split('\n'))
        {
            var line = raw.Trim();
            var eq = line.IndexOf('=');
            if (line.StartsWith('#') || eq <= 0) continue;
            values[line[..eq].Trim()] = line[(eq + 1)..].Trim().Trim('"');
        }
        return values;
    }
}
