namespace Crisp.Runtime.Cgroups;

/// <summary>
/// Whether systemd is the init system, tested as sd_booted(3) and runc do: /run/systemd/system is a directory
/// (lstat: a symlink there does not count). The systemd cgroup driver needs it, since runc asks systemd over
/// D-Bus for every container's scope.
/// </summary>
public static class SystemdPresence
{
    public const string MarkerDirectory = "/run/systemd/system";

    public static bool IsBooted(string markerDirectory = MarkerDirectory)
    {
        var marker = new DirectoryInfo(markerDirectory);
        return marker.Exists && marker.LinkTarget is null;
    }
}
