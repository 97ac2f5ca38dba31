using System.Text;

namespace Crisp.Runtime.Lsm;

/// <summary>
/// crisp's RuntimeDefault AppArmor profile, the counterpart of containerd's "cri-containerd.apparmor.d" and
/// Docker's docker-default (containerd contrib/apparmor/template.go): everything a normal container does is
/// allowed (network, capabilities the spec grants, files), but not mounting, writing kernel knobs under /proc
/// and /sys (except the container's own /proc/&lt;pid&gt; and /proc/sys/kernel/shm*, and cgroupfs), reading firmware,
/// powercap or securityfs. Signals are accepted from the host, the OCI runtimes and crispd; processes of the profile
/// may signal and trace each other.
/// </summary>
public static class DefaultAppArmorProfile
{
    public const string Name = "crisp-default";

    /// <param name="daemonProfile">crispd's own label, allowed to signal container processes.</param>
    /// <param name="abi3">/etc/apparmor.d/abi/3.0 exists: the profile declares that ABI.</param>
    /// <param name="tunables">/etc/apparmor.d/tunables/global exists (it defines @{PROC}); else @{PROC} is defined here.</param>
    /// <param name="abstractionsBase">/etc/apparmor.d/abstractions/base exists (libraries, locales, /dev/null...).</param>
    public static string Generate(string name, string daemonProfile, bool abi3, bool tunables, bool abstractionsBase)
    {
        var p = new StringBuilder();
        if (abi3) p.AppendLine("abi <abi/3.0>,");
        p.AppendLine(tunables ? "#include <tunables/global>" : "@{PROC}=/proc/");
        p.AppendLine();
        p.AppendLine($"profile {name} flags=(attach_disconnected,mediate_deleted) {{");
        if (abstractionsBase) p.AppendLine("  #include <abstractions/base>");
        p.AppendLine("""
              network,
              capability,
              file,
              umount,

              # Who may signal container processes: the host, the OCI runtimes, crispd, and each other.
              signal (receive) peer=unconfined,
              signal (receive) peer=runc,
              signal (receive) peer=crun,
            """);
        p.AppendLine($"  signal (receive) peer={Quote(daemonProfile)},");
        p.AppendLine($"  signal (send,receive) peer={name},");
        p.AppendLine("""

              # /proc: no writes to files directly in /proc, nor below anything but /proc/<pid> and /proc/sys;
              # in /proc/sys only kernel/shm* (the IPC sysctls a pod may set).
              deny @{PROC}/* w,
              deny @{PROC}/{[^1-9/],[^1-9/][^0-9/],[^1-9s/][^0-9y/][^0-9s/],[^1-9/][^0-9/][^0-9/][^0-9/]*}/** w,
              deny @{PROC}/sys/[^k]** w,
              deny @{PROC}/sys/kernel/{?,??,[^s][^h][^m]**} w,
              deny @{PROC}/sysrq-trigger rwklx,
              deny @{PROC}/kcore rwklx,

              deny mount,

              # /sys: read-only except cgroupfs; firmware, powercap and securityfs not even readable.
              deny /sys/[^f]*/** wklx,
              deny /sys/f[^s]*/** wklx,
              deny /sys/fs/[^c]*/** wklx,
              deny /sys/fs/c[^g]*/** wklx,
              deny /sys/fs/cg[^r]*/** wklx,
              deny /sys/firmware/** rwklx,
              deny /sys/devices/virtual/powercap/** rwklx,
              deny /sys/kernel/security/** rwklx,

              # Processes of one container may trace each other when the other LSMs and yama allow it.
            """);
        p.AppendLine($"  ptrace (trace,tracedby,read,readby) peer={name},");
        p.AppendLine("}");
        return p.ToString();
    }

    /// <summary>A label with spaces or other specials must be quoted in a peer= condition.</summary>
    private static string Quote(string label) =>
        label.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/') ? label : "\"" + label.Replace("\"", "", StringComparison.Ordinal) + "\"";
}
